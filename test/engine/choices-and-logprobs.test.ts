// n > 1 choices (one prefill, KV forked with seq_cp) and per-token log-probabilities, in-process
// on tiny-qwen2 (real Qwen2 vocab, random weights).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Scheduler } from "../../src/engine/scheduler.ts";
import type { GenerateEvent, GenerateRequest, TokenLogprob } from "../../src/engine/types.ts";
import { LlamaModel } from "../../src/llama/index.ts";
import { generatedModel } from "../helpers/models.ts";

let model: LlamaModel;
beforeAll(async () => {
  model = LlamaModel.load(await generatedModel("tiny-qwen2"));
});
afterAll(() => model?.dispose());

const options = { nCtx: 2048, parallel: 2, nBatch: 64, threads: 1, queueSize: 16 };
const prompt = "Once upon a time, in a land of rivers and mountains, there lived ".repeat(3);

function request(extra: Partial<GenerateRequest> & { temperature?: number; seed?: number | null } = {}): GenerateRequest {
  const { temperature = 0, seed = 1, ...rest } = extra;
  return {
    prompt: [{ text: prompt, parseSpecial: false }],
    addSpecial: true,
    maxTokens: 12,
    stop: [],
    ignoreEos: true,
    cachePrompt: false,
    sampling: { temperature, topK: 0, topP: 1, minP: 0, seed, repeatPenalty: 1, presencePenalty: 0, frequencyPenalty: 0, penaltyLastN: 64, logitBias: [] },
    ...rest,
  };
}

interface Choice {
  tokens: number[];
  logprobs: TokenLogprob[];
  done?: Extract<GenerateEvent, { kind: "done" }>;
}

/** Runs one request to its end on a fresh scheduler; counts the tokens every decode was given. */
function run(req: GenerateRequest, opts = options): { choices: Choice[]; decoded: number; error?: string } {
  const s = new Scheduler(model, opts);
  let decoded = 0;
  const decode = s.ctx.decode.bind(s.ctx);
  s.ctx.decode = batch => {
    decoded += batch.size;
    decode(batch);
  };
  const choices: Choice[] = [];
  let error: string | undefined;
  s.submit("r", req, ev => {
    if (ev.kind === "error") error = ev.message;
    if (ev.kind !== "text" && ev.kind !== "done") return;
    const c = (choices[ev.index ?? 0] ??= { tokens: [], logprobs: [] });
    c.tokens.push(...ev.tokens);
    c.logprobs.push(...(ev.logprobs ?? []));
    if (ev.kind === "done") c.done = ev;
  });
  for (let i = 0; s.hasWork(); i++) {
    s.step();
    if (i > 10_000) throw new Error("did not finish");
  }
  s.dispose();
  return { choices, decoded, error };
}

const promptLength = () => model.vocab.tokenize(prompt, true, false).length;

test("n = 4 greedy: four choices equal to n = 1, and the prompt is decoded once", () => {
  const one = run(request());
  const four = run(request({ n: 4 }));
  expect(four.error).toBeUndefined();
  expect(four.choices).toHaveLength(4);
  for (const c of four.choices) expect(c.tokens).toEqual(one.choices[0]!.tokens);
  // One prefill of P tokens, then each choice decodes its sampled tokens but the last.
  const P = promptLength();
  expect(one.decoded).toBe(P + 11);
  expect(four.decoded).toBe(P + 4 * 11);
  // The prompt counts once (choice 0); every choice counts its own tokens.
  expect(four.choices.map(c => c.done!.usage.promptTokens)).toEqual([P, 0, 0, 0]);
  expect(four.choices.map(c => c.done!.usage.completionTokens)).toEqual([12, 12, 12, 12]);
  expect(four.choices[0]!.done!.timings.promptN).toBe(P);
});

test("seeded n = 3 gives the choices of three n = 1 requests with seeds s, s+1, s+2", () => {
  const s = 1234;
  const three = run(request({ n: 3, temperature: 1, seed: s }));
  const alone = [0, 1, 2].map(i => run(request({ temperature: 1, seed: s + i })).choices[0]!.tokens);
  expect(three.choices.map(c => c.tokens)).toEqual(alone);
  // Different seeds really do give different choices here (or the test above proves nothing).
  expect(new Set(alone.map(t => t.join(","))).size).toBeGreaterThan(1);
});

test("n beyond the choice sequences is refused before anything runs", () => {
  const r = run(request({ n: 3 }), { ...options, choiceSeqs: 1 } as typeof options);
  expect(r.error).toMatch(/n must be between 1 and 2/);
  expect(r.decoded).toBe(0);
});

