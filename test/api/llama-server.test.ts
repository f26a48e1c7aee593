// llama-server's native dialect without a model: the FIM prompt layout, /completion's translation
// of prompts, samplers and logit_bias into the engine request, its answer and stream shapes, and its
// error envelope — over the fake engine (whose tokens are char codes). Parity with llama-server
// itself is test/server/native-parity.test.ts.
import { expect, test } from "bun:test";
import { createApp } from "../../src/api/app.ts";
import { infillTokens, type FimTokens } from "../../src/api/chat-core/infill.ts";
import { FakeEngine, FakeModels } from "../helpers/fake-engine.ts";

const tokenize = async (text: string, addSpecial: boolean, parseSpecial: boolean) =>
  [...(addSpecial ? [-1] : []), ...Array.from(text, c => (parseSpecial && c === "§" ? -2 : c.charCodeAt(0)))];
const chars = (s: string) => Array.from(s, c => c.charCodeAt(0));
const FIM: FimTokens = { pre: 1001, suf: 1002, mid: 1003, pad: 1004, rep: 1005, sep: 1006, bos: 1, addBos: false };
const roomy = { nBatch: 512, nCtx: 4096, nPredict: -1 };

test("the FIM prompt: project and files first, then [PRE]prefix+typed [SUF]suffix [MID], all text tokenized as text", async () => {
  const ids = await infillTokens({ prefix: "ab", suffix: "cd", prompt: "§e", extra: [{ filename: "f.c", text: "x" }, { text: "y" }] }, FIM, roomy, tokenize);
  expect(ids).toEqual([
    1005, ...chars("myproject\n"),
    1006, ...chars("f.c\n"), ...chars("x"),
    1006, ...chars("tmp\n"), ...chars("y"), // a file without a name is "tmp", as in llama-server
    1006, ...chars("filename\n"),
    1001, ...chars("ab"), -2, ...chars("e"), // only the typed prompt parses special tokens
    1002, ...chars("cd"),
    1003,
  ]);
});

test("without REP and SEP tokens files are separated by a snippet line; BOS goes after them, before [PRE]", async () => {
  const fim = { ...FIM, rep: null, sep: null, addBos: true };
  const ids = await infillTokens({ prefix: "a", suffix: "b", extra: [{ text: "x" }] }, fim, roomy, tokenize);
  expect(ids).toEqual([...chars("\n\n--- snippet ---\n\n"), ...chars("x"), 1, 1001, 97, 1002, 98, 1003]);
});

test("budgets: the prefix keeps its last 3/4 batch, the suffix its first quarter less the typed text, files what the context leaves", async () => {
  const budget = { nBatch: 16, nCtx: 40, nPredict: 10 }; // files: 40 - 16 - 2*10 = 4 tokens
  const ids = await infillTokens({ prefix: "p".repeat(20) + "P", suffix: "S" + "s".repeat(20), prompt: "t", extra: [{ filename: "f", text: "xyz" }] }, FIM, budget, tokenize);
  const pre = ids.indexOf(1001);
  expect(ids.slice(0, pre)).toEqual([...chars("\n"), 1006, ...chars("filename\n")].slice(-4)); // the newest 4 file tokens
  expect(ids.slice(pre + 1, ids.indexOf(1002))).toEqual([...chars("p".repeat(11) + "P"), ...chars("t")]); // 12 = 3/4 of 16, then the typed text
  expect(ids.slice(ids.indexOf(1002) + 1, -1)).toEqual(chars("S")); // 16/4 - (2 + 1) = 1
});

