// The official `openai` SDK and LangChain's ChatOpenAI against a real listening Hearth.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { ChatOpenAI } from "@langchain/openai";
import { defaultModel } from "../helpers/paths.ts";
import { startHearth, type Running } from "../helpers/server.ts";

const MODEL = "stories260K";
let server: Running;
let client: OpenAI;

beforeAll(async () => {
  server = await startHearth(["--model", defaultModel, "--threads", "1", "--api-key", "test-key"]);
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "test-key", maxRetries: 0 });
});
afterAll(() => server?.stop());

describe("openai SDK", () => {
  test("chat completion, non-stream", async () => {
    const r = await client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "Tell me a story" }], max_tokens: 16, temperature: 0 });
    expect(r.object).toBe("chat.completion");
    expect(r.choices[0]!.message.role).toBe("assistant");
    expect(r.choices[0]!.message.content!.length).toBeGreaterThan(0);
    expect(["stop", "length"]).toContain(r.choices[0]!.finish_reason);
    expect(r.usage!.completion_tokens).toBeGreaterThan(0);
    expect(r.usage!.total_tokens).toBe(r.usage!.prompt_tokens + r.usage!.completion_tokens);
  });

  test("chat completion, stream equals non-stream (greedy)", async () => {
    const params = { model: MODEL, messages: [{ role: "user" as const, content: "Once upon a time" }], max_tokens: 40, temperature: 0 };
    const whole = await client.chat.completions.create(params);
    const stream = await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
    let text = "";
    let finish: string | null = null;
    let usage;
    for await (const chunk of stream) {
      for (const c of chunk.choices) {
        text += c.delta.content ?? "";
        finish = c.finish_reason ?? finish;
      }
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(whole.choices[0]!.message.content!);
    expect(finish).toBe(whole.choices[0]!.finish_reason);
    expect(usage!.completion_tokens).toBe(whole.usage!.completion_tokens);
  });

  test("text completion, stream equals non-stream (greedy)", async () => {
    const params = { model: MODEL, prompt: "The little dog", max_tokens: 48, temperature: 0 };
    const whole = await client.completions.create(params);
    const stream = await client.completions.create({ ...params, stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? "";
    expect(text.length).toBeGreaterThan(10);
    expect(text).toBe(whole.choices[0]!.text);
  });

  test("models list and retrieve", async () => {
    const list = await client.models.list();
    const ids = list.data.map(m => m.id);
    expect(ids).toContain(MODEL);
    const one = await client.models.retrieve(MODEL);
    expect(one.id).toBe(MODEL);
    expect(one.object).toBe("model");
  });

  test("errors surface as APIError with the right status", async () => {
    const unknown = await client.chat.completions.create({ model: "no-such-model", messages: [{ role: "user", content: "x" }] }).catch(e => e);
    expect(unknown).toBeInstanceOf(OpenAI.APIError);
    expect(unknown.status).toBe(404);
    expect(unknown.code).toBe("model_not_found");

    const bad = await client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "x" }], temperature: 9 }).catch(e => e);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect(bad.param).toBe("temperature");

    const tooLong = await client.completions.create({ model: MODEL, prompt: "hello", max_tokens: 100000 }).catch(e => e);
    expect(tooLong.status).toBe(400);
    expect(tooLong.code).toBe("context_length_exceeded");

    const noKey = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "wrong", maxRetries: 0 });
    const denied = await noKey.models.list().catch(e => e);
    expect(denied).toBeInstanceOf(OpenAI.AuthenticationError);
  });
});

test("LangChain ChatOpenAI: one chat call", async () => {
  const chat = new ChatOpenAI({
    model: MODEL,
    temperature: 0,
    maxTokens: 12,
    apiKey: "test-key",
    configuration: { baseURL: `${server.url}/v1` },
    maxRetries: 0,
  });
  const reply = await chat.invoke([["human", "Tell me about a cat"]]);
  expect(typeof reply.content).toBe("string");
  expect((reply.content as string).length).toBeGreaterThan(0);
});
