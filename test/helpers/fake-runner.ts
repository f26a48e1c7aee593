// A stand-in for the runner process (src/engine/runner.ts) in tests of its supervisor: it speaks
// the same IPC protocol (src/engine/runner-protocol.ts) and loads nothing, so a test drives a
// model through its lifecycle in milliseconds. Start it with RunnerEngine's `command` option
// (fakeRunnerCommand). What a generation does is chosen by its prompt text:
//   "crash"  the runner writes a ggml-style abort line to stderr and dies (SIGKILL), mid-request
//   "hold"   one piece of text, then nothing until the request is cancelled (a busy slot)
//   other    "fake answer", finish_reason "stop"
// At init it probes the config's RPC workers and fails the load naming one that does not answer,
// as the real runner does; a model file named *broken* fails to load.
import { writeSync } from "node:fs";
import { basename } from "node:path";
import { probeWorkers } from "../../src/engine/rpc-workers.ts";
import type { FromRunner, RunnerConfig, ToRunner } from "../../src/engine/runner-protocol.ts";
import type { GenerateRequest, ModelInfo } from "../../src/engine/types.ts";

export const fakeRunnerCommand = [process.execPath, import.meta.path];

function main(): void {
  const send = (message: FromRunner) => process.send!(message);
  const held = new Set<string>();
  let kvCapacity = 0;
  const status = () => send({ type: "status", slotsBusy: held.size, queued: 0, kvTokens: held.size * 8, kvCapacity });

  const init = async (config: RunnerConfig) => {
    try {
      if (config.rpc?.length) await probeWorkers(config.rpc, 2000);
      if (basename(config.modelPath).includes("broken")) throw new Error(`${config.modelPath}: not a model the fake runner loads`);
    } catch (err) {
      send({ type: "failed", message: (err as Error).message });
      process.exit(1);
    }
    kvCapacity = config.nCtx || 256;
    const info: ModelInfo = {
      nCtx: kvCapacity,
      nCtxTrain: 4096,
      nVocab: 256,
      nParams: 1000,
      sizeBytes: 1000,
      description: "fake runner",
      chatTemplate: null,
      bosText: "",
      eosText: "",
      metadata: { "general.architecture": "llama" },
      devices: [{ name: "CPU", type: "cpu", endpoint: null, layers: 2, first_layer: 0, last_layer: 1, output: true }],
      maxChoices: config.parallel,
    };
    send({ type: "ready", info });
  };

  const generate = (id: string, request: GenerateRequest) => {
    const text = request.prompt.map(p => (typeof p === "number" ? String.fromCharCode(p) : p.text)).join("");
    const usage = { promptTokens: text.length, completionTokens: 2, cachedTokens: 0 };
    const timings = { promptN: text.length, promptMs: 1, predictedN: 2, predictedMs: 1 };
    if (text.includes("crash")) {
      writeSync(2, "ggml/src/ggml.c:1234: GGML_ASSERT(fake) failed\n");
      process.kill(process.pid, "SIGKILL");
    }
    if (text.includes("hold")) {
      held.add(id);
      status(); // before the text, so a client that has read it sees the busy slot
      send({ type: "events", events: [[id, { kind: "accepted", promptTokens: text.length }], [id, { kind: "text", text: "held", tokens: [1] }]] });
      return;
    }
    send({
      type: "events",
      events: [
        [id, { kind: "accepted", promptTokens: text.length }],
        [id, { kind: "text", text: "fake", tokens: [1] }],
        [id, { kind: "done", text: " answer", tokens: [2], finishReason: "stop", usage, timings }],
      ],
    });
  };

  const reply = (id: string, result: unknown) => send({ type: "reply", id, result });

  process.on("message", (message: ToRunner) => {
    switch (message.type) {
      case "init":
        void init(message.config);
        break;
      case "generate":
        generate(message.id, message.request);
        break;
      case "cancel":
        if (held.delete(message.id)) {
          status();
          send({ type: "events", events: [[message.id, { kind: "error", code: "cancelled", message: "cancelled" }]] });
        }
        break;
      case "tokenize":
        reply(message.id, Array.from(message.text, c => c.charCodeAt(0)));
        break;
      case "tokenize-prompt":
        reply(message.id, Array.from(message.prompt.map(p => p.text).join(""), c => c.charCodeAt(0)));
        break;
      case "detokenize":
        reply(message.id, String.fromCharCode(...message.tokens));
        break;
      case "pieces":
        reply(message.id, message.tokens.map(t => [t]));
        break;
      case "embed":
        send({ type: "reply", id: message.id, error: "the fake runner does not embed" });
        break;
      case "shutdown": {
        const events = [...held].map((id): [string, { kind: "error"; code: "engine_failure"; message: string }] => [id, { kind: "error", code: "engine_failure", message: "the model was unloaded" }]);
        if (events.length) send({ type: "events", events });
        setTimeout(() => process.exit(0), 10);
        break;
      }
    }
  });
  process.on("disconnect", () => process.exit(0));
}

if (import.meta.main) main();
