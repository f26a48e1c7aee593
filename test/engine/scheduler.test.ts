// The scheduler in-process (no HTTP, no runner): prefix sharing between slots, and a KV cache
// too small for every request at once, on tiny-qwen2 (real Qwen2 vocab, random weights).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Scheduler } from "../../src/engine/scheduler.ts";
import { LlamaModel } from "../../src/llama/index.ts";
import { generatedModel } from "../helpers/models.ts";
import { greedyRequest as request, runAll } from "./scheduler-driver.ts";

let model: LlamaModel;
beforeAll(async () => {
  model = LlamaModel.load(await generatedModel("tiny-qwen2"));
});
afterAll(() => model?.dispose());

const options = { nCtx: 4096, parallel: 4, nBatch: 64, threads: 1, queueSize: 16 };
const shared = "Shared instructions for every request: ".repeat(20);

test("concurrent prompts with a common prefix prefill it once and give the same tokens as alone", () => {
  const questions = ["What is one?", "And two?", "Three, then?"];
  const alone = questions.map(q => {
    const s = new Scheduler(model, options);
    const [r] = runAll(s, [request(shared + q, 16)]);
    s.dispose();
    return r!;
  });
  const s = new Scheduler(model, options);
  const together = runAll(s, questions.map(q => request(shared + q, 16)));
  s.dispose();
  expect(together.map(r => r.text)).toEqual(alone.map(r => r.text));
  const prefixTokens = model.vocab.tokenize(shared, true, false).length;
  // The first computes the prefix; the others borrow it from its slot.
  const cached = together.map(r => r.done!.usage.cachedTokens).sort((a, b) => a - b);
  expect(cached[0]).toBe(0);
  expect(cached[1]).toBeGreaterThanOrEqual(prefixTokens - 2);
  expect(cached[2]).toBeGreaterThanOrEqual(prefixTokens - 2);
});

test("a KV cache too small for all requests at once: later prompts wait, none fail, tokens unchanged", () => {
  const prompts = ["First story about rivers and lakes", "Second story about mountains", "Third story about deserts and sand dunes"].map(p => p + " ".repeat(1) + "and more ".repeat(25));
  const alone = prompts.map(p => {
    const s = new Scheduler(model, options);
    const [r] = runAll(s, [request(p, 40)]);
    s.dispose();
    return r!.text;
  });
  const tight = new Scheduler(model, { ...options, nCtx: 256 });
  const results = runAll(tight, prompts.map(p => request(p, 40)));
  tight.dispose();
  expect(results.map(r => r.error)).toEqual([undefined, undefined, undefined]);
  expect(results.map(r => r.text)).toEqual(alone);
});
