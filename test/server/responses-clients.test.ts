// The agent frameworks whose default OpenAI path is the Responses API, against a real Hearth: the
// Vercel AI SDK's `openai(...)` provider (@ai-sdk/openai 2, which validates every event with a
// schema) and the OpenAI Agents SDK. Text on stories260K; tools on random-weight family-qwen
// (Qwen 2.5's template), so the first call is forced and the frameworks must run the tool and
// send its result back.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createOpenAI } from "@ai-sdk/openai";
import { Agent, OpenAIResponsesModel, run, setTracingDisabled, tool as agentTool } from "@openai/agents";
import { generateText, stepCountIs, streamText, tool } from "ai";
import OpenAI from "openai";
import { basename } from "node:path";
import { z } from "zod";
import { generatedModel } from "../helpers/models.ts";
import { defaultModel } from "../helpers/paths.ts";
import { startHearth, type Running } from "../helpers/server.ts";

const STORIES = "stories260K";
let qwen: string;
let server: Running;

beforeAll(async () => {
  const path = await generatedModel("family-qwen");
  qwen = basename(path, ".gguf");
  // -n ends the agent's final turn, as Codex's recipe does. (@ai-sdk/openai 4 takes a model name it
  // does not know for a non-reasoning model and keeps temperature: local ids need no GPT alias.)
  server = await startHearth(["--model", defaultModel, "--model", path, "-n", "64", "--threads", "1", "--parallel", "2", "--ctx-size", "4096"]);
}, 120_000);
afterAll(() => server?.stop());

const weatherSchema = z.object({ city: z.enum(["Paris", "Rome", "Oslo"]) });

describe("Vercel AI SDK, default provider (Responses)", () => {
  test("generateText and streamText give the same text at temperature 0; the stream has no error parts", async () => {
    const openai = createOpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused" });
    const params = { model: openai(STORIES), prompt: "Once upon a time", temperature: 0, maxOutputTokens: 40 };
    const whole = await generateText(params);
    expect(whole.text.length).toBeGreaterThan(0);
    expect(whole.warnings).toEqual([]); // temperature and the rest were sent, none dropped
    const stream = streamText(params);
    const types: string[] = [];
    for await (const part of stream.fullStream) {
      types.push(part.type);
      if (part.type === "error") throw part.error;
    }
    expect(types).toContain("text-delta");
    expect(await stream.text).toBe(whole.text);
    expect((await stream.usage).outputTokens).toBe(whole.usage.outputTokens);
    expect(await stream.warnings).toEqual([]);
  });

  test("a call forced with toolChoice required, the tool run, its result sent back in a second step", async () => {
    const openai = createOpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused" });
    const seen: unknown[] = [];
    const result = await generateText({
      model: openai(qwen),
      prompt: "Weather in Rome?",
      tools: {
        get_weather: tool({
          description: "Weather for a city",
          inputSchema: weatherSchema,
          execute: async input => {
            seen.push(input);
            return { temp_c: 21 };
          },
        }),
      },
      prepareStep: ({ stepNumber }) => ({ toolChoice: stepNumber === 0 ? "required" : "none" }),
      temperature: 0,
      maxOutputTokens: 60,
      stopWhen: stepCountIs(2),
    });
    expect(result.steps).toHaveLength(2);
    expect(result.steps[0]!.toolCalls.map(c => c.toolName)).toEqual(["get_weather"]);
    expect(weatherSchema.parse(seen[0])).toEqual(seen[0] as any);
    expect(result.steps[0]!.toolResults[0]!.output).toEqual({ temp_c: 21 });
    expect(result.steps[1]!.toolCalls).toHaveLength(0);
    expect(result.steps.flatMap(s => s.warnings ?? [])).toEqual([]);
  });
});

describe("OpenAI Agents SDK", () => {
  test("an agent with a function tool: the forced first turn calls it, the run ends with a final output", async () => {
    setTracingDisabled(true);
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const calls: string[] = [];
    const agent = new Agent({
      name: "weather",
      instructions: "Answer with the weather.",
      model: new OpenAIResponsesModel(client, qwen),
      tools: [
        agentTool({
          name: "get_weather",
          description: "Weather for a city",
          parameters: weatherSchema,
          execute: async ({ city }) => {
            calls.push(city);
            return `Sunny in ${city}`;
          },
        }),
      ],
      // Forced for the first turn; the SDK resets it to auto after the call (resetToolChoice).
      modelSettings: { toolChoice: "required", temperature: 0 },
    });
    const result = await run(agent, "Weather in Oslo?", { maxTurns: 4 });
    expect(calls).toHaveLength(1);
    expect(["Paris", "Rome", "Oslo"]).toContain(calls[0]!);
    expect(typeof result.finalOutput).toBe("string");
  });
});
