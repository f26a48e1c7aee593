// The smaller Responses routes and fields, against a fake engine: GET /v1/responses/{id}/input_items
// (a cursor page through the openai SDK's paginator, newest first by default, ids stable),
// POST /v1/responses/{id}/cancel (a clear 400: no background responses here), and truncation:
// "auto" (the oldest turns left out until the prompt fits; without it, a 400).
import { describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { promptText } from "../helpers/anthropic-app.ts";
import { FakeEngine, fakeInfo } from "../helpers/fake-engine.ts";
import { responsesApp, template } from "../helpers/responses-app.ts";

const qwen25 = template("Qwen-Qwen2.5-7B-Instruct");
const base = { model: "fake-model" };

describe("input_items", () => {
  const input = [
    { role: "user" as const, content: "one" },
    { type: "message" as const, role: "assistant" as const, content: [{ type: "output_text" as const, text: "two" }] },
    { role: "user" as const, content: [{ type: "input_text" as const, text: "three" }] },
  ];

  test("newest first by default, ascending on request; every item has a stable id; string content as a part", async () => {
    const { client } = responsesApp(new FakeEngine(), qwen25);
    const r = await client.responses.create({ ...base, input: input as any });
    const desc = await client.responses.inputItems.list(r.id);
    const texts = (page: any) => page.data.map((i: any) => i.content[0].text);
    expect(texts(desc)).toEqual(["three", "two", "one"]);
    expect(desc.data[2]).toMatchObject({ type: "message", role: "user", content: [{ type: "input_text", text: "one" }], id: expect.stringMatching(/^msg_/) });
    const asc = await client.responses.inputItems.list(r.id, { order: "asc" });
    expect(texts(asc)).toEqual(["one", "two", "three"]);
    expect(asc.data.map(i => i.id)).toEqual([...desc.data].reverse().map(i => i.id));
    // A string input is one user message.
    const s = await client.responses.create({ ...base, input: "Hi" });
    expect((await client.responses.inputItems.list(s.id)).data).toEqual([{ type: "message", role: "user", content: [{ type: "input_text", text: "Hi" }], id: expect.stringMatching(/^msg_/) }] as any);
  });

  test("pages: limit and after, followed by the SDK's paginator", async () => {
    const { client, send } = responsesApp(new FakeEngine(), qwen25);
    const r = await client.responses.create({ ...base, input: input as any });
    const first = await (await send("GET", `/v1/responses/${r.id}/input_items?limit=2&order=asc`)).json();
    expect(first.data.map((i: any) => i.content[0].text)).toEqual(["one", "two"]);
    expect(first).toMatchObject({ object: "list", first_id: first.data[0].id, last_id: first.data[1].id, has_more: true });
    const next = await (await send("GET", `/v1/responses/${r.id}/input_items?limit=2&order=asc&after=${first.last_id}`)).json();
    expect(next.data.map((i: any) => i.content[0].text)).toEqual(["three"]);
    expect(next.has_more).toBe(false);
    const all: string[] = [];
    for await (const item of client.responses.inputItems.list(r.id, { limit: 1, order: "asc" })) all.push((item as any).content[0].text);
    expect(all).toEqual(["one", "two", "three"]);
  });

  test("an unknown id, a store: false response: 404; a bad limit or cursor: 400 naming it", async () => {
    const { client, send } = responsesApp(new FakeEngine(), qwen25);
    const err = await client.responses.inputItems.list("resp_nope").catch(e => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err.error).toMatchObject({ code: "response_not_found" });
    const unstored = await client.responses.create({ ...base, input: "Hi", store: false });
    expect(await client.responses.inputItems.list(unstored.id).catch(e => e)).toBeInstanceOf(OpenAI.NotFoundError);
    const r = await client.responses.create({ ...base, input: "Hi" });
    for (const [query, param] of [["limit=0", "limit"], ["limit=101", "limit"], ["limit=x", "limit"], ["order=up", "order"], ["after=msg_nope", "after"]]) {
      const res = await send("GET", `/v1/responses/${r.id}/input_items?${query}`);
      expect(res.status).toBe(400);
      expect((await res.json()).error.param).toBe(param);
    }
  });
});

test("cancel: a finished (non-background) response is a 400 that says why; an unknown id a 404", async () => {
  const { client, send } = responsesApp(new FakeEngine(), qwen25);
  const r = await client.responses.create({ ...base, input: "Hi" });
  const res = await send("POST", `/v1/responses/${r.id}/cancel`);
  expect(res.status).toBe(400);
  const body = await res.json();
  expect(body.error).toMatchObject({ type: "invalid_request_error", code: "response_not_cancellable" });
  expect(body.error.message).toContain("background");
  expect((await send("POST", "/v1/responses/resp_nope/cancel")).status).toBe(404);
  // Still there, unchanged.
  expect((await client.responses.retrieve(r.id)).status).toBe("completed");
});

describe("truncation", () => {
  // The fake engine's tokenizer is one token per byte and its context 4,096 tokens.
  const turn = (c: string) => c.repeat(1000);
  const long = [
    { role: "user" as const, content: turn("a") },
    { role: "assistant" as const, content: turn("b") },
    { role: "user" as const, content: turn("c") },
    { role: "assistant" as const, content: turn("d") },
    { role: "user" as const, content: "Last?" },
  ];

  test("auto: the fewest oldest turns are left out for the prompt to fit (a cut only where a user turn starts); disabled: a 400", async () => {
    const { client, engine } = responsesApp(new FakeEngine(), qwen25);
    const err = await client.responses.create({ ...base, input: long, truncation: "disabled" }).catch(e => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.error).toMatchObject({ code: "context_length_exceeded", param: "input" });
    const r = await client.responses.create({ ...base, input: long, truncation: "auto", instructions: "Be brief." });
    expect(r.output_text).toBe("Hello, world!");
    expect(r.truncation).toBe("auto");
    const prompt = promptText(engine, engine.requests.length - 1);
    expect(prompt.length).toBeLessThan(fakeInfo.nCtx);
    expect(prompt).toContain("Be brief."); // instructions stay
    expect(prompt).not.toContain(turn("a"));
    expect(prompt).not.toContain(turn("b"));
    expect(prompt).toContain(`user\n${turn("c")}`);
    expect(prompt).toContain(turn("d"));
    expect(prompt).toContain("Last?");
    // The stored conversation is whole: the input items list all five.
    expect((await client.responses.inputItems.list(r.id)).data).toHaveLength(5);
  });

  test("auto, and even the last turn alone does not fit: the 400 of the untruncated prompt", async () => {
    const { client } = responsesApp(new FakeEngine(), qwen25);
    const err = await client.responses.create({ ...base, input: [...long, { role: "user", content: "z".repeat(5000) }], truncation: "auto" }).catch(e => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.error.code).toBe("context_length_exceeded");
  });

  test("input_tokens counts the truncated prompt, as the create decodes it", async () => {
    const { client, engine } = responsesApp(new FakeEngine(), qwen25);
    const counted = await client.responses.inputTokens.count({ ...base, input: long, truncation: "auto" });
    await client.responses.create({ ...base, input: long, truncation: "auto" });
    expect(counted.input_tokens).toBe(engine.requests.at(-1)!.prompt.length);
  });
});
