// Fidelity: greedy /v1/completions from Hearth returns exactly llama-server's text for the same
// model and request. Both servers are built from the same llama.cpp source and run here.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { defaultModel } from "../helpers/paths.ts";
import { postJson, startHearth, startLlamaServer, type Running } from "../helpers/server.ts";

let hearth: Running;
let reference: Running;
const common = ["--ctx-size", "2048", "--parallel", "2", "--threads", "1", "--batch-size", "512"];

beforeAll(async () => {
  [hearth, reference] = await Promise.all([
    startHearth(["--model", defaultModel, ...common]),
    startLlamaServer(["-m", defaultModel, "-c", "2048", "-np", "2", "-t", "1", "-b", "512", "-kvu"]),
  ]);
});
afterAll(async () => {
  await Promise.all([hearth?.stop(), reference?.stop()]);
});

async function complete(server: Running, prompt: string, maxTokens: number) {
  const res = await postJson(`${server.url}/v1/completions`, { model: "stories260K", prompt, max_tokens: maxTokens, temperature: 0 });
  expect(res.status).toBe(200);
  const json: any = await res.json();
  return { text: json.choices[0].text as string, finish: json.choices[0].finish_reason as string, usage: json.usage };
}

test.each([
  ["Once upon a time", 64],
  ["The cat sat on the mat. Then", 96],
  ["Tom had a red ball", 100],
  ["Lily", 40],
])("greedy text for %p (%d tokens) equals llama-server's", async (prompt, n) => {
  const [ours, theirs] = await Promise.all([complete(hearth, prompt, n), complete(reference, prompt, n)]);
  expect(ours.text.length).toBeGreaterThan(0);
  expect(ours.text).toBe(theirs.text);
  expect(ours.finish).toBe(theirs.finish);
  expect(ours.usage.prompt_tokens).toBe(theirs.usage.prompt_tokens);
  expect(ours.usage.completion_tokens).toBe(theirs.usage.completion_tokens);
});

test("a seeded sampled completion equals llama-server's too (same sampler chain)", async () => {
  const body = { model: "stories260K", prompt: "Once upon a time", max_tokens: 48, temperature: 0.9, top_k: 40, top_p: 0.95, min_p: 0.05, seed: 1234 };
  const [a, b] = await Promise.all([postJson(`${hearth.url}/v1/completions`, body), postJson(`${reference.url}/v1/completions`, body)]);
  const [ours, theirs]: any[] = await Promise.all([a.json(), b.json()]);
  expect(ours.choices[0].text).toBe(theirs.choices[0].text);
});

test("generation up to the end of the 128-token training context stops where llama-server's does", async () => {
  const prompt = "Tom had a red ball";
  const tok: any = await (await postJson(`${hearth.url}/tokenize`, { content: prompt, add_special: true })).json();
  const room = 128 - tok.tokens.length; // stories260K's training context caps each slot, in both servers
  const [ours, theirs] = await Promise.all([complete(hearth, prompt, room), complete(reference, prompt, room)]);
  expect(ours.text).toBe(theirs.text);
  expect(ours.usage.completion_tokens).toBe(theirs.usage.completion_tokens);
  expect(ours.finish).toBe(theirs.finish);
  const over = await postJson(`${hearth.url}/v1/completions`, { model: "stories260K", prompt, max_tokens: room + 1 });
  expect(over.status).toBe(400);
  expect(((await over.json()) as any).error.code).toBe("context_length_exceeded");
});

test.each([
  [{ repeat_penalty: 1.5, temperature: 0 }],
  [{ presence_penalty: 1.2, frequency_penalty: 0.8, temperature: 0 }],
  [{ repeat_penalty: 1.3, presence_penalty: 0.5, repeat_last_n: 16, temperature: 0.9, seed: 77 }],
])("penalties %p change the text exactly as llama-server's do", async params => {
  // No prompt cache on either side: both prefill the prompt in one batch, whatever earlier tests left.
  const body = { model: "stories260K", prompt: "Once upon a time", max_tokens: 80, cache_prompt: false, ...params };
  const [a, b] = await Promise.all([postJson(`${hearth.url}/v1/completions`, body), postJson(`${reference.url}/v1/completions`, body)]);
  // After, not beside it: decoded in one batch with another sequence, the request's logits may round
  // differently from llama-server's batch of one, enough to change a token sampled at temperature 0.9.
  const plain = await postJson(`${hearth.url}/v1/completions`, { ...body, repeat_penalty: 1, presence_penalty: 0, frequency_penalty: 0 });
  const [ours, theirs, unpenalized]: any[] = await Promise.all([a.json(), b.json(), plain.json()]);
  expect(ours.choices[0].text).toBe(theirs.choices[0].text);
  // The penalties did something (a test that passes with them ignored would prove nothing).
  expect(ours.choices[0].text).not.toBe(unpenalized.choices[0].text);
});
