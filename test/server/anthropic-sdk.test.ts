// The official @anthropic-ai/sdk against a real listening Hearth: stories260K for text (ChatML),
// a random-weight model with Qwen2.5's real template for tools (the grammar makes the call).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Anthropic from "@anthropic-ai/sdk";
import { basename } from "node:path";
import { generatedModel } from "../helpers/models.ts";
import { defaultModel } from "../helpers/paths.ts";
import { sseEvents } from "../helpers/anthropic-app.ts";
import { startHearth, type Running } from "../helpers/server.ts";

const STORIES = "stories260K";
let qwen: string;
let server: Running;
let client: Anthropic;

beforeAll(async () => {
  const path = await generatedModel("family-qwen");
  qwen = basename(path, ".gguf");
  server = await startHearth(["--model", defaultModel, "--model", path, "--threads", "1", "--parallel", "2", "--ctx-size", "2048", "--api-key", "test-key"]);
  // The SDK sends its key as x-api-key.
  client = new Anthropic({ baseURL: server.url, apiKey: "test-key", maxRetries: 0 });
}, 120_000);
afterAll(() => server?.stop());

// SDK 1.17's types no longer list temperature; the API (and Hearth) still take it.
const greedy = { temperature: 0 } as {};
const story = { model: STORIES, max_tokens: 40, ...greedy, messages: [{ role: "user" as const, content: "Once upon a time" }] };

describe("messages", () => {
  test("create: a message with text, a stop reason and usage", async () => {
    const m = await client.messages.create(story);
    expect(m).toMatchObject({ type: "message", role: "assistant", model: STORIES });
    expect(m.content[0]!.type).toBe("text");
    expect((m.content[0] as Anthropic.TextBlock).text.length).toBeGreaterThan(0);
    expect(["end_turn", "max_tokens"]).toContain(m.stop_reason!);
    expect(m.usage.output_tokens).toBeGreaterThan(0);
    expect(m.usage.input_tokens + (m.usage.cache_read_input_tokens ?? 0)).toBeGreaterThan(0);
  });

  test("stream: events in order with their indices; the streamed text is the final message's and the JSON answer's", async () => {
    const whole = await client.messages.create(story);
    const res = await fetch(`${server.url}/v1/messages?beta=true`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": "test-key", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ ...story, stream: true }),
    });
    const events = sseEvents(await res.text()).map(([, data]) => data);
    const types = events.map(e => e.type).filter(t => t !== "ping");
    expect(types[0]).toBe("message_start");
    expect(types.slice(-3)).toEqual(["content_block_stop", "message_delta", "message_stop"]);
    expect(events.filter(e => e.type.startsWith("content_block")).every(e => e.index === 0)).toBe(true);
    const raw = events.filter(e => e.type === "content_block_delta").map(e => e.delta.text).join("");
    const stream = client.messages.stream(story);
    let text = "";
    stream.on("text", t => (text += t));
    const final = await stream.finalMessage();
    expect(text).toBe((final.content[0] as Anthropic.TextBlock).text);
    expect(raw).toBe(text);
    expect(text).toBe((whole.content[0] as Anthropic.TextBlock).text);
    expect(final.stop_reason).toBe(whole.stop_reason);
    expect(final.usage.output_tokens).toBe(whole.usage.output_tokens);
  });

  test("stop_sequences: the answer stops before it; stop_reason and stop_sequence say which", async () => {
    const free = (await client.messages.create(story)).content[0] as Anthropic.TextBlock;
    const words = free.text.split(" ").filter(w => /^[a-z]{3,}$/.test(w));
    const stop = ` ${words[Math.min(2, words.length - 1)]}`;
    const m = await client.messages.create({ ...story, stop_sequences: ["QQQ", stop] });
    expect([m.stop_reason, m.stop_sequence]).toEqual(["stop_sequence", stop]);
    expect((m.content[0] as Anthropic.TextBlock).text).toBe(free.text.slice(0, free.text.indexOf(stop)));
  });

  test("count_tokens is the prompt the same request used (input + cache read)", async () => {
    const body = { model: qwen, system: "You are terse.", messages: [{ role: "user" as const, content: "Hello there" }] };
    const counted = await client.messages.countTokens(body);
    const m = await client.messages.create({ ...body, max_tokens: 4, ...greedy });
    expect(counted.input_tokens).toBe(m.usage.input_tokens + (m.usage.cache_read_input_tokens ?? 0));
  });
});

describe("tools", () => {
  const tools: Anthropic.Tool[] = [
    {
      name: "get_weather",
      description: "Weather for a city",
      input_schema: { type: "object", properties: { city: { type: "string", enum: ["Paris", "Rome", "Oslo"] } }, required: ["city"], additionalProperties: false },
    },
  ];

  test("forced tool use (tool_choice tool) gives a tool_use block; its tool_result comes back for an answer", async () => {
    const ask = { role: "user" as const, content: "Weather in Paris?" };
    const m = await client.messages.create({ model: qwen, max_tokens: 60, ...greedy, tools, tool_choice: { type: "tool", name: "get_weather" }, messages: [ask] });
    expect(m.stop_reason).toBe("tool_use");
    const call = m.content.find(b => b.type === "tool_use") as Anthropic.ToolUseBlock;
    expect(call.name).toBe("get_weather");
    expect(call.id).toMatch(/^toolu_/);
    expect(["Paris", "Rome", "Oslo"]).toContain((call.input as { city: string }).city);
    const next = await client.messages.create({
      model: qwen,
      max_tokens: 8,
      ...greedy,
      tools,
      tool_choice: { type: "none" },
      messages: [ask, { role: "assistant", content: m.content }, { role: "user", content: [{ type: "tool_result", tool_use_id: call.id, content: "Sunny, 25°C" }] }],
    });
    expect(next.type).toBe("message");
    expect(next.content.every(b => b.type !== "tool_use")).toBe(true);
  });
});

describe("errors", () => {
  test("the SDK's error classes, with Anthropic's error types", async () => {
    const unknown: any = await client.messages.create({ ...story, model: "claude-no-such-model" }).catch(e => e);
    expect(unknown).toBeInstanceOf(Anthropic.NotFoundError);
    expect(unknown.type).toBe("not_found_error");

    const bad: any = await client.messages.create({ ...story, ...({ temperature: 5 } as {}) }).catch(e => e);
    expect(bad).toBeInstanceOf(Anthropic.BadRequestError);
    expect(bad.type).toBe("invalid_request_error");

    const long: any = await client.messages.create({ ...story, messages: [{ role: "user", content: "once upon a time ".repeat(1000) }] }).catch(e => e);
    expect(long).toBeInstanceOf(Anthropic.BadRequestError);
    // stories260K was trained on 128 tokens: its requests hold at most that.
    expect(long.apiMessage).toMatch(/^prompt is too long: \d+ tokens > 127 maximum$/);

    const keyless = new Anthropic({ baseURL: server.url, apiKey: "wrong", maxRetries: 0 });
    const denied: any = await keyless.messages.create(story).catch(e => e);
    expect(denied).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(denied.type).toBe("authentication_error");
  });
});
