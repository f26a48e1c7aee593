// The runner: a child process that owns one model's llama context and runs its token loop.
//
// Why a process and not a Worker: a GGML_ASSERT in llama.cpp calls abort(), which kills the
// whole process. Here that costs one model's in-flight requests; the supervisor (RunnerEngine)
// answers them with a clean error and starts a new runner.
import { LlamaModel, addRpcServer, drainNativeLog, listDevices, takeLayerPlacement } from "../llama/index.ts";
import { setLogLevel } from "../util/log.ts";
import type { FromRunner, RunnerConfig, ToRunner } from "./runner-protocol.ts";
import { loadModeFor } from "./load-mode.ts";
import { summarizePlacement } from "./placement.ts";
import { probeWorkers } from "./rpc-workers.ts";
import { Embedder, POOLING_NAMES } from "./embedder.ts";
import { Scheduler } from "./scheduler.ts";
import type { GenerateEvent, ModelInfo } from "./types.ts";

const send = (message: FromRunner) => process.send!(message);

export async function runnerMain(): Promise<void> {
  let model = null as LlamaModel | null;
  let scheduler = null as Scheduler | null;
  let embedder = null as Embedder | null;
  let pooling = 0;
  let outbox: Array<[string, GenerateEvent]> = [];
  let wake: (() => void) | null = null;
  let running = true;

  const flush = () => {
    if (outbox.length === 0) return;
    send({ type: "events", events: outbox });
    outbox = [];
  };

  const init = async (config: RunnerConfig) => {
    if (config.verbose) setLogLevel("debug");
    try {
      // ggml aborts on a worker it cannot reach, and waits forever on a busy one: probe first.
      if (config.rpc?.length) {
        await probeWorkers(config.rpc);
        for (const endpoint of config.rpc) addRpcServer(endpoint);
      }
      model = LlamaModel.load(config.modelPath, {
        gpuLayers: config.gpuLayers,
        loadMode: loadModeFor(config.modelPath, config.loadMode),
        tensorSplit: config.tensorSplit,
        progressFd: config.reportProgress === false ? -1 : 2,
      });
      const devices = summarizePlacement(takeLayerPlacement(), listDevices(), model.nLayer);
      const nCtx = config.nCtx > 0 ? config.nCtx : Math.min(model.nCtxTrain, 4096);
      // A model that declares a pooling type is an embedding model: it gets an embeddings
      // context and no token loop (an encoder such as BERT cannot generate at all).
      pooling = model.declaredPooling;
      if (pooling !== 0) {
        embedder = new Embedder(model, { nCtx: Math.min(nCtx, model.nCtxTrain || nCtx), threads: config.threads });
      } else {
        scheduler = new Scheduler(model, {
          nCtx,
          parallel: config.parallel,
          nBatch: config.nBatch,
          threads: config.threads,
          queueSize: config.queueSize,
        });
      }
      const vocab = model.vocab;
      const info: ModelInfo = {
        nCtx: scheduler?.slotCtx ?? embedder!.maxTokens,
        nCtxTrain: model.nCtxTrain,
        nVocab: vocab.nTokens,
        nParams: model.nParams,
        sizeBytes: model.sizeBytes,
        description: model.description,
        chatTemplate: model.chatTemplate(),
        bosText: vocab.bos >= 0 ? vocab.text(vocab.bos) : "",
        eosText: vocab.eos >= 0 ? vocab.text(vocab.eos) : "",
        metadata: model.metadata(),
        devices,
        maxChoices: scheduler?.maxChoices ?? 1,
        pooling: POOLING_NAMES[pooling] ?? null,
        ...(embedder ? { nEmbd: embedder.width } : {}),
      };
      send({ type: "ready", info });
    } catch (err) {
      drainNativeLog();
      send({ type: "failed", message: (err as Error).message });
      process.exit(1);
    }
  };

  process.on("message", (message: ToRunner) => {
    switch (message.type) {
      case "init":
        void init(message.config);
        break;
      case "generate":
        if (!scheduler) {
          outbox.push([message.id, { kind: "error", code: "invalid_request", message: "this is an embedding model: it serves /v1/embeddings, not text generation" }]);
        }
        scheduler?.submit(message.id, message.request, ev => outbox.push([message.id, ev]));
        flush();
        break;
      case "cancel":
        scheduler?.cancel(message.id);
        break;
      case "tokenize":
        reply(message.id, () => Array.from(model!.vocab.tokenize(message.text, message.addSpecial, message.parseSpecial)));
        break;
      case "tokenize-prompt":
        reply(message.id, () => {
          if (!scheduler) throw new Error("this is an embedding model: it serves /v1/embeddings, not text generation");
          return scheduler.tokenizePrompt({ prompt: message.prompt, addSpecial: message.addSpecial });
        });
        break;
      case "detokenize":
        reply(message.id, () => model!.vocab.detokenize(message.tokens));
        break;
      case "pieces":
        reply(message.id, () => message.tokens.map(t => Array.from(model!.vocab.pieceBytes(t, true))));
        break;
      case "embed":
        reply(message.id, () => {
          if (!embedder) throw new Error("this model cannot produce embeddings: it declares no pooling type (a generative model)");
          if (pooling === 4) throw new Error("this is a reranking model (rank pooling): it scores pairs, it does not produce embeddings");
          const { vectors, promptTokens } = embedder.embed(message.inputs);
          return { vectors: vectors.map(v => Array.from(v)), promptTokens };
        });
        break;
      case "shutdown":
        running = false;
        break;
    }
    wake?.();
  });
  process.on("disconnect", () => process.exit(0));
  // Ctrl-C and service managers signal the whole process group. The supervisor decides when a
  // runner stops (graceful shutdown lets running streams finish first) and tells it over IPC; if
  // the supervisor dies, "disconnect" above ends the runner.
  process.on("SIGINT", () => {});
  process.on("SIGTERM", () => {});

  function reply(id: string, fn: () => unknown) {
    try {
      send({ type: "reply", id, result: fn() });
    } catch (err) {
      send({ type: "reply", id, error: (err as Error).message });
    }
  }

  // The token loop: one step, send what it produced, let IPC messages in, repeat.
  // Status goes out when slots or queue change; the KV fill alone at most every 250 ms.
  let lastStatus = "";
  let lastKv = -1;
  let lastStatusAt = 0;
  while (running) {
    const worked = scheduler?.step() ?? false;
    flush();
    if (scheduler) {
      const status = `${scheduler.slotsBusy}/${scheduler.queued}`;
      const kvTokens = scheduler.kvTokens;
      const now = performance.now();
      if (status !== lastStatus || (kvTokens !== lastKv && now - lastStatusAt > 250)) {
        lastStatus = status;
        lastKv = kvTokens;
        lastStatusAt = now;
        send({ type: "status", slotsBusy: scheduler.slotsBusy, queued: scheduler.queued, kvTokens, kvCapacity: scheduler.kvCapacity });
      }
    }
    if (worked || scheduler?.hasWork()) {
      await new Promise(resolve => setImmediate(resolve));
    } else {
      await new Promise<void>(resolve => (wake = resolve));
      wake = null;
    }
  }
  // Unloading: every job still running ends with an error event, delivered before we exit.
  scheduler?.dispose();
  embedder?.dispose();
  model?.dispose();
  flush();
  await Bun.sleep(50);
  process.exit(0);
}
