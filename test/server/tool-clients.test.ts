// Tool calling from the frameworks people build agents with, against a real Hearth: LangChain's
// ChatOpenAI.bindTools and the Vercel AI SDK's generateText through @ai-sdk/openai-compatible.
// The model is random-weight family-qwen (Qwen 2.5's template), so the call is forced with
// tool_choice; the frameworks must read it back, run the tool and send its result in history.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { AIMessage, HumanMessage, ToolMessage } from "@langchain/core/messages";
import { ChatOpenAI } from "@langchain/openai";
import { generateText, stepCountIs, tool } from "ai";
import { basename } from "node:path";
import { z } from "zod";
import { generatedModel } from "../helpers/models.ts";
import { startHearth, type Running } from "../helpers/server.ts";

let server: Running;
let model: string;

beforeAll(async () => {
  const path = await generatedModel("family-qwen");
  model = basename(path, ".gguf");
  server = await startHearth(["--model", path, "--threads", "1", "--parallel", "1", "--ctx-size", "4096"]);
}, 120_000);
afterAll(() => server?.stop());

const weatherSchema = z.object({ city: z.enum(["Paris", "Rome", "Oslo"]), days: z.number().int().min(1).max(7) });

test("LangChain ChatOpenAI.bindTools: a call, then the tool's result in history", async () => {
  const llm = new ChatOpenAI({ model, apiKey: "unused", configuration: { baseURL: `${server.url}/v1` }, temperature: 0, maxTokens: 300, maxRetries: 0 });
  const weather = { name: "get_weather", description: "Weather for a city", schema: weatherSchema };
  const bound = llm.bindTools([weather], { tool_choice: "get_weather" });
  const ai = (await bound.invoke([new HumanMessage("Weather in Oslo?")])) as AIMessage;
  expect(ai.tool_calls).toHaveLength(1);
  const call = ai.tool_calls![0]!;
  expect(call.name).toBe("get_weather");
  expect(weatherSchema.parse(call.args)).toEqual(call.args as any);
  expect(call.id).toBeTruthy();
  // Round trip: LangChain writes the call back as an assistant message and the result as a tool message.
  const next = await llm.bindTools([weather], { tool_choice: "none" }).invoke([
    new HumanMessage("Weather in Oslo?"),
    ai,
    new ToolMessage({ tool_call_id: call.id!, content: '{"temp_c": 3}' }),
  ]);
  expect(next.tool_calls ?? []).toHaveLength(0);
  expect(typeof next.content).toBe("string");
});

test("Vercel AI SDK generateText with a tool: the tool runs with parsed arguments", async () => {
  const provider = createOpenAICompatible({ name: "hearth", baseURL: `${server.url}/v1`, apiKey: "unused" });
  const seen: unknown[] = [];
  const result = await generateText({
    model: provider(model),
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
    toolChoice: "required",
    temperature: 0,
    maxOutputTokens: 300,
    stopWhen: stepCountIs(1),
  });
  expect(result.toolCalls).toHaveLength(1);
  expect(result.toolCalls[0]!.toolName).toBe("get_weather");
  expect(seen).toHaveLength(1);
  expect(weatherSchema.parse(seen[0])).toEqual(seen[0] as any);
  expect(result.toolResults[0]!.output).toEqual({ temp_c: 21 });
  expect(result.finishReason).toBe("tool-calls");
});
