// Responsiveness and cancellation on a generated model (tiny-qwen2: the real Qwen2 vocabulary,
// random weights): a 4,000-token prefill does not stall /health or other streams, multi-byte
// output streams intact, and a disconnect really stops a long generation.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { basename } from "node:path";
import { generatedModel } from "../helpers/models.ts";
import { postJson, readSse, startHearth, type Running } from "../helpers/server.ts";

let server: Running;
let model: string;
beforeAll(async () => {
  const path = await generatedModel("tiny-qwen2");
  model = basename(path, ".gguf");
  server = await startHearth(["--model", path, "--threads", "1", "--parallel", "2", "--batch-size", "64", "--ctx-size", "8192"]);
});
afterAll(() => server?.stop());

const complete = (body: object, init?: RequestInit) => postJson(`${server.url}/v1/completions`, { model, temperature: 0, ...body }, init);
const busySlots = async () => ((await (await fetch(`${server.url}/health`)).json()) as any).models[0].slotsBusy as number;

async function waitIdle(timeoutMs: number): Promise<number> {
  const start = performance.now();
  while ((await busySlots()) > 0) {
    if (performance.now() - start > timeoutMs) break;
    await Bun.sleep(10);
  }
  return performance.now() - start;
}

test("while a 4,000-token prompt prefills, /health answers and a short stream completes", async () => {
  const longPrompt = "The quick brown fox jumps over the lazy dog. ".repeat(400);
  const tokens: any = await (await postJson(`${server.url}/tokenize`, { content: longPrompt })).json();
  expect(tokens.tokens.length).toBeGreaterThanOrEqual(4000);

  const t0 = performance.now();
  // (Not awaited: the response's headers may only come with its first token.)
  const longDone = complete({ prompt: longPrompt, max_tokens: 1, stream: true }).then(readSse).then(() => performance.now() - t0);
  await Bun.sleep(20); // let the long prompt reach the runner first

  const health = fetch(`${server.url}/health`).then(r => ({ status: r.status, at: performance.now() - t0 }));
  const short = complete({ prompt: "Hi", max_tokens: 8, ignore_eos: true }).then(async r => ({ body: (await r.json()) as any, at: performance.now() - t0 }));

  const [h, s, l] = await Promise.all([health, short, longDone]);
  expect(h.status).toBe(200);
  expect(h.at).toBeLessThan(l);
  expect(s.body.usage.completion_tokens).toBe(8);
  // Chunked prefill: the short request ran between the long prompt's chunks.
  expect(s.at).toBeLessThan(l);
});

// (Random weights may emit byte tokens that form no valid character; those decode to U+FFFD in
// both paths. Characters split across tokens are covered by test/engine/text-stream.test.ts.)
test("multi-byte output: streamed text equals the non-streamed text", async () => {
  const body = { prompt: "你好，世界。今天", max_tokens: 64, ignore_eos: true };
  const whole: any = await (await complete(body)).json();
  const text: string = whole.choices[0].text;
  expect(/[\u4e00-\u9fff]/.test(text)).toBe(true); // the answer really has multi-byte (CJK) characters
  const events = await readSse(await complete({ ...body, stream: true }));
  const streamed = events.filter(e => e !== "[DONE]").map(e => JSON.parse(e).choices[0].text).join("");
  expect(streamed).toBe(text);

  const chatBody = { model, temperature: 0, max_tokens: 48, messages: [{ role: "user", content: "用中文写一首诗" }] };
  const chatWhole: any = await (await postJson(`${server.url}/v1/chat/completions`, chatBody)).json();
  const chatEvents = await readSse(await postJson(`${server.url}/v1/chat/completions`, { ...chatBody, stream: true }));
  const chatStreamed = chatEvents.filter(e => e !== "[DONE]").map(e => JSON.parse(e).choices[0]?.delta?.content ?? "").join("");
  expect(chatStreamed).toBe(chatWhole.choices[0].message.content);
});

test("a disconnect stops a long generation at once (stream and non-stream)", async () => {
  // 3,000 tokens take many seconds here; the slot must be free well before that.
  const controller = new AbortController();
  const res = await complete({ prompt: "Count:", max_tokens: 3000, ignore_eos: true, stream: true }, { signal: controller.signal });
  const reader = res.body!.getReader();
  await reader.read();
  // The runner reports slot use after each step: wait until it shows this one busy.
  for (let i = 0; i < 200 && (await busySlots()) === 0; i++) await Bun.sleep(5);
  expect(await busySlots()).toBe(1);
  controller.abort();
  await reader.cancel().catch(() => {});
  expect(await waitIdle(2000)).toBeLessThan(1000);

  const plain = new AbortController();
  const pending = complete({ prompt: "Count again:", max_tokens: 3000, ignore_eos: true }, { signal: plain.signal }).catch(() => null);
  for (let i = 0; i < 400 && (await busySlots()) === 0; i++) await Bun.sleep(5);
  plain.abort();
  await pending;
  expect(await waitIdle(2000)).toBeLessThan(1000);
});
