// Ollama's dialect over a fake engine (no model, no socket): the real `ollama` library's fetch goes
// straight into the app. What is checked here is the translation: the engine's timings become the
// last chunk's nanoseconds exactly, options reach the engine request under their own names,
// NDJSON framing, Ollama's error envelope and statuses, and what is refused.
import { describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ollama } from "ollama";
import { createApp } from "../../src/api/app.ts";
import { keepAliveSeconds } from "../../src/api/ollama/options.ts";
import { FakeEngine, FakeModels } from "../helpers/fake-engine.ts";
import { png } from "../helpers/images.ts";
import type { AcquiredModel } from "../../src/api/model-source.ts";
import type { PromptSegment } from "../../src/engine/types.ts";
import { ChatOllama } from "@langchain/ollama";
import { tool } from "@langchain/core/tools";
import { generateText, tool as aiTool } from "ai";
import { createOllama } from "ollama-ai-provider-v2";
import { z } from "zod";

function ollamaApp(engine = new FakeEngine()) {
  const home = mkdtempSync(join(tmpdir(), "hearth-ollama-"));
  const app = createApp(new FakeModels(engine), { apiKeys: [], cors: null, maxBodyBytes: 1 << 20, ollama: { home } });
  const fetch = (async (url: RequestInfo | URL, init?: RequestInit) => app.handle(new Request(url, init))) as typeof globalThis.fetch;
  const client = new Ollama({ host: "http://localhost", fetch });
  const post = (path: string, body: unknown, method = "POST") =>
    app.handle(new Request(`http://localhost${path}`, { method, headers: { "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) }));
  return { app, client, engine, post };
}

const user = (content: string) => [{ role: "user", content }];

/** The fake model with a vision projector. */
class VisionModels extends FakeModels {
  override async acquire(name?: string | null): Promise<AcquiredModel> {
    const m = await super.acquire(name);
    return { ...m, info: { ...m.info, vision: true } };
  }
}

test("a value that cannot become a string (an object with its own toString) is a 400 in Ollama's envelope, not a 500", async () => {
  // Found by the HTTP fuzz: Elysia's validation message interpolates the value and throws.
  const { post } = ollamaApp();
  for (const [path, body] of [
    ["/api/show", { model: "stories260K:latest", name: { toString: 282 }, verbose: false }],
    ["/api/show", { model: { valueOf: 1, toString: 2 } }],
    ["/api/chat", { model: { toString: 1 }, messages: [] }],
  ] as const) {
    const res = await post(path, body);
    expect({ path, status: res.status }).toEqual({ path, status: 400 });
    const json: any = await res.json();
    expect(typeof json.error).toBe("string");
  }
});

describe("chat", () => {
  test("non-streamed: the answer and the engine's own timings in nanoseconds", async () => {
    const { client } = ollamaApp();
    const r = await client.chat({ model: "fake-model", messages: user("hi"), stream: false });
    expect(r.message).toEqual({ role: "assistant", content: "Hello, world!" });
    expect(r.done).toBe(true);
    expect(r.done_reason).toBe("stop");
    // The fake engine reports promptMs 1, predictedMs 2, predictedN 4 and 7 prompt tokens.
    expect(r.prompt_eval_count).toBe(7);
    expect(r.prompt_eval_duration).toBe(1_000_000);
    expect(r.eval_count).toBe(4);
    expect(r.eval_duration).toBe(2_000_000);
    // The fake engine's durations are made up (it answers in well under 3 ms), so only the
    // request's own clocks are compared here; total >= load + prompt + eval on measured timings is
    // the real-server test's (test/server/ollama-clients.test.ts).
    expect(r.total_duration).toBeGreaterThanOrEqual(r.load_duration);
    expect(Date.parse(r.created_at as unknown as string)).not.toBeNaN();
  });

  test("streamed by default: NDJSON, each line with model and created_at, the last done with done_reason", async () => {
    const { post } = ollamaApp();
    const res = await post("/api/chat", { model: "fake-model:latest", messages: user("hi") });
    expect(res.headers.get("content-type")).toBe("application/x-ndjson");
    const lines = (await res.text()).trimEnd().split("\n").map(l => JSON.parse(l));
    expect(lines.map(l => l.message.content).join("")).toBe("Hello, world!");
    for (const l of lines) {
      expect(l.model).toBe("fake-model:latest");
      expect(typeof l.created_at).toBe("string");
    }
    expect(lines.slice(0, -1).every(l => l.done === false)).toBe(true);
    expect(lines.at(-1)).toMatchObject({ done: true, done_reason: "stop", eval_count: 4, eval_duration: 2_000_000 });
  });

  test("through the library's stream iterator", async () => {
    const { client } = ollamaApp();
    let text = "";
    let last: any;
    for await (const part of await client.chat({ model: "fake-model", messages: user("hi"), stream: true })) {
      text += part.message.content;
      last = part;
    }
    expect(text).toBe("Hello, world!");
    expect(last.done).toBe(true);
  });

  test("options reach the engine under their own names; unknown keys are ignored", async () => {
    const { client, engine } = ollamaApp();
    await client.chat({
      model: "fake-model",
      messages: user("hi"),
      stream: false,
      options: { num_predict: 2, temperature: 0.3, top_k: 7, top_p: 0.5, min_p: 0.1, repeat_penalty: 1.2, repeat_last_n: 32, presence_penalty: 0.4, frequency_penalty: 0.6, seed: 42, stop: ["xyz"], num_gpu: 99, mirostat: 2 } as any,
    });
    const r = engine.requests[0]!;
    expect(r.maxTokens).toBe(2);
    expect(r.stop[0]).toBe("xyz");
    expect(r.sampling).toMatchObject({ temperature: 0.3, topK: 7, topP: 0.5, minP: 0.1, repeatPenalty: 1.2, penaltyLastN: 32, presencePenalty: 0.4, frequencyPenalty: 0.6, seed: 42 });
  });

  test("num_predict cuts the answer: done_reason length", async () => {
    const { client } = ollamaApp();
    const r = await client.chat({ model: "fake-model", messages: user("hi"), stream: false, options: { num_predict: 2 } });
    expect(r.message.content).toBe("Hello,");
    expect(r.done_reason).toBe("length");
  });

  test("num_ctx above the model's context is a 400, never a truncation; within it, a prompt that does not fit is a 400", async () => {
    const { post } = ollamaApp();
    const over = await post("/api/chat", { model: "fake-model", messages: user("hi"), stream: false, options: { num_ctx: 8192 } });
    expect(over.status).toBe(400);
    expect((await over.json()).error).toContain("num_ctx 8192 exceeds");
    const tight = await post("/api/chat", { model: "fake-model", messages: user("a long enough prompt"), stream: false, options: { num_ctx: 8 } });
    expect(tight.status).toBe(400);
    expect((await tight.json()).error).toMatch(/prompt is too long: \d+ tokens > 7 maximum/);
  });

  test("format json constrains the answer with a grammar; a schema too", async () => {
    const { client, engine } = ollamaApp();
    await client.chat({ model: "fake-model", messages: user("hi"), stream: false, format: "json" });
    await client.chat({ model: "fake-model", messages: user("hi"), stream: false, format: { type: "object", properties: { a: { type: "integer" } }, required: ["a"] } });
    expect(engine.requests[0]!.grammar?.gbnf).toContain("root");
    expect(engine.requests[1]!.grammar?.gbnf).toContain("root");
    expect(engine.requests[1]!.grammar?.gbnf).not.toBe(engine.requests[0]!.grammar?.gbnf);
  });

  test("an empty conversation loads the model: done_reason load; keep_alive 0 says unload", async () => {
    const { client } = ollamaApp();
    const load = await client.chat({ model: "fake-model", messages: [], stream: false });
    expect(load.done_reason).toBe("load");
    const unload = await client.chat({ model: "fake-model", messages: [], stream: false, keep_alive: 0 });
    expect(unload.done_reason).toBe("unload");
  });

  test("tool calls from the model come back with arguments as an object", async () => {
    const engine = new FakeEngine(['<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>']);
    const qwenTemplate = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if tools %}<tools>{% for t in tools %}{{ t | tojson }}{% endfor %}</tools>{% endif %}<tool_call></tool_call><|im_start|>assistant\n";
    const app = createApp(new FakeModels(engine, "fake-model", undefined, qwenTemplate), { apiKeys: [], cors: null, maxBodyBytes: 1 << 20, ollama: { home: mkdtempSync(join(tmpdir(), "hearth-ollama-")) } });
    const client = new Ollama({ host: "http://localhost", fetch: (async (u: RequestInfo | URL, i?: RequestInit) => app.handle(new Request(u, i))) as typeof fetch });
    const tools = [{ type: "function", function: { name: "get_weather", description: "weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } }];
    const r = await client.chat({ model: "fake-model", messages: user("weather?"), tools, stream: false });
    expect(r.message.tool_calls?.map(c => c.function)).toEqual([{ index: 0, name: "get_weather", arguments: { city: "Paris" } } as any]);
    expect(r.done_reason).toBe("stop");
    const streamed: any[] = [];
    for await (const part of await client.chat({ model: "fake-model", messages: user("weather?"), tools, stream: true })) streamed.push(part);
    const calls = streamed.flatMap(p => p.message.tool_calls ?? []);
    expect(calls.map(c => c.function.arguments)).toEqual([{ city: "Paris" }]);
  });

  test("history with tool calls and a tool turn reaches the template", async () => {
    const { client, engine } = ollamaApp();
    await client.chat({
      model: "fake-model",
      stream: false,
      messages: [
        { role: "user", content: "weather?" },
        { role: "assistant", content: "", tool_calls: [{ function: { name: "get_weather", arguments: { city: "Oslo" } } }] },
        { role: "tool", content: "cold", tool_name: "get_weather" } as any,
      ],
    });
    const prompt = (engine.requests[0]!.prompt as number[]).map(c => String.fromCharCode(c)).join("");
    expect(prompt).toContain("cold");
  });
});

describe("tool calls through the frameworks (their own parsers, over the fake engine)", () => {
  const qwenTemplate = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if tools %}<tools>{% for t in tools %}{{ t | tojson }}{% endfor %}</tools>{% endif %}<tool_call></tool_call><|im_start|>assistant\n";
  const toolApp = () => {
    const engine = new FakeEngine(['<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>']);
    const app = createApp(new FakeModels(engine, "fake-model", undefined, qwenTemplate), { apiKeys: [], cors: null, maxBodyBytes: 1 << 20, ollama: { home: mkdtempSync(join(tmpdir(), "hearth-ollama-")) } });
    return (async (u: RequestInfo | URL, i?: RequestInit) => app.handle(new Request(u, i))) as typeof fetch;
  };

  test("LangChain ChatOllama.bindTools: the call as an AIMessage tool call", async () => {
    const chat = new ChatOllama({ baseUrl: "http://localhost", model: "fake-model", fetch: toolApp() });
    const weather = tool(async () => "sunny", { name: "get_weather", description: "weather for a city", schema: z.object({ city: z.string() }) });
    const answer = await chat.bindTools([weather]).invoke("Weather in Paris?");
    expect(answer.tool_calls?.map(c => ({ name: c.name, args: c.args }))).toEqual([{ name: "get_weather", args: { city: "Paris" } }]);
  });

  test("the AI SDK's Ollama provider: generateText with a tool runs it", async () => {
    const ollama = createOllama({ baseURL: "http://localhost/api", fetch: toolApp() });
    const seen: unknown[] = [];
    const r = await generateText({
      model: ollama("fake-model"),
      prompt: "Weather in Paris?",
      tools: { get_weather: aiTool({ description: "weather for a city", inputSchema: z.object({ city: z.string() }), execute: async input => (seen.push(input), "sunny") }) },
    });
    expect(r.toolCalls.map(c => [c.toolName, c.input])).toEqual([["get_weather", { city: "Paris" }]]);
    expect(seen).toEqual([{ city: "Paris" }]);
  });
});

describe("generate", () => {
  test("raw: the prompt as written, no template", async () => {
    const { client, engine } = ollamaApp();
    const r = await client.generate({ model: "fake-model", prompt: "<s>Once", raw: true, stream: false });
    expect(r.response).toBe("Hello, world!");
    const prompt = (engine.requests[0]!.prompt as number[]).map(c => String.fromCharCode(c)).join("");
    expect(prompt).toBe("<s>Once");
  });

  test("templated with system; streamed by default; an empty prompt loads", async () => {
    const { client, engine } = ollamaApp();
    let text = "";
    for await (const part of await client.generate({ model: "fake-model", prompt: "Once", system: "Be brief", stream: true })) text += part.response;
    expect(text).toBe("Hello, world!");
    const prompt = (engine.requests[0]!.prompt as number[]).map(c => String.fromCharCode(c)).join("");
    expect(prompt).toContain("Be brief");
    expect(prompt).toContain("Once");
    expect((await client.generate({ model: "fake-model", prompt: "", stream: false })).done_reason).toBe("load");
  });

  test("images: image parts before the text on a vision model; a clear 400 on a model without one; template overrides refused", async () => {
    const image = png(8, 6, (x, y) => [x * 30, y * 40, 7]);
    const b64 = Buffer.from(image).toString("base64");
    const engine = new FakeEngine();
    const vision = createApp(new VisionModels(engine), { apiKeys: [], cors: null, maxBodyBytes: 1 << 20, ollama: { home: mkdtempSync(join(tmpdir(), "hearth-ollama-")) } });
    const client = new Ollama({ host: "http://localhost", fetch: (async (u: RequestInfo | URL, i?: RequestInit) => vision.handle(new Request(u, i))) as typeof fetch });
    await client.chat({ model: "fake-model", messages: [{ role: "user", content: "What is this?", images: [b64] }], stream: false });
    await client.generate({ model: "fake-model", prompt: "And this?", images: [b64], stream: false });
    for (const [i, name, text] of [[0, "messages[0].images[0]", "What is this?"], [1, "images[0]", "And this?"]] as const) {
      const r = engine.requests[i]!;
      expect(r.images).toEqual([{ data: b64, name }]);
      const shown = (r.prompt as PromptSegment[]).map(s => (s.image !== undefined ? "[image]" : s.text)).join("");
      expect(shown).toContain(`[image]${text}`);
    }
    const { post } = ollamaApp();
    const images = await post("/api/generate", { model: "fake-model", prompt: "x", images: [b64] });
    expect(images.status).toBe(400);
    expect((await images.json()).error).toMatch(/vision/);
    const raw = await post("/api/generate", { model: "fake-model", prompt: "x", raw: true, images: [b64] });
    expect(raw.status).toBe(400);
    const template = await post("/api/generate", { model: "fake-model", prompt: "x", template: "{{ .Prompt }}" });
    expect(template.status).toBe(400);
  });
});

describe("errors and the rest", () => {
  test("unknown model: ResponseError 404 in Ollama's words", async () => {
    const { client } = ollamaApp();
    const err = await client.chat({ model: "nope", messages: user("hi") }).catch(e => e);
    expect(err.name).toBe("ResponseError");
    expect(err.status_code).toBe(404);
    expect(err.error).toBe('model "nope" not found, try pulling it first');
  });

  test("bad bodies are 400 {error}; unknown /api paths 404 {error}; create and push 501 with what to do", async () => {
    const { post, app } = ollamaApp();
    for (const [path, body] of [["/api/chat", "{not json"], ["/api/chat", { messages: [{ role: "wizard", content: "x" }] }], ["/api/generate", { prompt: 3 }], ["/api/chat", { messages: [], keep_alive: "soon" }]] as const) {
      const res = await post(path, body);
      expect(res.status).toBe(400);
      expect(typeof (await res.json()).error).toBe("string");
    }
    const missing = await app.handle(new Request("http://localhost/api/nothing"));
    expect(missing.status).toBe(404);
    expect(Object.keys(await missing.json())).toEqual(["error"]);
    for (const path of ["/api/create", "/api/push"]) {
      const res = await post(path, { model: "x" });
      expect(res.status).toBe(501);
      expect((await res.json()).error).toMatch(/Hearth does not .*: /);
    }
  });

  test("version, tags, ps, HEAD /", async () => {
    const { client, app } = ollamaApp();
    expect((await client.version()).version).toMatch(/^\d+\.\d+\.\d+$/);
    const list = await client.list();
    expect(list.models.map(m => m.name)).toEqual(["fake-model:latest"]);
    expect((await client.ps()).models.map(m => m.name)).toEqual(["fake-model:latest"]);
    expect((await app.handle(new Request("http://localhost/", { method: "HEAD" }))).status).toBe(200);
  });

  test("keep_alive durations", () => {
    expect(keepAliveSeconds("5m")).toBe(300);
    expect(keepAliveSeconds("1h30m")).toBe(5400);
    expect(keepAliveSeconds("300ms")).toBeCloseTo(0.3);
    expect(keepAliveSeconds(0)).toBe(0);
    expect(keepAliveSeconds("-1")).toBe(-1);
    expect(keepAliveSeconds("-1m")).toBe(-60);
    expect(keepAliveSeconds(undefined)).toBeUndefined();
    expect(() => keepAliveSeconds("soon")).toThrow();
  });
});
