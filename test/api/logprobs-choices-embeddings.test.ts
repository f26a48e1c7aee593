// Model-free: the wire shapes of logprobs (chat and legacy), n > 1 streams, and /v1/embeddings'
// refusals, on the fake engine.
import { expect, test } from "bun:test";
import { createApp } from "../../src/api/app.ts";
import { tokenText } from "../../src/api/logprobs.ts";
import { FakeEngine, FakeModels } from "../helpers/fake-engine.ts";
import { readSse } from "../helpers/server.ts";

const app = () => createApp(new FakeModels(new FakeEngine()), { apiKeys: [], cors: null, maxBodyBytes: 1 << 20 });
const post = (path: string, body: unknown) =>
  app().handle(new Request(`http://localhost${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }));
const chat = (extra: object = {}) => ({ model: "fake-model", messages: [{ role: "user", content: "Hi" }], ...extra });

test("chat logprobs: content[] with token, logprob, bytes and top_logprobs; null when not asked", async () => {
  const json: any = await (await post("/v1/chat/completions", chat({ logprobs: true, top_logprobs: 2 }))).json();
  const content = json.choices[0].logprobs.content;
  expect(content.map((c: any) => c.token).join("")).toBe(json.choices[0].message.content);
  expect(content[0]).toEqual({ token: "Hello", logprob: -0.5, bytes: [...Buffer.from("Hello")], top_logprobs: [{ token: "a", logprob: -1, bytes: [97] }, { token: "b", logprob: -2, bytes: [98] }] });
  const plain: any = await (await post("/v1/chat/completions", chat())).json();
  expect(plain.choices[0].logprobs).toBeNull();
  const none: any = await (await post("/v1/chat/completions", chat({ logprobs: true }))).json();
  expect(none.choices[0].logprobs.content.every((c: any) => c.top_logprobs.length === 0)).toBe(true);
});

test("legacy completions logprobs: tokens, token_logprobs, top_logprobs (token → logprob) and text_offset", async () => {
  const json: any = await (await post("/v1/completions", { model: "fake-model", prompt: "x", logprobs: 1 })).json();
  const lp = json.choices[0].logprobs;
  expect(lp.tokens).toEqual(["Hello", ",", " world", "!"]);
  expect(lp.token_logprobs).toEqual([-0.5, -0.5, -0.5, -0.5]);
  expect(lp.top_logprobs).toEqual([{ a: -1 }, { a: -1 }, { a: -1 }, { a: -1 }]);
  expect(lp.text_offset).toEqual([0, 5, 6, 12]);
});

test("n = 2 streamed: every chunk names its choice; each choice gets its role delta and its finish_reason", async () => {
  const events = await readSse(await post("/v1/chat/completions", chat({ n: 2, stream: true, logprobs: true })));
  const chunks = events.filter(e => e !== "[DONE]").map(e => JSON.parse(e));
  for (const index of [0, 1]) {
    const mine = chunks.flatMap(c => c.choices).filter((c: any) => c.index === index);
    expect(mine[0].delta).toEqual({ role: "assistant", content: "" });
    expect(mine.map((c: any) => c.delta.content ?? "").join("")).toBe("Hello, world!");
    expect(mine.at(-1).finish_reason).toBe("stop");
    expect(mine.flatMap((c: any) => c.logprobs?.content ?? []).map((t: any) => t.token).join("")).toBe("Hello, world!");
  }
});

test("token text stops before a character the token only begins; bytes keep it all", () => {
  expect(tokenText([...Buffer.from("ab")])).toBe("ab");
  expect(tokenText([...Buffer.from("a🦙")].slice(0, 3))).toBe("a");
});

test("/v1/embeddings: a generative model is a 400 naming model; bad fields are 400s naming them", async () => {
  const generative: any = await (await post("/v1/embeddings", { model: "fake-model", input: "hi" })).json();
  expect(generative.error).toMatchObject({ param: "model", code: "model_not_embedding" });
  for (const [body, param] of [
    [{ model: "fake-model", input: "hi", encoding_format: "int8" }, "encoding_format"],
    [{ model: "fake-model", input: [] }, "input"],
    [{ model: "fake-model" }, "input"],
    [{ model: "fake-model", input: "hi", dimensions: 0 }, "dimensions"],
  ] as const) {
    const res = await post("/v1/embeddings", body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.param).toBe(param);
  }
});
