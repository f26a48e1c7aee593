// Route tests against a fake engine: shapes, validation, errors, auth, CORS, SSE framing.
import { describe, expect, test } from "bun:test";
import { createApp, type AppOptions } from "../../src/api/app.ts";
import { FakeEngine, FakeModels } from "../helpers/fake-engine.ts";

const defaults: AppOptions = { apiKeys: [], cors: null, maxBodyBytes: 1 << 20 };

function appWith(engine = new FakeEngine(), options: Partial<AppOptions> = {}) {
  return createApp(new FakeModels(engine), { ...defaults, ...options });
}

async function post(app: ReturnType<typeof appWith>, path: string, body: unknown, headers: Record<string, string> = {}) {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  // Real clients send Content-Length; a constructed Request does not set it by itself.
  const length = String(Buffer.byteLength(text));
  const res = await app.handle(
    new Request(`http://localhost${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": length, ...headers },
      body: text,
    }),
  );
  return res;
}

const chat = (extra: object = {}) => ({ model: "fake-model", messages: [{ role: "user", content: "Hi" }], ...extra });

function expectEnvelope(json: any) {
  expect(Object.keys(json)).toEqual(["error"]);
  expect(Object.keys(json.error).sort()).toEqual(["code", "message", "param", "type"]);
}

describe("chat completions", () => {
  test("non-stream response has OpenAI's shape", async () => {
    const res = await post(appWith(), "/v1/chat/completions", chat());
    expect(res.status).toBe(200);
    const json: any = await res.json();
    expect(json.id).toMatch(/^chatcmpl-/);
    expect(json.object).toBe("chat.completion");
    expect(json.model).toBe("fake-model");
    expect(json.choices).toEqual([{ index: 0, message: { role: "assistant", content: "Hello, world!" }, logprobs: null, finish_reason: "stop" }]);
    expect(json.usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 4, total_tokens: 11 });
    // As llama-server counts speed: 4 tokens are 3 decode steps (the first comes with the prompt).
    expect(json.timings).toMatchObject({ predicted_n: 4, predicted_ms: 2, predicted_per_token_ms: 0.667, predicted_per_second: 1500 });
  });

  test("stream: role first, one id, finish_reason on the last content chunk, usage chunk, [DONE]", async () => {
    const res = await post(appWith(), "/v1/chat/completions", chat({ stream: true, stream_options: { include_usage: true } }));
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const text = await res.text();
    const events = text.split("\n\n").filter(Boolean).map(e => e.replace(/^data: /, ""));
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1).map(e => JSON.parse(e));
    expect(new Set(chunks.map(c => c.id)).size).toBe(1);
    expect(chunks[0].choices[0].delta).toEqual({ role: "assistant", content: "" });
    const usage = chunks.at(-1);
    expect(usage.choices).toEqual([]);
    expect(usage.usage.total_tokens).toBe(11);
    const last = chunks.at(-2);
    expect(last.choices[0]).toMatchObject({ delta: { content: "!" }, finish_reason: "stop" });
    const content = chunks.flatMap(c => c.choices.map((ch: any) => ch.delta?.content ?? "")).join("");
    expect(content).toBe("Hello, world!");
  });

  test("max_completion_tokens is max_tokens; length is reported", async () => {
    const engine = new FakeEngine();
    const res = await post(appWith(engine), "/v1/chat/completions", chat({ max_completion_tokens: 2 }));
    const json: any = await res.json();
    expect(engine.requests[0]!.maxTokens).toBe(2);
    expect(json.choices[0].finish_reason).toBe("length");
  });

  test("n = 3 is one engine generation (one prefill) split into three choices; usage counts the prompt once", async () => {
    const engine = new FakeEngine();
    const json: any = await (await post(appWith(engine), "/v1/chat/completions", chat({ n: 3, seed: 10 }))).json();
    expect(json.choices.map((c: any) => c.index)).toEqual([0, 1, 2]);
    expect(engine.requests.map(r => [r.n, r.sampling.seed])).toEqual([[3, 10]]);
    expect(json.usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 12, total_tokens: 19 });
  });

  test("n beyond what the model decodes at once → 400 naming n", async () => {
    const res = await post(appWith(), "/v1/chat/completions", chat({ n: 17 }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.param).toBe("n");
  });

  test.each([
    [{ messages: [] }, "messages"],
    [{ messages: [{ content: "no role" }] }, "messages[0].role"],
    [{ messages: [{ role: "wizard", content: "x" }] }, "messages[0].role"],
    [{ temperature: 3 }, "temperature"],
    [{ top_p: 1.5 }, "top_p"],
    [{ max_tokens: 0 }, "max_tokens"],
    [{ max_tokens: "ten" }, "max_tokens"],
    [{ stop: ["a", "b", "c", "d", "e"] }, "stop"],
    [{ n: 0 }, "n"],
    [{ model: 42 }, "model"],
  ])("bad field %j → 400 naming %s", async (extra, param) => {
    const res = await post(appWith(), "/v1/chat/completions", { ...chat(), ...extra });
    expect(res.status).toBe(400);
    const json: any = await res.json();
    expectEnvelope(json);
    expect(json.error.param).toBe(param);
    expect(json.error.type).toBe("invalid_request_error");
  });

  test("a body that is not JSON → 400 in the envelope", async () => {
    const res = await post(appWith(), "/v1/chat/completions", "{not json");
    expect(res.status).toBe(400);
    expectEnvelope(await res.json());
  });

  test("unknown model → 404 model_not_found", async () => {
    const res = await post(appWith(), "/v1/chat/completions", chat({ model: "gpt-9" }));
    expect(res.status).toBe(404);
    const json: any = await res.json();
    expect(json.error.code).toBe("model_not_found");
  });

  test("context overflow from the engine → 400 context_length_exceeded, before any stream byte", async () => {
    const engine = new FakeEngine([], { kind: "error", code: "context_length_exceeded", message: "too long" });
    const res = await post(appWith(engine), "/v1/chat/completions", chat({ stream: true }));
    expect(res.status).toBe(400);
    const json: any = await res.json();
    expect(json.error.code).toBe("context_length_exceeded");
  });

  test("queue full → 503 with Retry-After", async () => {
    const engine = new FakeEngine([], { kind: "error", code: "queue_full", message: "busy" });
    const res = await post(appWith(engine), "/v1/chat/completions", chat());
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
  });

  test("image parts are refused clearly (here: a URL that is neither data: nor http(s); vision-inputs.test.ts has the rest)", async () => {
    const res = await post(appWith(), "/v1/chat/completions", chat({ messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "x" } }] }] }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.param).toBe("messages[0].content[0]");
  });

  test("unknown fields are ignored, as OpenAI does", async () => {
    const res = await post(appWith(), "/v1/chat/completions", chat({ frobnicate: true, parallel_tool_calls: false }));
    expect(res.status).toBe(200);
  });
});

test("the model's sampling defaults apply where the request is silent; the request's own fields win", async () => {
  const engine = new FakeEngine();
  const app = createApp(new FakeModels(engine, "fake-model", { temperature: 0.6, topP: 0.9, topK: 20, minP: 0 }), defaults);
  await post(app, "/v1/chat/completions", chat());
  await post(app, "/v1/chat/completions", chat({ temperature: 0.1, top_k: 3 }));
  expect(engine.requests[0]!.sampling).toMatchObject({ temperature: 0.6, topP: 0.9, topK: 20, minP: 0 });
  expect(engine.requests[1]!.sampling).toMatchObject({ temperature: 0.1, topP: 0.9, topK: 3, minP: 0 });
});

describe("completions", () => {
  test("array of prompts → one choice each", async () => {
    const json: any = await (await post(appWith(), "/v1/completions", { model: "fake-model", prompt: ["a", "b"] })).json();
    expect(json.object).toBe("text_completion");
    expect(json.id).toMatch(/^cmpl-/);
    expect(json.choices.map((c: any) => [c.index, c.text])).toEqual([[0, "Hello, world!"], [1, "Hello, world!"]]);
    expect(json.usage.prompt_tokens).toBe(14);
  });

  test("raw prompts parse special tokens (llama-server's behaviour)", async () => {
    const engine = new FakeEngine();
    await post(appWith(engine), "/v1/completions", { model: "fake-model", prompt: "<|im_start|>x" });
    expect(engine.requests[0]!.prompt).toEqual([{ text: "<|im_start|>x", parseSpecial: true }]);
  });

  test("stream chunks are text_completion objects ending in [DONE]", async () => {
    const text = await (await post(appWith(), "/v1/completions", { model: "fake-model", prompt: "x", stream: true })).text();
    const events = text.split("\n\n").filter(Boolean);
    expect(events.at(-1)).toBe("data: [DONE]");
    const chunks = events.slice(0, -1).map(e => JSON.parse(e.slice(6)));
    expect(chunks.every(c => c.object === "text_completion")).toBe(true);
    expect(chunks.map(c => c.choices[0].text).join("")).toBe("Hello, world!");
    expect(chunks.at(-1).choices[0].finish_reason).toBe("stop");
  });
});

describe("models, health, auth, CORS, limits", () => {
  test("GET /v1/models lists with meta", async () => {
    const json: any = await (await appWith().handle(new Request("http://localhost/v1/models"))).json();
    expect(json.object).toBe("list");
    expect(json.data[0]).toMatchObject({ id: "fake-model", object: "model", created: 1700000000, owned_by: "hearth" });
    expect(json.data[0].meta.state).toBe("loaded");
  });

  test("GET /v1/models/{id} and an unknown id", async () => {
    const app = appWith();
    expect((await app.handle(new Request("http://localhost/v1/models/fake-model"))).status).toBe(200);
    const missing = await app.handle(new Request("http://localhost/v1/models/nope"));
    expect(missing.status).toBe(404);
    expectEnvelope(await missing.json());
  });

  test("an unknown route is a 404 envelope", async () => {
    const res = await appWith().handle(new Request("http://localhost/v2/nothing"));
    expect(res.status).toBe(404);
    expectEnvelope(await res.json());
  });

  test("with --api-key: 401 without it, 200 with Bearer or X-Api-Key, /health stays open", async () => {
    const app = appWith(new FakeEngine(), { apiKeys: ["sekret"] });
    const denied = await post(app, "/v1/chat/completions", chat());
    expect(denied.status).toBe(401);
    expect(((await denied.json()) as any).error.type).toBe("authentication_error");
    expect((await post(app, "/v1/chat/completions", chat(), { authorization: "Bearer wrong" })).status).toBe(401);
    expect((await post(app, "/v1/chat/completions", chat(), { authorization: "Bearer sekret" })).status).toBe(200);
    expect((await post(app, "/v1/chat/completions", chat(), { "x-api-key": "sekret" })).status).toBe(200);
    expect((await app.handle(new Request("http://localhost/health"))).status).toBe(200);
  });

  test("CORS is off by default and on for the allowed origin only", async () => {
    const off = await appWith().handle(new Request("http://localhost/v1/models", { headers: { origin: "http://a.test" } }));
    expect(off.headers.get("access-control-allow-origin")).toBeNull();
    const app = appWith(new FakeEngine(), { cors: ["http://a.test"] });
    const ok = await app.handle(new Request("http://localhost/v1/models", { headers: { origin: "http://a.test" } }));
    expect(ok.headers.get("access-control-allow-origin")).toBe("http://a.test");
    const other = await app.handle(new Request("http://localhost/v1/models", { headers: { origin: "http://b.test" } }));
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await app.handle(new Request("http://localhost/v1/chat/completions", { method: "OPTIONS", headers: { origin: "http://a.test" } }));
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-headers")).toContain("authorization");
  });

  test("a body over --max-body → 413 envelope", async () => {
    const app = appWith(new FakeEngine(), { maxBodyBytes: 100 });
    const res = await post(app, "/v1/chat/completions", chat({ messages: [{ role: "user", content: "x".repeat(500) }] }));
    expect(res.status).toBe(413);
    expectEnvelope(await res.json());
  });
});

test("GET /metrics: Prometheus text with request counts by route and status, tokens and slots", async () => {
  const app = appWith();
  await post(app, "/v1/chat/completions", chat());
  await post(app, "/v1/chat/completions", chat({ temperature: 9 }));
  await app.handle(new Request("http://localhost/no/such/route/123"));
  const res = await app.handle(new Request("http://localhost/metrics"));
  expect(res.headers.get("content-type")).toContain("text/plain");
  const text = await res.text();
  expect(text).toMatch(/hearth_requests_total\{route="\/v1\/chat\/completions",status="200"\} [1-9]/);
  expect(text).toMatch(/hearth_requests_total\{route="\/v1\/chat\/completions",status="400"\} [1-9]/);
  expect(text).toContain('route="unmatched"');
  expect(text).not.toContain("/no/such/route");
  expect(text).toMatch(/hearth_completion_tokens_total [1-9]/);
  expect(text).toContain("# TYPE hearth_slots_busy gauge");
});

describe("hostile bodies", () => {
  const raw = (app: ReturnType<typeof appWith>, body: BodyInit, headers: Record<string, string> = {}) =>
    app.handle(new Request("http://localhost/v1/chat/completions", { method: "POST", headers: { "content-type": "application/json", ...headers }, body }));

  test("invalid UTF-8 → 400 invalid_encoding (not silently replaced)", async () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('{"model":"fake-model","messages":[{"role":"user","content":"'), 0xff, 0xfe, ...new TextEncoder().encode('"}]}')]);
    const res = await raw(appWith(), bytes);
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.code).toBe("invalid_encoding");
  });

  test("JSON nested 100,000 deep → 400, and the server is fine", async () => {
    const app = appWith();
    const res = await raw(app, "[".repeat(100_000) + "]".repeat(100_000));
    expect(res.status).toBe(400);
    expectEnvelope(await res.json());
    expect((await post(app, "/v1/chat/completions", chat())).status).toBe(200);
  });

  test("a body without Content-Length over --max-body → 413", async () => {
    const big = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(JSON.stringify(chat({ messages: [{ role: "user", content: "x".repeat(300) }] }))));
        c.close();
      },
    });
    const res = await appWith(new FakeEngine(), { maxBodyBytes: 100 }).handle(
      new Request("http://localhost/v1/chat/completions", { method: "POST", headers: { "content-type": "application/json" }, body: big, duplex: "half" } as RequestInit),
    );
    expect(res.status).toBe(413);
  });
});
