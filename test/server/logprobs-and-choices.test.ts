// Log-probabilities and n > 1 over HTTP on stories260K: the same tokens and probabilities as
// llama-server (its /completion n_probs and its OpenAI chat shape), and the openai SDK reading them.
import { afterAll, beforeAll, expect, test } from "bun:test";
import OpenAI from "openai";
import { defaultModel } from "../helpers/paths.ts";
import { postJson, readSse, startHearth, startLlamaServer, type Running } from "../helpers/server.ts";

let hearth: Running;
let reference: Running;
let client: OpenAI;

beforeAll(async () => {
  [hearth, reference] = await Promise.all([
    startHearth(["--model", defaultModel, "--ctx-size", "2048", "--parallel", "2", "--threads", "1"]),
    startLlamaServer(["-m", defaultModel, "-c", "2048", "-np", "2", "-t", "1", "-kvu"]),
  ]);
  client = new OpenAI({ baseURL: `${hearth.url}/v1`, apiKey: "none", maxRetries: 0 });
});
afterAll(async () => {
  await Promise.all([hearth?.stop(), reference?.stop()]);
});

const model = "stories260K";
const TOLERANCE = 1e-3;

test("completions logprobs: same tokens, log-probabilities and top alternatives as llama-server's /completion n_probs", async () => {
  const prompt = "Once upon a time, there was a little";
  const [ours, theirs]: any[] = await Promise.all([
    postJson(`${hearth.url}/v1/completions`, { model, prompt, max_tokens: 24, temperature: 0, logprobs: 5 }).then(r => r.json()),
    postJson(`${reference.url}/completion`, { prompt, n_predict: 24, temperature: 0, n_probs: 5 }).then(r => r.json()),
  ]);
  const lp = ours.choices[0].logprobs;
  const ref = theirs.completion_probabilities;
  expect(lp.tokens.length).toBe(24);
  expect(lp.tokens).toEqual(ref.map((p: any) => p.token));
  expect(lp.tokens.join("")).toBe(ours.choices[0].text);
  lp.token_logprobs.forEach((v: number, i: number) => expect(Math.abs(v - ref[i].logprob)).toBeLessThan(TOLERANCE));
  lp.top_logprobs.forEach((top: Record<string, number>, i: number) => {
    const theirsTop = ref[i].top_logprobs as Array<{ token: string; logprob: number }>;
    expect(Object.keys(top).sort()).toEqual(theirsTop.map(t => t.token).sort());
    for (const t of theirsTop) expect(Math.abs(top[t.token]! - t.logprob)).toBeLessThan(TOLERANCE);
  });
  // text_offset: where each token starts in the choice's text.
  expect(lp.text_offset[0]).toBe(0);
  lp.text_offset.forEach((o: number, i: number) => expect(ours.choices[0].text.slice(o).startsWith(lp.tokens[i])).toBe(true));
});

test("chat logprobs: the same content[] as llama-server's OpenAI-compatible chat endpoint", async () => {
  const body = { model, messages: [{ role: "user", content: "Tell me about a dog" }], max_tokens: 16, temperature: 0, logprobs: true, top_logprobs: 3 };
  const [ours, theirs]: any[] = await Promise.all([
    postJson(`${hearth.url}/v1/chat/completions`, body).then(r => r.json()),
    postJson(`${reference.url}/v1/chat/completions`, body).then(r => r.json()),
  ]);
  const a = ours.choices[0].logprobs.content;
  const b = theirs.choices[0].logprobs.content;
  expect(a.length).toBe(b.length);
  expect(a.map((t: any) => t.token)).toEqual(b.map((t: any) => t.token));
  expect(a.map((t: any) => t.bytes)).toEqual(b.map((t: any) => t.bytes));
  a.forEach((t: any, i: number) => {
    expect(Math.abs(t.logprob - b[i].logprob)).toBeLessThan(TOLERANCE);
    expect(t.top_logprobs.map((x: any) => x.token).sort()).toEqual(b[i].top_logprobs.map((x: any) => x.token).sort());
  });
});

test("openai SDK: chat logprobs, non-streamed and streamed (per chunk, for the tokens in it)", async () => {
  const messages = [{ role: "user" as const, content: "Once upon a time" }];
  const full = await client.chat.completions.create({ model, messages, max_tokens: 20, temperature: 0, logprobs: true, top_logprobs: 2 });
  const content = full.choices[0]!.logprobs!.content!;
  expect(content.length).toBe(full.usage!.completion_tokens);
  expect(content.map(t => t.token).join("")).toBe(full.choices[0]!.message.content!);
  for (const t of content) {
    expect(t.top_logprobs).toHaveLength(2);
    expect(t.top_logprobs[0]!.token).toBe(t.token); // greedy takes the most likely token
    expect(Buffer.from(t.bytes!).toString()).toBe(t.token);
  }
  const stream = await client.chat.completions.create({ model, messages, max_tokens: 20, temperature: 0, logprobs: true, top_logprobs: 2, stream: true });
  const streamed: typeof content = [];
  let text = "";
  for await (const chunk of stream) {
    const c = chunk.choices[0];
    if (!c) continue;
    text += c.delta.content ?? "";
    if (c.logprobs?.content) {
      // A chunk's log-probabilities are those of the tokens whose text it carries.
      expect(c.logprobs.content.map(t => t.token).join("")).toBe(c.delta.content ?? "");
      streamed.push(...c.logprobs.content);
    }
  }
  expect(text).toBe(full.choices[0]!.message.content!);
  expect(streamed.map(t => t.token)).toEqual(content.map(t => t.token));
  // (The second request reuses the cached prompt, so its first step's logits differ in the last bits.)
  streamed.forEach((t, i) => expect(Math.abs(t.logprob - content[i]!.logprob)).toBeLessThan(TOLERANCE));
});

