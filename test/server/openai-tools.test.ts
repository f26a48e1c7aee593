// Tool calls through the official `openai` SDK against a real Hearth serving random-weight models
// with each family's real template. Random weights never choose to call a tool, so these requests
// use tool_choice "required" or a named function: the grammar alone makes the call happen, and the
// family's parser must read it back into tool_calls.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { basename } from "node:path";
import OpenAI from "openai";
import type { ChatCompletionTool } from "openai/resources/chat/completions";
import { generatedModel, type FamilyModel } from "../helpers/models.ts";
import { startHearth, type Running } from "../helpers/server.ts";

const families: FamilyModel[] = ["family-qwen", "family-llama3", "family-mistral", "family-glm"];
let server: Running;
let client: OpenAI;
const ids: Record<string, string> = {};

// Bounded parameters, so a random-weight model finishes its arguments well within max_tokens.
export const weatherTool: ChatCompletionTool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Weather for a city",
    parameters: {
      type: "object",
      properties: { city: { type: "string", enum: ["Paris", "Rome", "Oslo"] }, days: { type: "integer", minimum: 1, maximum: 7 } },
      required: ["city", "days"],
      additionalProperties: false,
    },
  },
};
const timeTool: ChatCompletionTool = {
  type: "function",
  function: { name: "get_time", parameters: { type: "object", properties: { zone: { type: "string", enum: ["UTC", "CET"] } }, required: ["zone"] } },
};

beforeAll(async () => {
  const paths = await Promise.all(families.map(f => generatedModel(f)));
  paths.forEach((p, i) => (ids[families[i]!] = basename(p, ".gguf")));
  server = await startHearth([...paths.flatMap(p => ["--model", p]), "--threads", "1", "--parallel", "1", "--ctx-size", "4096"]);
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
}, 120_000);
afterAll(() => server?.stop());

function expectWeatherArgs(args: string) {
  const parsed = JSON.parse(args);
  expect(["Paris", "Rome", "Oslo"]).toContain(parsed.city);
  expect(Number.isInteger(parsed.days) && parsed.days >= 1 && parsed.days <= 7).toBe(true);
}

describe.each(families)("%s", family => {
  test("tool_choice required: a well-formed call, finish_reason tool_calls", async () => {
    const r = await client.chat.completions.create({
      model: ids[family]!,
      messages: [{ role: "user", content: "What is the weather in Paris?" }],
      tools: [weatherTool, timeTool],
      tool_choice: "required",
      parallel_tool_calls: false,
      temperature: 0,
      max_tokens: 300,
    });
    const choice = r.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.message.tool_calls).toHaveLength(1);
    const call = choice.message.tool_calls![0]!;
    expect(call.type).toBe("function");
    expect(call.id.length).toBeGreaterThan(0);
    if (call.type !== "function") throw new Error("not a function call");
    expect(["get_weather", "get_time"]).toContain(call.function.name);
    if (call.function.name === "get_weather") expectWeatherArgs(call.function.arguments);
    else expect(["UTC", "CET"]).toContain(JSON.parse(call.function.arguments).zone);
    // The call's text does not leak into content.
    expect(choice.message.content ?? "").not.toContain("get_");
  });

  test("a named function, streamed and assembled by the SDK, equals the non-stream answer", async () => {
    const body = {
      model: ids[family]!,
      messages: [{ role: "user" as const, content: "Weather?" }],
      tools: [weatherTool, timeTool],
      tool_choice: { type: "function" as const, function: { name: "get_weather" } },
      temperature: 0,
      max_tokens: 300,
    };
    const stream = client.chat.completions.stream(body);
    let deltas = 0;
    stream.on("chunk", c => {
      const d = c.choices[0]?.delta;
      if (d?.tool_calls) deltas++;
      // Call text never arrives as content.
      expect(d?.content ?? "").not.toContain("get_weather");
    });
    const final = await stream.finalChatCompletion();
    const call = final.choices[0]!.message.tool_calls![0]!;
    if (call.type !== "function") throw new Error("not a function call");
    expect(call.function.name).toBe("get_weather");
    expectWeatherArgs(call.function.arguments);
    expect(final.choices[0]!.finish_reason).toBe("tool_calls");
    expect(deltas).toBeGreaterThanOrEqual(1);
    // Greedy: the same request without streaming parses to the same call.
    const once = await client.chat.completions.create(body);
    const same = once.choices[0]!.message.tool_calls![0]!;
    if (same.type !== "function") throw new Error("not a function call");
    expect(same.function).toEqual(call.function);
  });

  test("a tool round trip: the call and its result in history render and answer", async () => {
    const first = await client.chat.completions.create({
      model: ids[family]!,
      messages: [{ role: "user", content: "Weather in Rome?" }],
      tools: [weatherTool],
      tool_choice: "required",
      temperature: 0,
      max_tokens: 300,
    });
    const message = first.choices[0]!.message;
    const call = message.tool_calls![0]!;
    const second = await client.chat.completions.create({
      model: ids[family]!,
      messages: [
        { role: "user", content: "Weather in Rome?" },
        message,
        { role: "tool", tool_call_id: call.id, content: '{"temp_c": 21}' },
      ],
      tools: [weatherTool],
      tool_choice: "none",
      temperature: 0,
      max_tokens: 8,
    });
    expect(second.choices[0]!.message.tool_calls ?? []).toHaveLength(0);
    expect(["stop", "length"]).toContain(second.choices[0]!.finish_reason);
    // The history reached the prompt: the tool result and the call's arguments are in it.
    const prompt: any = await (await fetch(`${server.url}/apply-template`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: ids[family]!, messages: [{ role: "user", content: "Weather in Rome?" }, message, { role: "tool", tool_call_id: call.id, content: '{"temp_c": 21}' }], tools: [weatherTool] }),
    })).json();
    expect(prompt.prompt).toContain("temp_c");
    if (call.type !== "function") throw new Error("not a function call");
    expect(prompt.prompt).toContain(JSON.parse(call.function.arguments).city);
  });
});

test("tool_choice naming an unknown function is a 400 on tool_choice", async () => {
  const err: any = await client.chat.completions
    .create({ model: ids["family-qwen"]!, messages: [{ role: "user", content: "x" }], tools: [weatherTool], tool_choice: { type: "function", function: { name: "nope" } } })
    .catch(e => e);
  expect(err.status).toBe(400);
  expect(err.error?.param ?? err.param).toBe("tool_choice");
});

test("tool_choice auto on a model that does not call: a normal answer (the lazy grammar stays asleep)", async () => {
  const r = await client.chat.completions.create({ model: ids["family-qwen"]!, messages: [{ role: "user", content: "Hi" }], tools: [weatherTool], temperature: 0, max_tokens: 16 });
  expect(r.choices[0]!.finish_reason).toBe("length");
  expect(r.choices[0]!.message.tool_calls ?? []).toHaveLength(0);
  expect((r.choices[0]!.message.content ?? "").length).toBeGreaterThan(0);
});
