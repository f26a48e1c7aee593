// The Vercel AI SDK's default OpenAI provider (Responses API; it checks every event and the JSON
// answer against its own schemas) against a fake engine: text, reasoning items and tool calls,
// streamed and not, without a schema error.
import { describe, expect, test } from "bun:test";
import { createOpenAI } from "@ai-sdk/openai";
import { generateText, streamText, tool } from "ai";
import { z } from "zod";
import { FakeEngine } from "../helpers/fake-engine.ts";
import { responsesApp, template } from "../helpers/responses-app.ts";

const qwen3 = template("Qwen-Qwen3-0.6B");
const mixed = ["<think>\nLook it", " up.\n</think>\n\nChecking.", '<tool_call>\n{"name": "get_weather", ', '"arguments": {"city": "Paris"}}\n</tool_call>'];
const tools = { get_weather: tool({ description: "Weather", inputSchema: z.object({ city: z.string() }) }) };

function provider(engine: FakeEngine, chatTemplate: string | null = null) {
  const { app } = responsesApp(engine, chatTemplate);
  const fetch = (async (url: RequestInfo | URL, init?: RequestInit) => app.handle(new Request(url, init))) as typeof globalThis.fetch;
  return createOpenAI({ baseURL: "http://localhost/v1", apiKey: "unused", fetch });
}

describe("AI SDK default provider", () => {
  test("generateText and streamText: the same text, no error parts", async () => {
    const openai = provider(new FakeEngine());
    const whole = await generateText({ model: openai("fake-model"), prompt: "Hi" });
    expect(whole.text).toBe("Hello, world!");
    const stream = streamText({ model: openai("fake-model"), prompt: "Hi" });
    for await (const part of stream.fullStream) if (part.type === "error") throw part.error;
    expect(await stream.text).toBe(whole.text);
    expect((await stream.usage).outputTokens).toBe(4);
  });

  test("reasoning summaries (providerOptions reasoningSummary) carry the reasoning text, streamed and not", async () => {
    const openai = provider(new FakeEngine(mixed), qwen3);
    // @ai-sdk/openai 4 takes an unknown model name for a non-reasoning model and drops
    // reasoningSummary (with a warning) unless told otherwise.
    const providerOptions = { openai: { reasoningSummary: "auto", forceReasoning: true } };
    const whole = await generateText({ model: openai("fake-model"), prompt: "Weather?", tools, providerOptions });
    expect(whole.reasoningText).toBe("Look it up.");
    const stream = streamText({ model: openai("fake-model"), prompt: "Weather?", tools, providerOptions });
    for await (const part of stream.fullStream) if (part.type === "error") throw part.error;
    expect(await stream.reasoningText).toBe("Look it up.");
  });

  // @ai-sdk/openai (2 and 4) reads reasoning summaries only, never reasoning_text: without a summary asked for, the reasoning item passes its schemas unseen.
  test("reasoning, text and a call, streamed and not: the same parts", async () => {
    const openai = provider(new FakeEngine(mixed), qwen3);
    const whole = await generateText({ model: openai("fake-model"), prompt: "Weather?", tools });
    expect(whole.text).toBe("Checking.");
    expect(whole.toolCalls.map(c => [c.toolName, c.input])).toEqual([["get_weather", { city: "Paris" }]]);
    const stream = streamText({ model: openai("fake-model"), prompt: "Weather?", tools });
    const types = new Set<string>();
    for await (const part of stream.fullStream) {
      if (part.type === "error") throw part.error;
      types.add(part.type);
    }
    for (const t of ["text-delta", "tool-input-delta", "tool-call", "finish"]) expect(types).toContain(t);
    expect(await stream.text).toBe("Checking.");
    expect((await stream.toolCalls).map(c => [c.toolName, c.input])).toEqual([["get_weather", { city: "Paris" }]]);
  });
});
