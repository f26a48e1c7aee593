// The official openai SDK's Responses API against a real listening Hearth: stories260K for text
// (ChatML), a random-weight model with Qwen2.5's real template for tools, structured output and
// continuation (the grammar makes the call and the JSON).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Ajv from "ajv";
import OpenAI from "openai";
import { basename } from "node:path";
import { generatedModel } from "../helpers/models.ts";
import { defaultModel } from "../helpers/paths.ts";
import { startHearth, type Running } from "../helpers/server.ts";

const STORIES = "stories260K";
let qwen: string;
let server: Running;
let client: OpenAI;

beforeAll(async () => {
  const path = await generatedModel("family-qwen");
  qwen = basename(path, ".gguf");
  server = await startHearth(["--model", defaultModel, "--model", path, "--threads", "1", "--parallel", "2", "--ctx-size", "2048", "--api-key", "test-key"]);
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "test-key", maxRetries: 0 });
}, 120_000);
afterAll(() => server?.stop());

const story = { model: STORIES, max_output_tokens: 40, temperature: 0 };

describe("responses", () => {
  test("create with a string input: a message with text, a status and usage", async () => {
    const r = await client.responses.create({ ...story, input: "Once upon a time" });
    expect(r).toMatchObject({ object: "response", model: STORIES });
    expect(["completed", "incomplete"]).toContain(r.status!);
    expect(r.output_text.length).toBeGreaterThan(0);
    expect(r.usage!.output_tokens).toBeGreaterThan(0);
    expect(r.usage!.total_tokens).toBe(r.usage!.input_tokens + r.usage!.output_tokens);
  });

  test("create with items and instructions equals the same conversation as a string", async () => {
    const items = await client.responses.create({ ...story, instructions: "Tell a story.", input: [{ role: "user", content: [{ type: "input_text", text: "Once upon a time" }] }] });
    const text = await client.responses.create({ ...story, instructions: "Tell a story.", input: "Once upon a time" });
    expect(items.output_text.length).toBeGreaterThan(0);
    expect(items.output_text).toBe(text.output_text);
  });

  test("stream: the deltas add up to the final text, which is the JSON answer's", async () => {
    const whole = await client.responses.create({ ...story, input: "Once upon a time" });
    const stream = client.responses.stream({ ...story, input: "Once upon a time" });
    let text = "";
    const numbers: number[] = [];
    stream.on("event", e => numbers.push(e.sequence_number));
    stream.on("response.output_text.delta", e => (text += e.delta));
    const final = await stream.finalResponse();
    expect(numbers).toEqual(numbers.map((_, i) => i));
    expect(text).toBe(final.output_text);
    expect(text).toBe(whole.output_text);
    expect(final.status).toBe(whole.status);
    expect(final.usage!.output_tokens).toBe(whole.usage!.output_tokens);
  });

  test("previous_response_id continues the conversation and reports the reused prompt in cached_tokens", async () => {
    const first = await client.responses.create({ model: qwen, instructions: "You are terse.", input: "Hello there", max_output_tokens: 8, temperature: 0 });
    const next = await client.responses.create({ model: qwen, instructions: "You are terse.", previous_response_id: first.id, input: "And again?", max_output_tokens: 8, temperature: 0 });
    expect(next.previous_response_id).toBe(first.id);
    expect(next.usage!.input_tokens).toBeGreaterThan(first.usage!.input_tokens);
    expect(next.usage!.input_tokens_details.cached_tokens).toBeGreaterThanOrEqual(first.usage!.input_tokens);
    const counted = await client.responses.inputTokens.count({ model: qwen, instructions: "You are terse.", previous_response_id: first.id, input: "And again?" });
    expect(counted.input_tokens).toBe(next.usage!.input_tokens);
  });

  test("retrieve and delete", async () => {
    const r = await client.responses.create({ ...story, input: "Once upon a time" });
    expect((await client.responses.retrieve(r.id)).output_text).toBe(r.output_text);
    await client.responses.delete(r.id);
    expect(await client.responses.retrieve(r.id).catch(e => e)).toBeInstanceOf(OpenAI.NotFoundError);
  });
});

describe("tools and structured output", () => {
  const tools: OpenAI.Responses.FunctionTool[] = [
    {
      type: "function",
      name: "get_weather",
      description: "Weather for a city",
      strict: true,
      parameters: { type: "object", properties: { city: { type: "string", enum: ["Paris", "Rome", "Oslo"] } }, required: ["city"], additionalProperties: false },
    },
  ];

  test("a forced call (tool_choice required) is a function_call item; its function_call_output comes back for an answer", async () => {
    const ask = { role: "user" as const, content: "Weather in Paris?" };
    const r = await client.responses.create({ model: qwen, max_output_tokens: 60, temperature: 0, tools, tool_choice: "required", input: [ask] });
    const call = r.output.find(o => o.type === "function_call") as OpenAI.Responses.ResponseFunctionToolCall;
    expect(call.name).toBe("get_weather");
    expect(call.call_id).toMatch(/^call_/);
    expect(["Paris", "Rome", "Oslo"]).toContain(JSON.parse(call.arguments).city);
    const next = await client.responses.create({
      model: qwen,
      max_output_tokens: 8,
      temperature: 0,
      tools,
      tool_choice: "none",
      input: [ask, ...(r.output as OpenAI.Responses.ResponseInputItem[]), { type: "function_call_output", call_id: call.call_id, output: "Sunny, 25°C" }],
    });
    expect(next.output.every(o => o.type !== "function_call")).toBe(true);
    expect(next.output.some(o => o.type === "message")).toBe(true);
  });

  test("text.format json_schema: answers that end with status completed validate", async () => {
    const schema = { type: "object", properties: { name: { type: "string", maxLength: 12 }, age: { type: "integer", minimum: 0, maximum: 120 } }, required: ["name", "age"], additionalProperties: false };
    const validate = new Ajv().compile(schema);
    for (const temperature of [0, 1]) {
      const r = await client.responses.create({ model: qwen, input: "A person?", max_output_tokens: 200, temperature, text: { format: { type: "json_schema", name: "person", schema, strict: true } } });
      expect(r.status).toBe("completed");
      expect(validate(JSON.parse(r.output_text))).toBe(true);
    }
  });
});

describe("errors", () => {
  test("the SDK's error classes, OpenAI's envelope", async () => {
    const unknown: any = await client.responses.create({ ...story, model: "no-such-model", input: "x" }).catch(e => e);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    const image: any = await client.responses.create({ ...story, input: [{ role: "user", content: [{ type: "input_image", image_url: "data:image/png;base64,AA", detail: "auto" }] }] }).catch(e => e);
    expect(image).toBeInstanceOf(OpenAI.BadRequestError);
    expect(image.param).toBe("input[0].content[0]");
  });
});