function nativeApp(engine = new FakeEngine()) {
  const app = createApp(new FakeModels(engine), { apiKeys: [], cors: null, maxBodyBytes: 1 << 20 });
  const post = (path: string, body: unknown) =>
    app.handle(new Request(`http://localhost${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }));
  return { app, engine, post };
}

test("/completion: the engine gets token ids; text and ids mixed tokenize their text parts; a list of prompts answers a list", async () => {
  const { engine, post } = nativeApp();
  const res = await post("/completion", { prompt: [5, "hi", 6], n_predict: 2 });
  expect(res.status).toBe(200);
  expect(engine.requests[0]!.prompt).toEqual([5, 104, 105, 6]);
  expect(engine.requests[0]!.addSpecial).toBe(false);
  const one: any = await res.json();
  expect(one).toMatchObject({ index: 0, content: "Hello,", tokens: [], stop: true, stop_type: "limit", tokens_predicted: 2, tokens_evaluated: 4, truncated: false });
  expect(one.generation_settings.n_predict).toBe(2);
  expect(one.timings).toMatchObject({ cache_n: 0, prompt_n: 7, predicted_n: 2 });

  const many: any = await (await post("/completions", { prompt: ["a", { prompt_string: "b" }, [7]], n_predict: 1, return_tokens: true })).json();
  expect(many.map((r: any) => r.index)).toEqual([0, 1, 2]);
  expect(many[0].tokens).toEqual([1]);
  expect(engine.requests.slice(1).map(r => r.prompt)).toEqual([[97], [98], [7]]);
});

test("/completion: samplers left out are neutral, another order is a 400; DRY and friends only at neutral values", async () => {
  const { engine, post } = nativeApp();
  expect((await post("/completion", { prompt: "x", samplers: ["top_k", "temperature"], top_p: 0.5, min_p: 0.2, repeat_penalty: 1.3 })).status).toBe(200);
  expect(engine.requests[0]!.sampling).toMatchObject({ topP: 1, minP: 0, repeatPenalty: 1 });
  expect((await post("/completion", { prompt: "x", samplers: "kt" })).status).toBe(200);
  const reordered = await post("/completion", { prompt: "x", samplers: ["temperature", "top_k"] });
  expect(reordered.status).toBe(400);
  expect(((await reordered.json()) as any).error).toMatchObject({ code: 400, type: "invalid_request_error" });
  const typical = await post("/completion", { prompt: "x", typical_p: 0.5 });
  expect(typical.status).toBe(400);
  expect(((await typical.json()) as any).error.message).toContain("typical_p");
});

test("/completion: logit_bias as pairs or an object, ids or text, false for never; generation_settings reports it", async () => {
  const { engine, post } = nativeApp();
  const res: any = await (await post("/completion", { prompt: "x", logit_bias: [[5, -2], ["ab", false]] })).json();
  expect(engine.requests[0]!.sampling.logitBias).toEqual([[5, -2], [97, -1e30], [98, -1e30]]);
  expect(res.generation_settings.logit_bias).toEqual([{ bias: -2, token: 5 }, { bias: null, token: 97 }, { bias: null, token: 98 }]);
  await post("/completion", { prompt: "x", logit_bias: { "7": 1, " c": -1 } });
  expect(engine.requests[1]!.sampling.logitBias).toEqual([[7, 1], [32, -1], [99, -1]]);
});

test("/completion stream: a chunk per piece, then a stop chunk with the settings; response_fields keeps stop", async () => {
  const { post } = nativeApp();
  const text = await (await post("/completion", { prompt: "x", stream: true, n_probs: 2, response_fields: ["content"] })).text();
  const chunks = text.split("\n\n").filter(Boolean).map(f => JSON.parse(f.replace(/^data: /, "")));
  expect(chunks.slice(0, -1).map(c => c.content).join("")).toBe("Hello, world!");
  expect(chunks[0]).toMatchObject({ index: 0, stop: false, tokens: [1], tokens_predicted: 1 });
  expect(chunks[0].completion_probabilities[0].top_logprobs).toHaveLength(2);
  expect(chunks.at(-1)).toEqual({ content: "", stop: true });
  expect(text).not.toContain("[DONE]");
});

test("native errors: llama-server's envelope on its routes (bad fields, images to a text model, no FIM, no reranker), OpenAI's elsewhere", async () => {
  const { post } = nativeApp();
  const cases: Array<[string, unknown, string]> = [
    ["/completion", { prompt: "x", n_predict: "many" }, "n_predict"],
    ["/completion", { prompt: { prompt_string: "x", multimodal_data: ["AAAA"] } }, "multimodal"],
    ["/completion", { prompt: [1, 5000] }, "token id"],
    ["/infill", { input_prefix: "a", input_suffix: "b" }, "fill-in-the-middle"],
    ["/infill", { input_prefix: "a", input_suffix: "b", input_extra: [{ filename: 1, text: "x" }] }, "input_extra"],
    ["/rerank", { query: "q", documents: ["a"] }, "not a reranker"],
    ["/rerank", { query: "q", documents: [] }, "documents"],
    ["/embedding", { content: "x" }, "embeddings"],
  ];
  for (const [path, body, words] of cases) {
    const res = await post(path, body);
    expect(res.status).toBe(400);
    const json: any = await res.json();
    expect(Object.keys(json.error).sort()).toEqual(["code", "message", "type"]);
    expect(json.error.message.toLowerCase()).toContain(words.toLowerCase());
  }
  const openai: any = await (await post("/chat/completions", { messages: "x" })).json();
  expect(Object.keys(openai.error).sort()).toEqual(["code", "message", "param", "type"]);
});

test("/props, /slots, POST /props, and the un-prefixed OpenAI routes", async () => {
  const { app, post } = nativeApp();
  const props: any = await (await app.handle(new Request("http://localhost/props"))).json();
  expect(props.default_generation_settings.n_ctx).toBe(4096);
  expect(props.default_generation_settings.params).toMatchObject({ temperature: 0.8, top_k: 40, n_predict: -1 });
  expect(props.model_alias).toBe("fake-model");
  const refused = await post("/props", {});
  expect(refused.status).toBe(501);
  expect(((await refused.json()) as any).error.type).toBe("not_supported_error");
  expect((await app.handle(new Request("http://localhost/slots"))).status).toBe(200);
  expect((await app.handle(new Request("http://localhost/v1/health"))).status).toBe(200);
  const models: any = await (await app.handle(new Request("http://localhost/models"))).json();
  expect(models.data[0].id).toBe("fake-model");
  const chat: any = await (await post("/chat/completions", { messages: [{ role: "user", content: "hi" }] })).json();
  expect(chat.id).toMatch(/^chatcmpl-/);
  expect(chat.timings.predicted_n).toBe(4);
  const count: any = await (await post("/chat/completions/input_tokens", { messages: [{ role: "user", content: "hi" }] })).json();
  expect(count.input_tokens).toBeGreaterThan(2);
  // llama-server's `verbose`: the rendered prompt rides along in __verbose.
  const verbose: any = await (await post("/chat/completions", { messages: [{ role: "user", content: "Book" }], verbose: true })).json();
  expect(verbose.__verbose.prompt).toContain("Book");
  expect("__verbose" in chat).toBe(false);
  // No assistant prefill: asking for one is refused, not ignored; the default values pass.
  const messages = [{ role: "user", content: "hi" }, { role: "assistant", content: "Hel" }];
  for (const body of [{ add_generation_prompt: true, continue_final_message: true }, { continue_final_message: true }, { add_generation_prompt: false }]) {
    const refused = await post("/chat/completions", { messages, ...body });
    expect(refused.status).toBe(400);
  }
  expect((await post("/chat/completions", { messages, add_generation_prompt: true, continue_final_message: false })).status).toBe(200);
});