test("openai SDK: legacy completions logprobs, streamed too", async () => {
  const res = await client.completions.create({ model, prompt: "Lily and Tom", max_tokens: 12, temperature: 0, logprobs: 3 });
  const lp = res.choices[0]!.logprobs!;
  expect(lp.tokens!.join("")).toBe(res.choices[0]!.text);
  expect(lp.top_logprobs!.every(t => Object.keys(t).length === 3)).toBe(true);
  const stream = await client.completions.create({ model, prompt: "Lily and Tom", max_tokens: 12, temperature: 0, logprobs: 3, stream: true });
  const tokens: string[] = [];
  const offsets: number[] = [];
  for await (const chunk of stream) {
    tokens.push(...(chunk.choices[0]?.logprobs?.tokens ?? []));
    offsets.push(...(chunk.choices[0]?.logprobs?.text_offset ?? []));
  }
  expect(tokens).toEqual(lp.tokens!);
  expect(offsets).toEqual(lp.text_offset!);
});

test("logprobs are refused clearly where they cannot be honoured", async () => {
  const top = await postJson(`${hearth.url}/v1/chat/completions`, { model, messages: [{ role: "user", content: "hi" }], top_logprobs: 2 });
  expect(top.status).toBe(400);
  expect(((await top.json()) as any).error.param).toBe("top_logprobs");
  const many = await postJson(`${hearth.url}/v1/chat/completions`, { model, messages: [{ role: "user", content: "hi" }], logprobs: true, top_logprobs: 21 });
  expect(many.status).toBe(400);
  const echo = await postJson(`${hearth.url}/v1/completions`, { model, prompt: "hi", echo: true, logprobs: 1 });
  expect(echo.status).toBe(400);
  expect(((await echo.json()) as any).error.param).toBe("logprobs");
});

test("n = 4 greedy: four identical choices equal to n = 1; usage counts the prompt once and every choice's tokens", async () => {
  const messages = [{ role: "user" as const, content: "Tell me a story about a cat" }];
  const one = await client.chat.completions.create({ model, messages, max_tokens: 24, temperature: 0 });
  const four = await client.chat.completions.create({ model, messages, max_tokens: 24, temperature: 0, n: 4 });
  expect(four.choices.map(c => c.index)).toEqual([0, 1, 2, 3]);
  for (const c of four.choices) expect(c.message.content).toBe(one.choices[0]!.message.content);
  expect(four.usage!.prompt_tokens).toBe(one.usage!.prompt_tokens);
  expect(four.usage!.completion_tokens).toBe(4 * one.usage!.completion_tokens);
});

// What a seed guarantees. Choice i of a seeded request samples with seed s + i, so its tokens are
// those of an n = 1 request with that seed — given the same logits. llama.cpp's logits differ in
// their last bits with how a sequence was decoded: what else was in the batch, which KV cells it
// sits in, whether its prompt was reused from the cache (measured here on stories260K: up to 2e-2
// apart). At temperature 1 such a difference changes a draw now and then: the old version of this
// test sent the three n = 1 requests at once, raced them against each other on 2 slots, and failed
// 1 run in 20. So every request here runs alone, with prompt caching off: each sequence is decoded
// the same way, and the choices must match exactly.
test("seeded n = 3: choice i equals the n = 1 request with seed s + i, each run alone without a cached prompt (streamed, index per choice)", async () => {
  const body = { model, prompt: "The little bird", max_tokens: 20, temperature: 1, top_k: 0, top_p: 1, min_p: 0, cache_prompt: false };
  const alone: string[] = [];
  for (const i of [0, 1, 2]) {
    const res = await postJson(`${hearth.url}/v1/completions`, { ...body, seed: 99 + i });
    alone.push(((await res.json()) as any).choices[0].text);
  }
  const choices = async () => {
    const res = await postJson(`${hearth.url}/v1/completions`, { ...body, seed: 99, n: 3, stream: true, stream_options: { include_usage: true } });
    const texts = ["", "", ""];
    let usage: any;
    for (const data of await readSse(res)) {
      if (data === "[DONE]") continue;
      const chunk = JSON.parse(data);
      for (const c of chunk.choices) texts[c.index] += c.text;
      if (chunk.usage) usage = chunk.usage;
    }
    return { texts, completionTokens: usage.completion_tokens };
  };
  const first = await choices();
  expect(first.texts).toEqual(alone);
  expect(first.completionTokens).toBe(60);
  // The same request again: the same choices.
  expect(await choices()).toEqual(first);
  // Different seeds really do give different choices here (or the test proves nothing).
  expect(new Set(alone).size).toBe(3);
});

