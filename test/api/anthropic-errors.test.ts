// Errors on /v1/messages in Anthropic's envelope and statuses, as the SDK's error classes see
// them; refusals of what a local server cannot take say why.
import { describe, expect, test } from "bun:test";
import Anthropic from "@anthropic-ai/sdk";
import { FakeEngine } from "../helpers/fake-engine.ts";
import { anthropicApp, user } from "../helpers/anthropic-app.ts";

const base = { model: "fake-model", max_tokens: 10 };

function expectEnvelope(json: any, type: string) {
  expect(Object.keys(json)).toEqual(["type", "error"]);
  expect(json.type).toBe("error");
  expect(Object.keys(json.error)).toEqual(["type", "message"]);
  expect(json.error.type).toBe(type);
}

describe("auth", () => {
  test("a wrong key: 401 authentication_error; x-api-key and Bearer both work", async () => {
    const app = anthropicApp(new FakeEngine(), null, { apiKeys: ["sekret"] });
    const wrong = new Anthropic({ baseURL: "http://localhost", apiKey: "nope", maxRetries: 0, fetch: (u: any, i: any) => app.app.handle(new Request(u, i)) });
    const err: any = await wrong.messages.create({ ...base, messages: [user("Hi")] }).catch(e => e);
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(err.type).toBe("authentication_error");
    expect(err.requestID).toBeTruthy();
    expect((await app.client.messages.create({ ...base, messages: [user("Hi")] })).type).toBe("message");
    const bearer = new Anthropic({ baseURL: "http://localhost", authToken: "sekret", apiKey: null, maxRetries: 0, fetch: (u: any, i: any) => app.app.handle(new Request(u, i)) });
    expect((await bearer.messages.countTokens({ model: "fake-model", messages: [user("Hi")] })).input_tokens).toBeGreaterThan(0);
  });
});

describe("statuses", () => {
  test("an unknown model: 404 not_found_error", async () => {
    const err: any = await anthropicApp().client.messages.create({ ...base, model: "claude-nope", messages: [user("Hi")] }).catch(e => e);
    expect(err).toBeInstanceOf(Anthropic.NotFoundError);
    expect(err.type).toBe("not_found_error");
  });

  test("a full queue: 529 overloaded_error", async () => {
    const full = new FakeEngine([], { kind: "error", code: "queue_full", message: "the server is busy" });
    const err: any = await anthropicApp(full).client.messages.create({ ...base, messages: [user("Hi")] }).catch(e => e);
    expect(err.status).toBe(529);
    expect(err.type).toBe("overloaded_error");
  });

  test("a body past the limit: 413 request_too_large", async () => {
    const { post } = anthropicApp(new FakeEngine(), null, { maxBodyBytes: 1000 });
    const body = JSON.stringify({ ...base, messages: [user("x".repeat(2000))] });
    const res = await post("/v1/messages", body, { "content-length": String(body.length) });
    expect(res.status).toBe(413);
    expectEnvelope(await res.json(), "request_too_large");
  });

  test("not JSON, no max_tokens, a temperature past 1: 400 invalid_request_error", async () => {
    const { post } = anthropicApp();
    for (const body of ["{nope", { model: "fake-model", messages: [user("Hi")] }, { ...base, temperature: 1.5, messages: [user("Hi")] }]) {
      const res = await post("/v1/messages", body);
      expect(res.status).toBe(400);
      expect(res.headers.get("request-id")).toBeTruthy();
      expectEnvelope(await res.json(), "invalid_request_error");
    }
  });

  test("other routes keep OpenAI's envelope", async () => {
    const res = await anthropicApp().post("/v1/chat/completions", { model: "fake-model", messages: [] });
    expect(Object.keys(await res.json())).toEqual(["error"]);
  });
});

describe("what a local server cannot take is refused with the reason", () => {
  const png = { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" };
  const cases: Array<[string, unknown[], RegExp]> = [
    ["an image", [user([{ type: "image", source: png }, { type: "text", text: "What is this?" }])], /model has no vision input/],
    ["an image in a tool result", [
      user("Read it"),
      { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "read", input: {} }] },
      user([{ type: "tool_result", tool_use_id: "t1", content: [{ type: "image", source: png }] }]),
    ], /model has no vision input/],
    ["a document", [user([{ type: "document", source: { type: "text", media_type: "text/plain", data: "x" } }])], /document content is not supported/],
    ["a block type Hearth does not know", [user([{ type: "search_result", source: "x", title: "t", content: [] }])], /content block type "search_result" is not supported/],
    ["a tool_result in an assistant turn", [{ role: "assistant", content: [{ type: "tool_result", tool_use_id: "t", content: "x" }] }], /tool_result block belongs in a user message/],
  ];
  test.each(cases)("%s", async (_, messages, message) => {
    const err: any = await anthropicApp().client.messages.create({ ...base, messages: messages as any }).catch(e => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(err.type).toBe("invalid_request_error");
    expect(err.apiMessage).toMatch(message);
  });

  test("tool_choice naming a tool that is not there, or any without tools", async () => {
    const { client } = anthropicApp();
    const tools = [{ name: "a", input_schema: { type: "object" as const } }];
    for (const body of [{ tools, tool_choice: { type: "tool" as const, name: "b" } }, { tool_choice: { type: "any" as const } }]) {
      const err: any = await client.messages.create({ ...base, ...body, messages: [user("Hi")] }).catch(e => e);
      expect(err.status).toBe(400);
    }
  });
});
