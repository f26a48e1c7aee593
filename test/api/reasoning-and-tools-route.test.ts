// Reasoning and tool calls on the wire, with scripted model output (a fake engine) behind real
// templates: what reaches reasoning_content, content and tool_calls, whole and streamed, and what
// the request passes to the template and the engine.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import OpenAI from "openai";
import { createApp } from "../../src/api/app.ts";
import { FakeEngine, FakeModels } from "../helpers/fake-engine.ts";
import { llamaSrc } from "../helpers/paths.ts";

const template = (name: string) => readFileSync(`${llamaSrc}/models/templates/${name}.jinja`, "utf8");

/** An openai client whose fetch goes straight into the app (no socket). */
function clientFor(pieces: string[], chatTemplate: string) {
  const engine = new FakeEngine(pieces);
  const app = createApp(new FakeModels(engine, "fake-model", undefined, chatTemplate), { apiKeys: [], cors: null, maxBodyBytes: 1 << 20 });
  const client = new OpenAI({
    baseURL: "http://localhost/v1",
    apiKey: "unused",
    maxRetries: 0,
    fetch: async (url: RequestInfo | URL, init?: RequestInit) => app.handle(new Request(url, init)),
  });
  return { client, engine, app };
}

const qwen3Thinking = ["<th", "ink>\nThe user", " says hi.\n</th", "ink>\n\nHel", "lo!"];

test("Qwen3: <think> goes to reasoning_content, the answer to content", async () => {
  const { client } = clientFor(qwen3Thinking, template("Qwen-Qwen3-0.6B"));
  const r: any = await client.chat.completions.create({ model: "fake-model", messages: [{ role: "user", content: "Hi" }] });
  expect(r.choices[0].message.content).toBe("Hello!");
  expect(r.choices[0].message.reasoning_content).toBe("The user says hi.");
  expect(r.choices[0].finish_reason).toBe("stop");
});

