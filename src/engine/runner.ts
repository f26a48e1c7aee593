// The runner: a child process that owns one model's llama context and runs its token loop.
//
// Why a process and not a Worker: a GGML_ASSERT in llama.cpp calls abort(), which kills the
// whole process. Here that costs one model's in-flight requests; the supervisor (RunnerEngine)
// answers them with a clean error and starts a new runner.
//
// Threading: one JS thread. IPC messages are handled between steps (the loop yields with
// setImmediate while there is work, and sleeps on `wake` when there is none).
import { LlamaModel, addRpcServer, drainNativeLog, listDevices, takeLayerPlacement } from "../llama/index.ts";
import { log, setLogLevel } from "../util/log.ts";
import type { FromRunner, RunnerConfig, ToRunner } from "./runner-protocol.ts";
import { loadModeFor } from "./load-mode.ts";
import { summarizePlacement } from "./placement.ts";
import { probeWorkers } from "./rpc-workers.ts";
import { Embedder, POOLING_NAMES, RANK_POOLING } from "./embedder.ts";
import { Scheduler } from "./scheduler.ts";
import { openVision, visionReporter } from "./runner-vision.ts";
import { openRunnerCache, type PromptCache } from "./prompt-cache/prompt-cache.ts";
import { installLoopProbe, type LoopProbe } from "./loop-probe.ts";
import { Outbox } from "./outbox.ts";
import type { ModelInfo } from "./types.ts";

const send = (message: FromRunner) => process.send!(message);

const NOT_RERANKER = "this model is not a reranker: it declares no rank pooling (use a reranker GGUF such as BGE or Jina rerankers)";
const NOT_GENERATIVE = "this is an embedding model: it serves /v1/embeddings, not text generation";

/** One model's runner: `init` loads it, `handle` takes the supervisor's messages, `loop` decodes. */
export class Runner {
  private model: LlamaModel | null = null;
  private scheduler: Scheduler | null = null;
  private promptCache: PromptCache | null = null;
  private embedder: Embedder | null = null;
  private pooling = 0;
  /** Events since the last "events" message; sent each step, or held a while once a request streams (outbox.ts). */
  private outbox = new Outbox(0);
  private wake: (() => void) | null = null;
  /** Times the loop outside llama_decode when HEARTH_LOOP_PROBE is set (bench/token-cost.ts). */
  private probe: LoopProbe | null = null;
  /** Reports the vision encoder's counters when they change (vision models only). */
  private reportVision: (() => void) | null = null;
  private takesImages = false;
  private running = true;
  // What the supervisor last heard of slots, queue and KV fill (sent only when it changes).
  private lastBusy = -1;
  private lastQueued = -1;
  private lastKv = -1;
  private lastStatusAt = 0;

  /** Loads the model and answers "ready" with its description, or "failed" and exits. */
  async init(config: RunnerConfig): Promise<void> {
    if (config.verbose) setLogLevel("debug");
    this.outbox = new Outbox(config.streamIntervalMs ?? 0);
    try {
      // ggml aborts on a worker it cannot reach, and waits forever on a busy one: probe first.
      if (config.rpc?.length) {
        await probeWorkers(config.rpc);
        for (const endpoint of config.rpc) addRpcServer(endpoint);
      }
      const model = (this.model = LlamaModel.load(config.modelPath, {
        gpuLayers: config.gpuLayers,
        loadMode: loadModeFor(config.modelPath, config.loadMode),
        tensorSplit: config.tensorSplit,
        progressFd: config.reportProgress === false ? -1 : 2,
      }));
      const devices = summarizePlacement(takeLayerPlacement(), listDevices(), model.nLayer);
      // -c 0: the model's training context, capped as llama-server caps an unset context.
      const nCtx = config.nCtx > 0 ? config.nCtx : Math.min(model.nCtxTrain, 4096);
      // A model that declares a pooling type is an embedding model: it gets an embeddings
      // context and no token loop (an encoder such as BERT cannot generate at all).
      this.pooling = model.declaredPooling;
      if (this.pooling !== 0) {
        this.embedder = new Embedder(model, { nCtx: Math.min(nCtx, model.nCtxTrain || nCtx), threads: config.threads });
      } else {
        const kvCache = { typeK: config.cacheTypeK ?? "f16", typeV: config.cacheTypeV ?? "f16", flashAttn: config.flashAttn ?? "auto" } as const;
        // The projector first: the prompt cache's namespace covers the one loaded (named or paired).
        const vision = await this.openVision(config, model);
        this.scheduler = new Scheduler(model, {
          nCtx,
          parallel: config.parallel,
          nBatch: config.nBatch,
          threads: config.threads,
          queueSize: config.queueSize,
          nPredict: config.nPredict,
          kvCache,
          promptCache: (this.promptCache = openRunnerCache(config, kvCache, send, vision?.projector.path)),
          vision,
        });
        this.probe = installLoopProbe(this.scheduler.ctx);
      }
      send({ type: "ready", info: { ...this.describe(devices), nBatch: config.nBatch, nPredict: config.nPredict ?? -1 } });
    } catch (err) {
      drainNativeLog();
      send({ type: "failed", message: (err as Error).message });
      process.exit(1);
    }
  }

