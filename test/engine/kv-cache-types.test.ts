// -ctk / -ctv / -fa reach the context: a q8_0 cache holds a sequence in about half the bytes of
// f16 and still generates; settings llama.cpp cannot use fail the load with a reason that names
// the flag (ours) or the model's head size (llama.cpp's own words).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Scheduler } from "../../src/engine/scheduler.ts";
import { LlamaModel } from "../../src/llama/index.ts";
import type { KvCacheSettings } from "../../src/llama/kv-cache-types.ts";
import { generatedModel } from "../helpers/models.ts";
import { greedyRequest, runAll } from "./scheduler-driver.ts";

let head32: LlamaModel;
let head16: LlamaModel;
beforeAll(async () => {
  head32 = LlamaModel.load(await generatedModel("tiny-qwen2-head32"));
  head16 = LlamaModel.load(await generatedModel("tiny-qwen2"));
});
afterAll(() => {
  head32?.dispose();
  head16?.dispose();
});

const options = { nCtx: 256, parallel: 1, nBatch: 64, threads: 1, queueSize: 4 };
const prompt = "The quick brown fox jumps over the lazy dog. ".repeat(4);

/** Bytes of the one sequence's state after a short greedy request, and the text it produced. */
function run(model: LlamaModel, kvCache: KvCacheSettings): { bytes: number; text: string } {
  const s = new Scheduler(model, { ...options, kvCache });
  try {
    const [out] = runAll(s, [greedyRequest(prompt, 8)]);
    expect(out!.error).toBeUndefined();
    return { bytes: s.ctx.seqStateSave(0).length, text: out!.text };
  } finally {
    s.dispose();
  }
}

test("a q8_0 K and V cache takes about half the bytes of f16", () => {
  const f16 = run(head32, { typeK: "f16", typeV: "f16", flashAttn: "on" });
  const q8 = run(head32, { typeK: "q8_0", typeV: "q8_0", flashAttn: "on" });
  expect(q8.text.length).toBeGreaterThan(0);
  // q8_0: 34 bytes per 32 elements against 64; the state's cell metadata is the same in both.
  const ratio = q8.bytes / f16.bytes;
  expect(ratio).toBeGreaterThan(0.45);
  expect(ratio).toBeLessThan(0.6);
  // f32 doubles it.
  const f32 = run(head32, { typeK: "f32", typeV: "f32", flashAttn: "off" });
  expect(f32.bytes / f16.bytes).toBeGreaterThan(1.8);
});

test("a quantized V cache without flash attention is refused, naming the flags", () => {
  expect(() => new Scheduler(head32, { ...options, kvCache: { typeK: "f16", typeV: "q4_0", flashAttn: "off" } })).toThrow(
    /--cache-type-v q4_0 needs flash attention/,
  );
});

test("a quantized type whose block does not divide the model's head size fails with llama.cpp's reason", () => {
  // tiny-qwen2 has heads of 16 elements; q8_0 blocks hold 32.
  expect(() => new Scheduler(head16, { ...options, kvCache: { typeK: "q8_0", typeV: "f16", flashAttn: "on" } })).toThrow(
    /could not create a context: .*q8_0.*32/,
  );
});