test("two n > 1 requests that need more choice sequences than exist run one after the other", () => {
  const s = new Scheduler(model, { ...options, choiceSeqs: 3 } as typeof options);
  const done: string[] = [];
  for (const id of ["a", "b"]) s.submit(id, request({ n: 3 }), ev => ev.kind === "done" && done.push(`${id}${ev.index}`));
  for (let i = 0; s.hasWork() && i < 10_000; i++) s.step();
  s.dispose();
  expect(done.sort()).toEqual(["a0", "a1", "a2", "b0", "b1", "b2"]);
});

test("logprobs: the log-softmax of the raw logits; greedy picks the top alternative; sorted; only when asked", () => {
  const plain = run(request());
  expect(plain.choices[0]!.logprobs).toEqual([]);
  const r = run(request({ logprobs: 5 }));
  const lps = r.choices[0]!.logprobs;
  expect(lps.map(l => l.token)).toEqual(r.choices[0]!.tokens);
  expect(lps.map(l => l.token)).toEqual(plain.choices[0]!.tokens);
  for (const l of lps) {
    expect(l.top).toHaveLength(5);
    expect(l.top[0]!.token).toBe(l.token);
    expect(l.top[0]!.logprob).toBeCloseTo(l.logprob, 6);
    for (let i = 1; i < 5; i++) expect(l.top[i]!.logprob).toBeLessThanOrEqual(l.top[i - 1]!.logprob);
    expect(l.logprob).toBeLessThanOrEqual(0);
    const mass = l.top.reduce((m, a) => m + Math.exp(a.logprob), 0);
    expect(mass).toBeLessThanOrEqual(1 + 1e-6);
    expect(l.bytes).toEqual(Array.from(model.vocab.pieceBytes(l.token)));
  }
  // Temperature changes what is sampled, not the reported (model) distribution of a given step.
  const hot = run(request({ logprobs: 3, temperature: 1.5, seed: 7 }));
  expect(hot.choices[0]!.logprobs[0]!.top.map(a => a.token)).toEqual(lps[0]!.top.slice(0, 3).map(a => a.token));
  expect(hot.choices[0]!.logprobs[0]!.top[0]!.logprob).toBeCloseTo(lps[0]!.top[0]!.logprob, 5);
});

test("logprobs travel with their text: held-back tokens wait, a stop string's tokens are dropped", () => {
  const whole = run(request({ maxTokens: 24, logprobs: 0 }));
  const text = new TextDecoder().decode(Uint8Array.from(whole.choices[0]!.logprobs.flatMap(l => l.bytes)));
  // A stop string from the middle of the greedy answer: the answer ends before it.
  const stop = text.slice(Math.floor(text.length / 2), Math.floor(text.length / 2) + 3);
  const s = new Scheduler(model, options);
  let sent = "";
  const lps: TokenLogprob[] = [];
  s.submit("r", request({ maxTokens: 24, logprobs: 0, stop: [stop] }), ev => {
    if (ev.kind !== "text" && ev.kind !== "done") return;
    sent += ev.text;
    lps.push(...(ev.logprobs ?? []));
    // Every event's log-probabilities start no later than the text sent so far.
    const starts = new TextDecoder().decode(Uint8Array.from(lps.slice(0, -1).flatMap(l => l.bytes)));
    expect(Buffer.byteLength(sent)).toBeGreaterThanOrEqual(Buffer.byteLength(starts));
  });
  while (s.hasWork()) s.step();
  s.dispose();
  expect(sent).toBe(text.slice(0, text.indexOf(stop)));
  const joined = new TextDecoder().decode(Uint8Array.from(lps.flatMap(l => l.bytes)));
  expect(joined.startsWith(sent)).toBe(true);
  // At most the token that straddles the stop string goes past the answer.
  const withoutLast = new TextDecoder().decode(Uint8Array.from(lps.slice(0, -1).flatMap(l => l.bytes)));
  expect(withoutLast.length).toBeLessThan(sent.length + (sent.length === 0 ? 1 : 0));
});

test("cancelling an n = 3 request mid-way ends every choice with one error and frees their sequences", () => {
  const s = new Scheduler(model, { ...options, choiceSeqs: 2 } as typeof options);
  const events: string[] = [];
  s.submit("a", request({ n: 3, maxTokens: 200 }), ev => events.push(ev.kind === "error" ? `error:${ev.code}` : ev.kind));
  for (let i = 0; i < 5; i++) s.step();
  s.cancel("a");
  for (let i = 0; s.hasWork() && i < 100; i++) s.step();
  expect(s.hasWork()).toBe(false);
  expect(events.filter(e => e.startsWith("error"))).toEqual(["error:cancelled"]);
  expect(events).not.toContain("done");
  // The choice sequences are free again: the same request runs to its end.
  const done: number[] = [];
  s.submit("b", request({ n: 3 }), ev => ev.kind === "done" && done.push(ev.index!));
  for (let i = 0; s.hasWork() && i < 1000; i++) s.step();
  s.dispose();
  expect(done.sort()).toEqual([0, 1, 2]);
});
