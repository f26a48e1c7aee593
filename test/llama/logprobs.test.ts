// The shim's log-probabilities (hearth_logprobs) against a plain float64 log-softmax of the same
// logits, on tiny-qwen2's 151,936-token vocabulary; and what they cost per token.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Batch, LlamaContext, LlamaModel } from "../../src/llama/index.ts";
import { generatedModel } from "../helpers/models.ts";

let model: LlamaModel;
let ctx: LlamaContext;
/** Batch index of the prompt's last token: the one with logits. */
let last = 0;
beforeAll(async () => {
  model = LlamaModel.load(await generatedModel("tiny-qwen2"));
  ctx = new LlamaContext(model, { nCtx: 256, nBatch: 64, nSeqMax: 1, threads: 1 });
  const ids = model.vocab.tokenize("The weather today is", true, false);
  const batch = new Batch(64);
  ids.forEach((t, i) => batch.add(t, i, 0, i === ids.length - 1));
  last = ids.length - 1;
  ctx.decode(batch);
});
afterAll(() => {
  ctx?.dispose();
  model?.dispose();
});

function reference(logits: Float32Array) {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - max);
  const logZ = max + Math.log(sum);
  const order = Array.from(logits.keys()).sort((a, b) => logits[b]! - logits[a]! || a - b);
  return { logZ, order };
}

test("equal to a float64 log-softmax: the token's value, the top k in order", () => {
  const logits = ctx.logitsView(last).slice();
  const { logZ, order } = reference(logits);
  for (const [token, k] of [[order[0]!, 20], [order[500]!, 5], [123, 0], [order.at(-1)!, 1]] as const) {
    const { logprob, top } = ctx.logprobs(last, token, k);
    expect(logprob).toBeCloseTo(logits[token]! - logZ, 4);
    expect(top.map(([t]) => t)).toEqual(order.slice(0, k));
    top.forEach(([t, lp]) => expect(lp).toBeCloseTo(logits[t]! - logZ, 4));
  }
  // All of them sum to one.
  expect(order.reduce((s, t) => s + Math.exp(logits[t]! - logZ), 0)).toBeCloseTo(1, 6);
});

test("no logits at that index → a RangeError, not a crash", () => {
  expect(() => ctx.logprobs(0, 1, 3)).toThrow(RangeError);
  expect(() => ctx.logprobs(last, -1, 3)).toThrow(RangeError);
});

test("cost per token on a 151,936-token vocabulary (printed; only for requests that ask)", () => {
  const t0 = performance.now();
  for (let i = 0; i < 100; i++) ctx.logprobs(last, 5, 20);
  const ms = (performance.now() - t0) / 100;
  console.log(`  hearth_logprobs, k = 20: ${ms.toFixed(3)} ms per token`);
  expect(ms).toBeLessThan(50);
});