  private async openVision(config: RunnerConfig, model: LlamaModel) {
    const vision = await openVision(config, model, message => log("warn", message));
    this.takesImages = vision !== null;
    if (vision) this.reportVision = visionReporter(vision, send);
    return vision;
  }

  private describe(devices: ModelInfo["devices"]): ModelInfo {
    const model = this.model!;
    const vocab = model.vocab;
    return {
      nCtx: this.scheduler?.slotCtx ?? this.embedder!.maxTokens,
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
      maxChoices: this.scheduler?.maxChoices ?? 1,
      pooling: POOLING_NAMES[this.pooling] ?? null,
      ...(this.takesImages ? { vision: true } : {}),
      fim: fimTokens(vocab),
      eogTokens: Array.from({ length: vocab.nTokens }, (_, t) => t).filter(t => vocab.isEog(t)),
      ...(this.embedder ? { nEmbd: this.embedder.width } : {}),
    };
  }

  /** One message from the supervisor; wakes the loop afterwards. */
  handle(message: ToRunner): void {
    switch (message.type) {
      case "init":
        void this.init(message.config);
        break;
      case "generate":
        if (!this.scheduler) this.outbox.add(message.id, { kind: "error", code: "invalid_request", message: NOT_GENERATIVE });
        this.scheduler?.submit(message.id, message.request, ev => this.outbox.add(message.id, ev));
        this.flush();
        break;
      case "cancel":
        this.scheduler?.cancel(message.id);
        break;
      case "tokenize":
        this.reply(message.id, () => Array.from(this.model!.vocab.tokenize(message.text, message.addSpecial, message.parseSpecial)));
        break;
      case "tokenize-prompt":
        this.reply(message.id, () => {
          if (!this.scheduler) throw new Error(NOT_GENERATIVE);
          return this.scheduler.tokenizePrompt({ prompt: message.prompt, addSpecial: message.addSpecial, images: message.images });
        });
        break;
      case "detokenize":
        this.reply(message.id, () => this.model!.vocab.detokenize(message.tokens));
        break;
      case "pieces":
        this.reply(message.id, () => message.tokens.map(t => Array.from(this.model!.vocab.pieceBytes(t, true))));
        break;
      case "embed":
        this.reply(message.id, () => {
          if (!this.embedder) throw new Error("this model cannot produce embeddings: it declares no pooling type (a generative model)");
          if (this.pooling === RANK_POOLING) throw new Error("this is a reranking model (rank pooling): it scores pairs, it does not produce embeddings");
          const { vectors, promptTokens } = this.embedder.embed(message.inputs, message.normalize ?? true);
          return { vectors: vectors.map(v => Array.from(v)), promptTokens };
        });
        break;
      case "rerank":
        this.reply(message.id, () => {
          if (!this.embedder?.rank) throw new Error(NOT_RERANKER);
          return this.embedder.rerank(message.query, message.documents);
        });
        break;
      case "slot-action":
        this.reply(message.id, () => {
          if (!this.scheduler) throw new Error(NOT_GENERATIVE);
          return this.scheduler.slotAction(message.action);
        });
        break;
      case "shutdown":
        this.running = false;
        break;
    }
    this.wake?.();
  }

