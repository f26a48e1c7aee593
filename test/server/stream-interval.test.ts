// --stream-interval end to end: once a stream's first text is out, its further tokens wait in the
// runner up to the interval and arrive joined in one chunk; the text and the token counts are
// those of a stream sent token by token and of the same request unstreamed. An interval no test
// outlasts (100 s) makes the joining certain: the first text, then the rest in one chunk at the
// end (and the last token's text, which travels with the end of the choice).
// Log-probabilities stay one chunk per token, as clients that ask for them count them.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { defaultModel } from "../helpers/paths.ts";
import { postJson, startHearth, type Running } from "../helpers/server.ts";

let held: Running;
let everyToken: Running;
beforeAll(async () => {
  [held, everyToken] = await Promise.all([
    startHearth(["--model", defaultModel, "--threads", "1", "--stream-interval", "100000"]),
    startHearth(["--model", defaultModel, "--threads", "1", "--stream-interval", "0"]),
  ]);
});
afterAll(async () => {
  await Promise.all([held?.stop(), everyToken?.stop()]);
});

/** The data events of an SSE response, parsed ([DONE] left out). */
async function events(res: Response): Promise<any[]> {
  expect(res.status).toBe(200);
  const text = await res.text();
  return text
    .split("\n\n")
    .map(e => e.split("\n").find(line => line.startsWith("data: {")))
    .filter((line): line is string => line !== undefined)
    .map(line => JSON.parse(line.slice(6)));
}

const request = { model: "stories260K", prompt: "Once upon a time", max_tokens: 40, temperature: 0, ignore_eos: true };

test("a held stream: the first text, then the rest joined; same text and usage as token by token and unstreamed", async () => {
  const streamed = async (server: Running) => {
    const all = await events(await postJson(`${server.url}/v1/completions`, { ...request, stream: true, stream_options: { include_usage: true } }));
    const texts = all.map(e => e.choices?.[0]?.text).filter((t): t is string => !!t);
    return { texts, usage: all.find(e => e.usage)?.usage };
  };
  const joined = await streamed(held);
  const single = await streamed(everyToken);
  const plain: any = await (await postJson(`${held.url}/v1/completions`, request)).json();
  expect(joined.texts.length).toBeGreaterThanOrEqual(2);
  expect(joined.texts.length).toBeLessThanOrEqual(3);
  expect(single.texts.length).toBeGreaterThan(10);
  expect(joined.texts.join("")).toBe(single.texts.join(""));
  expect(joined.texts.join("")).toBe(plain.choices[0].text);
  expect(joined.usage.completion_tokens).toBe(40);
  expect(single.usage.completion_tokens).toBe(40);
});

test("llama-server's /completion: tokens joined with their text; with n_probs one chunk per token, held or not", async () => {
  const body = { prompt: "Once upon a time", n_predict: 12, temperature: 0, ignore_eos: true, stream: true, return_tokens: true };
  const joined = (await events(await postJson(`${held.url}/completion`, body))).filter(e => !e.stop);
  const single = (await events(await postJson(`${everyToken.url}/completion`, body))).filter(e => !e.stop);
  expect(joined.flatMap(e => e.tokens)).toEqual(single.flatMap(e => e.tokens));
  expect(joined.flatMap(e => e.tokens)).toHaveLength(12);
  expect(joined.length).toBeLessThan(single.length);
  const probs = (await events(await postJson(`${held.url}/completion`, { ...body, n_probs: 2 }))).filter(e => !e.stop);
  expect(probs).toHaveLength(12);
  for (const e of probs) expect(e.completion_probabilities).toHaveLength(1);
});

test("a chat stream through the Anthropic dialect: the same text held as sent token by token", async () => {
  const body = { model: "stories260K", max_tokens: 30, temperature: 0, stream: true, messages: [{ role: "user", content: "Tell me a story" }] };
  const text = async (server: Running) => {
    const res = await postJson(`${server.url}/v1/messages`, body, { headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" } });
    const deltas = (await events(res)).filter(e => e.type === "content_block_delta").map(e => e.delta.text as string);
    return { deltas, text: deltas.join("") };
  };
  const joined = await text(held);
  const single = await text(everyToken);
  expect(joined.text).toBe(single.text);
  expect(joined.deltas.length).toBeLessThanOrEqual(3);
  expect(single.deltas.length).toBeGreaterThan(3);
});
