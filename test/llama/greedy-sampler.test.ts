// The fused greedy pick (hearth_sample_greedy, used for logit bias + temperature 0) against
// llama.cpp's own chain of the same samplers run over the full candidates array, on tiny-qwen2's
// 151,936-token vocabulary: same token at every step, with no bias, with the favourite banned,
// with a boosted outsider, and on exact ties (greedy keeps the lowest id).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Batch, LlamaContext, LlamaModel, Sampler, defaultSampling, type SamplingParams } from "../../src/llama/index.ts";
import { generatedModel } from "../helpers/models.ts";

let model: LlamaModel;
let ctx: LlamaContext;
beforeAll(async () => {
  model = LlamaModel.load(await generatedModel("tiny-qwen2"));
  ctx = new LlamaContext(model, { nCtx: 256, nBatch: 64, nSeqMax: 1, threads: 1 });
});
afterAll(() => {
  ctx?.dispose();
  model?.dispose();
});

const greedy = (logitBias?: Map<number, number>): SamplingParams => ({ ...defaultSampling, temperature: 0, logitBias });

/** Decodes the prompt; returns the batch index whose logits are sampled. */
function decodePrompt(text: string): number {
  ctx.clearMemory();
  const ids = model.vocab.tokenize(text, true, false);
  const batch = new Batch(64);
  ids.forEach((t, i) => batch.add(t, i, 0, i === ids.length - 1));
  ctx.decode(batch);
  return ids.length - 1;
}

/** The pick of llama.cpp's chain over all candidates (keepCandidates takes that path) and the fused one. */
function bothPicks(i: number, bias?: Map<number, number>): { chain: number; fused: number } {
  const chain = new Sampler(model.vocab, { ...greedy(bias), keepCandidates: true });
  const fused = new Sampler(model.vocab, greedy(bias));
  try {
    return { chain: chain.sample(ctx.ptr, i), fused: fused.sample(ctx.ptr, i) };
  } finally {
    chain.dispose();
    fused.dispose();
  }
}

/** Ids of the logits, largest first. */
function ranked(logits: Float32Array): number[] {
  return Array.from(logits.keys()).sort((a, b) => logits[b]! - logits[a]! || a - b);
}

const prompts = ["The weather today is", "Once upon a time", "1, 2, 3,", "<|im_start|>user\nhello"];

test.each(prompts)("the fused greedy pick equals llama.cpp's chain for %p, with and without biases", prompt => {
  const i = decodePrompt(prompt);
  const logits = ctx.logitsView(i).slice();
  const order = ranked(logits);
  const [first, second] = [order[0]!, order[1]!];
  const outsider = order[order.length - 1]!;
  const cases: Array<[string, Map<number, number> | undefined, number]> = [
    ["no bias", undefined, first],
    ["favourite banned", new Map([[first, -Infinity]]), second],
    ["favourite and runner-up banned", new Map([[first, -Infinity], [second, -Infinity]]), order[2]!],
    ["outsider boosted past the favourite", new Map([[outsider, logits[first]! - logits[outsider]! + 1]]), outsider],
    ["small biases elsewhere", new Map([[order[50]!, 0.01], [order[900]!, -3]]), first],
  ];
  for (const [name, bias, expected] of cases) {
    const { chain, fused } = bothPicks(i, bias);
    expect({ name, pick: fused }).toEqual({ name, pick: chain });
    expect({ name, pick: fused }).toEqual({ name, pick: expected });
  }
});

test("on an exact tie the lower id wins, as in llama.cpp's greedy sampler", () => {
  const i = decodePrompt("The weather today is");
  const logits = ctx.logitsView(i).slice();
  const best = ranked(logits)[0]!;
  // Raise another token exactly to the favourite's logit (a bias that float32 rounds exactly).
  const tieWith = (other: number) => {
    const bias = Math.fround(logits[best]! - logits[other]!);
    return Math.fround(logits[other]! + bias) === logits[best] ? new Map([[other, bias]]) : null;
  };
  const below = Array.from({ length: best }, (_, t) => t).find(t => tieWith(t));
  const above = Array.from({ length: logits.length - best - 1 }, (_, k) => best + 1 + k).find(t => tieWith(t));
  expect(below).toBeDefined();
  expect(above).toBeDefined();
  const low = bothPicks(i, tieWith(below!)!);
  expect(low).toEqual({ chain: below!, fused: below! });
  const high = bothPicks(i, tieWith(above!)!);
  expect(high).toEqual({ chain: best, fused: best });
});

test("exact ties among unbiased tokens, in one block of the scan or far apart, go to the lowest id", () => {
  // The shim finds the maximum block by block (1,024 logits) and searches only the first block that
  // holds it: ties are written into llama.cpp's logits buffer (the view is zero-copy) to reach it.
  const i = decodePrompt("The weather today is");
  const view = ctx.logitsView(i);
  const original = view.slice();
  const top = Math.max(...original) + 1;
  const tied = (ids: number[]) => {
    view.set(original);
    for (const t of ids) view[t] = top;
    return bothPicks(i);
  };
  try {
    for (const ids of [[5, 700], [1023, 1024], [130_000, 2_049], [151_935, 77_000, 76_999], [0, 151_935]]) {
      const lowest = Math.min(...ids);
      expect({ ids, pick: tied(ids) }).toEqual({ ids, pick: { chain: lowest, fused: lowest } });
    }
    // Every logit -inf: both take the first token.
    view.fill(-Infinity);
    expect(bothPicks(i)).toEqual({ chain: 0, fused: 0 });
  } finally {
    view.set(original);
  }
});

test("generated text is the same through both paths over 48 steps with end-of-text banned", () => {
  const run = (fused: boolean) => {
    decodePrompt("Once upon a time");
    const eog = new Map<number, number>();
    for (let t = 0; t < model.vocab.nTokens; t++) if (model.vocab.isEog(t)) eog.set(t, -Infinity);
    const sampler = new Sampler(model.vocab, { ...greedy(eog), keepCandidates: !fused });
    const batch = new Batch(64);
    const out: number[] = [];
    let pos = model.vocab.tokenize("Once upon a time", true, false).length;
    let index = pos - 1;
    try {
      for (let n = 0; n < 48; n++) {
        const token = sampler.sample(ctx.ptr, index);
        out.push(token);
        batch.clear();
        index = batch.add(token, pos++, 0, true);
        ctx.decode(batch);
      }
    } finally {
      sampler.dispose();
    }
    return out;
  };
  const fused = run(true);
  expect(fused).toEqual(run(false));
  expect(new Set(fused).size).toBeGreaterThan(1);
});