  private reply(id: string, fn: () => unknown): void {
    try {
      send({ type: "reply", id, result: fn() });
    } catch (err) {
      send({ type: "reply", id, error: (err as Error).message });
    }
  }

  /** Sends the outbox's events that are due (all of them with `force`) as one IPC message; true when it sent. */
  private flush(force = false): boolean {
    const events = this.outbox.take(performance.now(), force);
    if (events) send({ type: "events", events });
    return events !== null;
  }

  /**
   * Slots and queue whenever they change; the KV fill alone at most every 250 ms, and then beside
   * an events message (`withEvents`: the HTTP process is woken for that one anyway) unless a
   * second has passed without one.
   */
  private sendStatus(scheduler: Scheduler, withEvents: boolean): void {
    // Compared as numbers: this runs every step, between two decodes.
    const slotsBusy = scheduler.slotsBusy;
    const queued = scheduler.queued;
    const kvTokens = scheduler.kvTokens;
    const now = performance.now();
    const since = now - this.lastStatusAt;
    const kvDue = kvTokens !== this.lastKv && since > 250 && (withEvents || since > 1000);
    if (slotsBusy === this.lastBusy && queued === this.lastQueued && !kvDue) return;
    this.lastBusy = slotsBusy;
    this.lastQueued = queued;
    this.lastKv = kvTokens;
    this.lastStatusAt = now;
    send({ type: "status", slotsBusy, queued, kvTokens, kvCapacity: scheduler.kvCapacity });
  }

  /** The token loop: one step, send what it produced, let IPC messages in, repeat until shutdown. */
  async loop(): Promise<void> {
    while (this.running) {
      const scheduler = this.scheduler;
      const worked = scheduler?.step() ?? false;
      const sent = this.flush();
      if (scheduler) this.sendStatus(scheduler, sent);
      this.reportVision?.();
      if (worked || scheduler?.hasWork()) {
        await new Promise(resolve => setImmediate(resolve));
      } else {
        this.flush(true);
        this.probe?.idle();
        await new Promise<void>(resolve => (this.wake = resolve));
        this.wake = null;
      }
    }
    // Unloading: every job still running ends with an error event, delivered before we exit.
    this.scheduler?.dispose();
    // dispose() saved the slots' sequences: let those writes finish before the process exits.
    await this.promptCache?.drain();
    this.embedder?.dispose();
    this.model?.dispose();
    this.flush(true);
  }
}

/** The vocabulary's FIM tokens for ModelInfo (llama.cpp's -1 becomes null). */
function fimTokens(vocab: LlamaModel["vocab"]): NonNullable<ModelInfo["fim"]> {
  const id = (t: number) => (t >= 0 ? t : null);
  const f = vocab.fim;
  return { pre: id(f.pre), suf: id(f.suf), mid: id(f.mid), pad: id(f.pad), rep: id(f.rep), sep: id(f.sep), bos: id(vocab.bos), addBos: vocab.addBos };
}

export async function runnerMain(): Promise<void> {
  const runner = new Runner();
  process.on("message", (message: ToRunner) => runner.handle(message));
  process.on("disconnect", () => process.exit(0));
  // Ctrl-C and service managers signal the whole process group. The supervisor decides when a
  // runner stops (graceful shutdown lets running streams finish first) and tells it over IPC; if
  // the supervisor dies, "disconnect" above ends the runner.
  process.on("SIGINT", () => {});
  process.on("SIGTERM", () => {});
  await runner.loop();
  await Bun.sleep(50);
  process.exit(0);
}
