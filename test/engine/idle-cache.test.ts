// Idle slot caches are kept for their conversation's next turn, and dropped once the engine has
// processed as many tokens for others as recomputing them would cost (src/engine/idle-cache.ts).
// In-process scheduler on tiny-qwen2 (real Qwen2 vocab, random weights), with a short lifetime.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { idleCacheLifetime } from "../../src/engine/idle-cache.ts";
import { Scheduler } from "../../src/engine/scheduler.ts";
import type { GenerateRequest } from "../../src/engine/types.ts";
import { LlamaModel } from "../../src/llama/index.ts";
import { generatedModel } from "../helpers/models.ts";
import { greedyRequest as request, runAll, type Outcome } from "./scheduler-driver.ts";

let model: LlamaModel;
beforeAll(async () => {
  model = LlamaModel.load(await generatedModel("tiny-qwen2"));
});
afterAll(() => model?.dispose());

/** Runs one request to its end (it must not fail). */
function run(scheduler: Scheduler, r: GenerateRequest): { text: string; done: NonNullable<Outcome["done"]> } {
  const [out] = runAll(scheduler, [r]);
  if (out!.error || !out!.done) throw new Error(out!.error ?? "no done event");
  return { text: out!.text, done: out!.done };
}

const LIFETIME = 300;
const options = { nCtx: 4096, parallel: 4, nBatch: 64, threads: 1, queueSize: 4, idleCacheTokens: LIFETIME };
const conversation = "A conversation that will come back for its next turn. ".repeat(8);
const other = "Somebody else's request, about something different. ".repeat(4);

for (const [label, otherTokens, kept] of [
  ["kept while others process fewer tokens than its lifetime", 40, true],
  ["dropped once others have processed its lifetime in tokens", LIFETIME + 40, false],
] as const) {
  test(`an idle cache is ${label}`, () => {
    const s = new Scheduler(model, options);
    const first = run(s, request(conversation, 8));
    const held = s.kvTokens;
    expect(held).toBe(first.done.usage.promptTokens + 8 - 1); // the last sampled token is never decoded
    const b = run(s, request(other, otherTokens));
    const bCells = b.done.usage.promptTokens + otherTokens - 1;
    // Other work went through another slot: the idle cache is either still there or gone, whole.
    expect(s.kvTokens).toBe(kept ? held + bCells : bCells);
    const again = run(s, request(conversation, 8));
    expect(again.done.usage.cachedTokens).toBe(kept ? first.done.usage.promptTokens - 1 : 0);
    // Reused or recomputed, the greedy answer is the same.
    expect(again.text).toBe(first.text);
    s.dispose();
  }, 60_000);
}

test("with no other traffic an idle cache is never dropped", () => {
  const s = new Scheduler(model, options);
  const first = run(s, request(conversation, 8));
  for (let i = 0; i < 1000; i++) s.step(); // idle steps do no work and age nothing
  expect(run(s, request(conversation, 8)).done.usage.cachedTokens).toBe(first.done.usage.promptTokens - 1);
  s.dispose();
});

test("the default lifetime is forward work over attention work per cached cell", () => {
  // Qwen2.5-0.5B's shape: 494M parameters, 24 layers, n_embd 896.
  expect(idleCacheLifetime({ nParams: 494_032_768, nLayer: 24, nEmbd: 896 })).toBe(11_487);
  expect(idleCacheLifetime(model)).toBe(Math.round((2 * model.nParams) / (4 * model.nLayer * model.nEmbd)));
});