test("n beyond what one request may decode at once → 400 naming n", async () => {
  const res = await postJson(`${hearth.url}/v1/completions`, { model, prompt: "hi", n: 17 });
  expect(res.status).toBe(400);
  expect(((await res.json()) as any).error.param).toBe("n");
});

test("logprobs with n = 2 and a stop string: each choice's tokens spell exactly its text", async () => {
  const base = { model, prompt: "Once upon a time, there was a little", max_tokens: 30, temperature: 0, logprobs: 2 };
  const plain: any = await (await postJson(`${hearth.url}/v1/completions`, base)).json();
  const text: string = plain.choices[0].text;
  const stop = text.slice(12, 16);
  for (const stream of [false, true]) {
    const res = await client.completions.create({ ...base, n: 2, stop, stream } as any);
    const texts = ["", ""];
    const tokens: string[][] = [[], []];
    const chunks = stream ? (res as any) : [res];
    for await (const chunk of chunks) {
      for (const c of chunk.choices) {
        texts[c.index] += c.text;
        tokens[c.index]!.push(...(c.logprobs?.tokens ?? []));
      }
    }
    for (const i of [0, 1]) {
      expect(texts[i]).toBe(text.slice(0, text.indexOf(stop)));
      // Tokens of the stop string are dropped; one token may straddle the cut.
      expect(tokens[i]!.join("").startsWith(texts[i]!)).toBe(true);
      expect(tokens[i]!.slice(0, -1).join("").length).toBeLessThan(texts[i]!.length);
    }
  }
});

test("aborted n = 8 streams leak no choice sequence: afterwards an n = 16 request runs at once", async () => {
  for (let i = 0; i < 10; i++) {
    const controller = new AbortController();
    const res = await postJson(`${hearth.url}/v1/completions`, { model, prompt: `Story ${i}:`, max_tokens: 100, n: 8, stream: true }, { signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await reader.cancel().catch(() => {});
  }
  const started = performance.now();
  const res: any = await (await postJson(`${hearth.url}/v1/completions`, { model, prompt: "Tom", max_tokens: 8, n: 16, ignore_eos: true })).json();
  expect(res.choices).toHaveLength(16);
  expect(res.usage.completion_tokens).toBe(16 * 8);
  expect(performance.now() - started).toBeLessThan(20_000);
});

test("post_sampling_probs: the distribution the token was drawn from, as llama-server reports it", async () => {
  const prompt = "Once upon a time, there was a little";
  const sampling = { temperature: 0.8, top_k: 5, top_p: 0.95, min_p: 0.05, seed: 42 };
  const [ours, theirs]: any[] = await Promise.all([
    postJson(`${hearth.url}/v1/completions`, { model, prompt, max_tokens: 16, logprobs: 3, post_sampling_probs: true, ...sampling }).then(r => r.json()),
    postJson(`${reference.url}/completion`, { prompt, n_predict: 16, n_probs: 3, post_sampling_probs: true, ...sampling }).then(r => r.json()),
  ]);
  const lp = ours.choices[0].logprobs;
  const ref = theirs.completion_probabilities;
  expect(lp.tokens).toEqual(ref.map((p: any) => p.token));
  lp.token_logprobs.forEach((v: number, i: number) => expect(Math.abs(Math.exp(v) - ref[i].prob)).toBeLessThan(TOLERANCE));
  lp.top_logprobs.forEach((top: Record<string, number>, i: number) => {
    const theirsTop = ref[i].top_probs as Array<{ token: string; prob: number }>;
    expect(Object.keys(top).sort()).toEqual(theirsTop.map(t => t.token).sort());
    for (const t of theirsTop) expect(Math.abs(Math.exp(top[t.token]!) - t.prob)).toBeLessThan(TOLERANCE);
  });
  // Truncation shows: after top_k 5 at most 5 tokens carry probability, and they sum to 1.
  // The model's own distribution (the default) spreads over the whole vocabulary instead.
  const wide: any = await (await postJson(`${hearth.url}/v1/completions`, { model, prompt, max_tokens: 16, logprobs: 8, post_sampling_probs: true, ...sampling })).json();
  for (const top of wide.choices[0].logprobs.top_logprobs) {
    expect(Object.keys(top).length).toBeLessThanOrEqual(5);
    expect(Object.values(top).reduce((s: number, v: any) => s + Math.exp(v), 0)).toBeCloseTo(1, 4);
  }
  // Greedy: the pick had probability 1.
  const greedy: any = await (await postJson(`${hearth.url}/v1/completions`, { model, prompt, max_tokens: 4, logprobs: 2, post_sampling_probs: true, temperature: 0 })).json();
  expect(greedy.choices[0].logprobs.token_logprobs).toEqual([0, 0, 0, 0]);
});