test("Qwen3 streamed: delta.reasoning_content, then delta.content, never a tag", async () => {
  const { client } = clientFor(qwen3Thinking, template("Qwen-Qwen3-0.6B"));
  const stream = await client.chat.completions.create({ model: "fake-model", messages: [{ role: "user", content: "Hi" }], stream: true });
  let reasoning = "";
  let content = "";
  let finish = null;
  for await (const chunk of stream) {
    const d: any = chunk.choices[0]?.delta ?? {};
    reasoning += d.reasoning_content ?? "";
    content += d.content ?? "";
    if (content) expect(d.reasoning_content).toBeUndefined(); // thinking comes first
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  expect(reasoning).toBe("The user says hi.");
  expect(content).toBe("Hello!");
  expect(finish).toBe("stop");
});

test("reasoning_format none leaves the thinking in content", async () => {
  const { client } = clientFor(qwen3Thinking, template("Qwen-Qwen3-0.6B"));
  const r: any = await client.chat.completions.create({ model: "fake-model", messages: [{ role: "user", content: "Hi" }], reasoning_format: "none" } as any);
  expect(r.choices[0].message.content).toBe(qwen3Thinking.join(""));
});

test("enable_thinking (field or chat_template_kwargs) reaches the template", async () => {
  const { client, engine } = clientFor(["ok"], template("Qwen-Qwen3-0.6B"));
  const prompt = () => (engine.requests.at(-1)!.prompt as Array<{ text: string }>).map(s => s.text).join("");
  await client.chat.completions.create({ model: "fake-model", messages: [{ role: "user", content: "Hi" }] });
  expect(prompt()).not.toContain("<think>");
  await client.chat.completions.create({ model: "fake-model", messages: [{ role: "user", content: "Hi" }], enable_thinking: false } as any);
  expect(prompt().endsWith("<think>\n\n</think>\n\n")).toBe(true);
  await client.chat.completions.create({ model: "fake-model", messages: [{ role: "user", content: "Hi" }], chat_template_kwargs: { enable_thinking: false } } as any);
  expect(prompt().endsWith("<think>\n\n</think>\n\n")).toBe(true);
});

test("DeepSeek-R1's template opens <think> itself: the answer starts inside reasoning", async () => {
  const { client } = clientFor(["Two plus two ", "is four.\n</think>\n\n", "4"], template("deepseek-ai-DeepSeek-R1-Distill-Qwen-32B"));
  const r: any = await client.chat.completions.create({ model: "fake-model", messages: [{ role: "user", content: "2+2?" }] });
  expect(r.choices[0].message.reasoning_content).toBe("Two plus two is four.");
  expect(r.choices[0].message.content).toBe("4");
});

test("gpt-oss channels; reasoning_effort reaches the template; its control tokens are kept for the parser", async () => {
  const pieces = ["<|channel|>analysis<|message|>", "Simple greeting.", "<|end|><|start|>assistant<|channel|>final<|message|>", "Hi there!"];
  const { client, engine } = clientFor(pieces, template("openai-gpt-oss-120b"));
  const r: any = await client.chat.completions.create({ model: "fake-model", messages: [{ role: "user", content: "Hi" }], reasoning_effort: "high" });
  expect(r.choices[0].message.reasoning_content).toBe("Simple greeting.");
  expect(r.choices[0].message.content).toBe("Hi there!");
  const req = engine.requests.at(-1)!;
  expect((req.prompt as Array<{ text: string }>).map(s => s.text).join("")).toContain("Reasoning: high");
  expect(req.preserveTokens).toEqual(expect.arrayContaining(["<|channel|>", "<|message|>"]));
});

test("Qwen3 thinks, then calls a tool: reasoning, no content, the call (streamed deltas assemble)", async () => {
  const pieces = ["<think>\nNeed weather.\n</think>\n\n", "<tool_", 'call>\n{"name": "get_weather", "argu', 'ments": {"city": "Pa', 'ris"}}\n</tool_call>'];
  const tools = [{ type: "function" as const, function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }];
  const { client, engine } = clientFor(pieces, template("Qwen-Qwen3-0.6B"));
  const r: any = await client.chat.completions.create({ model: "fake-model", messages: [{ role: "user", content: "Weather?" }], tools });
  expect(r.choices[0].finish_reason).toBe("tool_calls");
  expect(r.choices[0].message.content).toBeNull();
  expect(r.choices[0].message.reasoning_content).toBe("Need weather.");
  expect(r.choices[0].message.tool_calls).toEqual([{ id: expect.stringMatching(/^call_/), type: "function", function: { name: "get_weather", arguments: '{"city": "Paris"}' } }]);
  // auto: a lazy grammar that wakes at <tool_call>
  expect(engine.requests.at(-1)!.grammar?.lazy?.words).toEqual(["<tool_call>"]);
  const final = await client.chat.completions.stream({ model: "fake-model", messages: [{ role: "user", content: "Weather?" }], tools }).finalChatCompletion();
  expect(final.choices[0]!.message.tool_calls![0]!).toMatchObject({ type: "function", function: { name: "get_weather", arguments: '{"city": "Paris"}' } });
  expect(final.choices[0]!.message.content ?? "").toBe("");
});

test("tool_choice none: tools are not offered and nothing is parsed; required without tools is a 400", async () => {
  const tools = [{ type: "function" as const, function: { name: "get_weather", parameters: { type: "object" } } }];
  const call = '<tool_call>\n{"name": "get_weather", "arguments": {}}\n</tool_call>';
  const { client, engine } = clientFor([call], template("Qwen-Qwen2.5-7B-Instruct"));
  const r = await client.chat.completions.create({ model: "fake-model", messages: [{ role: "user", content: "x" }], tools, tool_choice: "none" });
  expect(r.choices[0]!.message.content).toBe(call);
  expect(r.choices[0]!.message.tool_calls ?? []).toHaveLength(0);
  expect((engine.requests.at(-1)!.prompt as Array<{ text: string }>).map(s => s.text).join("")).not.toContain("get_weather");
  const err: any = await client.chat.completions.create({ model: "fake-model", messages: [{ role: "user", content: "x" }], tool_choice: "required" }).catch(e => e);
  expect(err.status).toBe(400);
  expect(err.param).toBe("tool_choice");
});
