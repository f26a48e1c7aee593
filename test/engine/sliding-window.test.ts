// Prefix reuse on a sliding-window model: a tiny Gemma 3 (random weights, window 8 on every other
// layer) imported from a generated checkpoint. Its SWA cache hands the cells of positions that fell
// out of a sequence's window to other sequences, so a slot may no longer hold the window before a
// shorter prefix of what it cached. The scheduler must then prefill again rather than attend over
// a hole, and must still reuse a prefix whose window is intact.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { Scheduler } from "../../src/engine/scheduler.ts";
import type { GenerateRequest } from "../../src/engine/types.ts";
import { importCheckpoint } from "../../src/import/import.ts";
import { LlamaModel } from "../../src/llama/index.ts";
import { checkpoint, cleanup, tempRoot } from "../import/checkpoints.ts";
import { greedyRequest, runAll, type Outcome } from "./scheduler-driver.ts";

const WINDOW = 8;
let model: LlamaModel;
beforeAll(() => {
  const dir = checkpoint("gemma3", ["--sliding-window", String(WINDOW)], "gemma3-swa");
  const gguf = join(tempRoot(), "gemma3-swa.gguf");
  importCheckpoint({ src: dir, out: gguf, quant: "f32" });
  model = LlamaModel.load(gguf);
});
afterAll(() => {
  model?.dispose();
  cleanup();
});

const options = { nCtx: 512, parallel: 2, nBatch: 128, threads: 1, queueSize: 4 };

/** `n` token ids, different for each seed. */
const ids = (n: number, seed: number) => Array.from({ length: n }, (_, i) => 1000 + ((i * 7919 + seed * 104729) % 50000));

function request(prompt: number[], maxTokens: number): GenerateRequest {
  return { ...greedyRequest("", maxTokens), prompt, addSpecial: false };
}

function alone(r: GenerateRequest): Outcome {
  const s = new Scheduler(model, options);
  const [out] = runAll(s, [r]);
  s.dispose();
  return out!;
}

test("the model has sliding-window layers", () => {
  expect(model.nSwa).toBe(WINDOW);
});

test("a prefix whose window was given away is prefilled again; one whose window is intact is reused", () => {
  const a = ids(100, 1);
  const x = request(ids(20, 2), 4);
  const first = request(a, 4);
  const other = request(ids(100, 3), 4);
  // Shares A's first 50 tokens: the window before position 50 lies where Y's prefill went.
  const b = request([...a.slice(0, 50), ...ids(30, 4)], 8);
  // Extends B's prompt, right after B ran in the same slot: its window is all there.
  const c = request([...b.prompt as number[], ...ids(10, 5)], 8);

  const s = new Scheduler(model, options);
  // X takes slot 0 and A slot 1 (the least recently used). Y replaces X in slot 0: its prefill
  // starts at X's freed cells and goes on into A's cells outside A's window.
  for (const r of [x, first, other]) expect(runAll(s, [r])[0]!.error).toBeUndefined();
  expect(s.ctx.seqPosMin(1)).toBeGreaterThan(50 - WINDOW + 1);

  const [gotB] = runAll(s, [b]);
  expect(gotB!.text).toBe(alone(b).text);
  expect(gotB!.done!.usage.cachedTokens).toBe(0);

  const [gotC] = runAll(s, [c]);
  expect(gotC!.text).toBe(alone(c).text);
  expect(gotC!.done!.usage.cachedTokens).toBe(80);
  s.dispose();
});
