// Engine behaviour through the real server on stories260K: stop strings across tokens,
// concurrency, cancellation without slot leaks, prefix reuse.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { defaultModel } from "../helpers/paths.ts";
import { postJson, readSse, startHearth, type Running } from "../helpers/server.ts";

const PARALLEL = 4;
let server: Running;
beforeAll(async () => {
  server = await startHearth(["--model", defaultModel, "--threads", "1", "--parallel", String(PARALLEL), "--ctx-size", "2048"]);
});
afterAll(() => server?.stop());

const MODEL = "stories260K";
const complete = (body: object, init?: RequestInit) => postJson(`${server.url}/v1/completions`, { model: MODEL, temperature: 0, ...body }, init);

async function tokenCount(text: string): Promise<number> {
  const json: any = await (await postJson(`${server.url}/tokenize`, { content: text })).json();
  return json.tokens.length;
}

async function health(): Promise<any> {
  return (await fetch(`${server.url}/health`)).json();
}

test("a stop string spanning several tokens ends the text right before it (stream and not)", async () => {
  const full: any = await (await complete({ prompt: "Once upon a time", max_tokens: 60 })).json();
  const text: string = full.choices[0].text;
  // Pick a stop string from the middle of the real greedy output that spans at least two tokens.
  const words = text.split(" ");
  const stop = ` ${words[4]} ${words[5]}`;
  expect(await tokenCount(stop)).toBeGreaterThanOrEqual(2);
  const expected = text.slice(0, text.indexOf(stop));

  const stopped: any = await (await complete({ prompt: "Once upon a time", max_tokens: 60, stop: [stop, "never-appears"] })).json();
  expect(stopped.choices[0].text).toBe(expected);
  expect(stopped.choices[0].finish_reason).toBe("stop");

  const events = await readSse(await complete({ prompt: "Once upon a time", max_tokens: 60, stop, stream: true }));
  const chunks = events.filter(e => e !== "[DONE]").map(e => JSON.parse(e));
  expect(chunks.map(c => c.choices[0].text).join("")).toBe(expected);
  expect(chunks.at(-1).choices[0].finish_reason).toBe("stop");
});

test("8 concurrent greedy requests for the same prompt all return identical text", async () => {
  const body = { prompt: "The little bird", max_tokens: 48 };
  const results = await Promise.all(Array.from({ length: 8 }, () => complete(body).then(r => r.json() as Promise<any>)));
  const texts = results.map(r => r.choices[0].text);
  expect(texts[0].length).toBeGreaterThan(10);
  expect(new Set(texts).size).toBe(1);
});

test("chat: streaming concatenation equals the non-streamed text", async () => {
  const body = { model: MODEL, temperature: 0, max_tokens: 40, messages: [{ role: "user", content: "Tell me a story about a cat" }] };
  const whole: any = await (await postJson(`${server.url}/v1/chat/completions`, body)).json();
  const events = await readSse(await postJson(`${server.url}/v1/chat/completions`, { ...body, stream: true }));
  const text = events.filter(e => e !== "[DONE]").map(e => JSON.parse(e).choices[0]?.delta?.content ?? "").join("");
  expect(text).toBe(whole.choices[0].message.content);
});

test("50 aborted streams leak no slot: afterwards --parallel requests all start at once", async () => {
  for (let i = 0; i < 50; i++) {
    const controller = new AbortController();
    const res = await complete({ prompt: `Story number ${i}:`, max_tokens: 100, stream: true }, { signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read(); // the first chunk: the request holds a slot now
    controller.abort();
    await reader.cancel().catch(() => {});
  }
  // Cancellation lands at the next step boundary: give it a moment, then nothing may be busy.
  let h = await health();
  for (let i = 0; i < 150 && h.models[0].slotsBusy > 0; i++) {
    await Bun.sleep(20);
    h = await health();
  }
  expect(h.models[0].slotsBusy).toBe(0);
  expect(h.models[0].queued).toBe(0);

  // PARALLEL long requests: every one gets a slot immediately (none waits in the queue).
  const running = Array.from({ length: PARALLEL }, (_, i) => complete({ prompt: `Tale ${i}`, max_tokens: 100, ignore_eos: true }));
  let sawAllBusy = false;
  for (let i = 0; i < 100 && !sawAllBusy; i++) {
    const now = await health();
    expect(now.models[0].queued).toBe(0);
    sawAllBusy = now.models[0].slotsBusy === PARALLEL;
    await Bun.sleep(5);
  }
  const results = await Promise.all(running.map(r => r.then(x => x.json() as Promise<any>)));
  expect(results.every(r => r.usage.completion_tokens === 100)).toBe(true);
});

test("a disconnected non-stream request is cancelled too", async () => {
  const controller = new AbortController();
  const pending = complete({ prompt: "Long story:", max_tokens: 110, ignore_eos: true }, { signal: controller.signal }).catch(e => e);
  await Bun.sleep(30);
  controller.abort();
  await pending;
  let h = await health();
  for (let i = 0; i < 100 && h.models[0].slotsBusy > 0; i++) {
    await Bun.sleep(20);
    h = await health();
  }
  expect(h.models[0].slotsBusy).toBe(0);
});

test("a repeated prompt reuses the cached prefix (cached_tokens)", async () => {
  const prompt = "Once upon a time there was a big dog named Max who liked to run";
  await complete({ prompt, max_tokens: 4 });
  const again: any = await (await complete({ prompt, max_tokens: 4 })).json();
  expect(again.usage.prompt_tokens_details.cached_tokens).toBe(again.usage.prompt_tokens - 1);
});

test("each later turn of a conversation that resends its history prefills only the new tokens", async () => {
  let history = "Lily and Tom went to the park to play on the swings and the slide.";
  let previousPrompt = 0;
  for (let turn = 0; turn < 3; turn++) {
    const r: any = await (await complete({ prompt: history, max_tokens: 12 })).json();
    if (turn > 0) {
      // The previous request's prompt and reply are reused; only the words added since are
      // prefilled (plus the reply's last token, never decoded, and the prompt's last, always is).
      const added = await tokenCount(` Then turn ${turn - 1} came.`);
      expect(r.usage.prompt_tokens_details.cached_tokens).toBeGreaterThanOrEqual(previousPrompt);
      expect(r.usage.prompt_tokens - r.usage.prompt_tokens_details.cached_tokens).toBeLessThanOrEqual(added + 3);
    }
    previousPrompt = r.usage.prompt_tokens;
    history += r.choices[0].text + ` Then turn ${turn} came.`;
  }
});

test("ignore_eos generates exactly max_tokens", async () => {
  const r: any = await (await complete({ prompt: "The end.", max_tokens: 30, ignore_eos: true })).json();
  expect(r.usage.completion_tokens).toBe(30);
  expect(r.choices[0].finish_reason).toBe("length");
});
