// Stored responses against a fake engine: previous_response_id continues the stored conversation
// (its prompt starts with the first turn's), GET and DELETE find them, unknown ids are 404 in
// OpenAI's envelope, store: false keeps nothing, and the store drops the least recently used first.
import { describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { promptText } from "../helpers/anthropic-app.ts";
import { FakeEngine } from "../helpers/fake-engine.ts";
import { responsesApp, template } from "../helpers/responses-app.ts";
import { ResponseStore } from "../../src/api/responses/store.ts";

const qwen25 = template("Qwen-Qwen2.5-7B-Instruct");
const base = { model: "fake-model" };

describe("previous_response_id", () => {
  test("the continuation's prompt is the stored conversation and the new input; instructions are the request's own", async () => {
    const { client, engine } = responsesApp(new FakeEngine(), qwen25);
    const first = await client.responses.create({ ...base, instructions: "Be brief.", input: "Hi" });
    const second = await client.responses.create({ ...base, instructions: "Be brief.", previous_response_id: first.id, input: "And then?" });
    expect(second.previous_response_id).toBe(first.id);
    const [one, two] = [promptText(engine, 0), promptText(engine, 1)];
    // The first prompt up to the assistant's turn is where the second starts.
    expect(two.startsWith(one)).toBe(true);
    expect(two).toContain("Hello, world!<|im_end|>\n<|im_start|>user\nAnd then?<|im_end|>");
    // A third turn continues the second: the whole chain.
    await client.responses.create({ ...base, previous_response_id: second.id, input: [{ role: "user", content: "Third" }] });
    expect(promptText(engine, 2)).toContain("user\nHi<|im_end|>");
    expect(promptText(engine, 2)).toContain("And then?");
    expect(promptText(engine, 2)).not.toContain("Be brief.");
  });

  test("streamed responses are stored too", async () => {
    const { client, engine, post } = responsesApp(new FakeEngine(), qwen25);
    const res = await post("/v1/responses", { ...base, input: "Hi", stream: true });
    const id = /"id":"(resp_[0-9a-f]+)"/.exec(await res.text())![1]!;
    expect((await client.responses.retrieve(id)).output_text).toBe("Hello, world!");
    await client.responses.create({ ...base, previous_response_id: id, input: "More" });
    expect(promptText(engine, 1)).toContain("Hello, world!");
  });

  test("an unknown id is 404 naming previous_response_id; store: false keeps nothing", async () => {
    const { client, post } = responsesApp();
    const res = await post("/v1/responses", { ...base, input: "x", previous_response_id: "resp_nope" });
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error).toEqual({ message: "Response with id 'resp_nope' not found.", type: "invalid_request_error", param: "previous_response_id", code: "response_not_found" });
    const unstored = await client.responses.create({ ...base, input: "Hi", store: false });
    const err: any = await client.responses.retrieve(unstored.id).catch(e => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
  });
});

describe("item_reference", () => {
  test("a stored output item sent back by id is the item itself; an unknown id is 400", async () => {
    const call = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>';
    const { client, engine, post } = responsesApp(new FakeEngine([call]), qwen25);
    const tools = [{ type: "function" as const, name: "get_weather", strict: false, parameters: { type: "object", properties: { city: { type: "string" } } } }];
    const first = await client.responses.create({ ...base, tools, tool_choice: "required", input: "Weather?" });
    const fc = first.output[0] as any;
    await client.responses.create({ ...base, tools, input: [{ role: "user", content: "Weather?" }, { type: "item_reference", id: fc.id }, { type: "function_call_output", call_id: fc.call_id, output: "Sunny" }] });
    expect(promptText(engine, 1)).toContain('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>');
    const res = await post("/v1/responses", { ...base, input: [{ type: "item_reference", id: "fc_nope" }] });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.param).toBe("input[0]");
  });
});

describe("GET, DELETE, input_tokens", () => {
  test("retrieve returns the response as created; delete forgets it; both 404 afterwards", async () => {
    const { client } = responsesApp();
    const r = await client.responses.create({ ...base, input: "Hi" });
    const got = await client.responses.retrieve(r.id);
    expect(got).toEqual(r);
    await client.responses.delete(r.id);
    for (const call of [() => client.responses.retrieve(r.id), () => client.responses.delete(r.id)]) {
      expect(await call().catch(e => e)).toBeInstanceOf(OpenAI.NotFoundError);
    }
  });

  test("delete answers OpenAI's deleted object", async () => {
    const { client, send } = responsesApp();
    const r = await client.responses.create({ ...base, input: "Hi" });
    const res = await send("DELETE", `/v1/responses/${r.id}`);
    expect(await res.json()).toEqual({ id: r.id, object: "response.deleted", deleted: true });
  });

  test("input_tokens is the exact prompt a create with the same body decodes, continuation included", async () => {
    const { client, engine } = responsesApp(new FakeEngine(), qwen25);
    const first = await client.responses.create({ ...base, input: "Hi" });
    const body = { ...base, instructions: "Be brief.", previous_response_id: first.id, input: "Hello there" };
    const counted = await client.responses.inputTokens.count(body);
    await client.responses.create(body);
    expect(counted).toEqual({ object: "response.input_tokens", input_tokens: engine.requests[1]!.prompt.length } as any);
  });
});

describe("the store", () => {
  test("bounded by bytes: the least recently used goes first; one entry over the limit is not kept", () => {
    const entry = (n: number) => ({ response: { pad: "x".repeat(n) }, conversation: [], input: [] });
    const size = Buffer.byteLength(JSON.stringify(entry(100)));
    const store = new ResponseStore(size * 3);
    for (const id of ["a", "b", "c"]) expect(store.put(id, entry(100))).toBe(true);
    store.get("a"); // a is now the most recent: b goes first
    store.put("d", entry(100));
    expect(["a", "b", "c", "d"].map(id => store.get(id) !== undefined)).toEqual([true, false, true, true]);
    expect(store.bytesUsed).toBe(size * 3);
    expect(store.put("big", entry(size * 3))).toBe(false);
    expect(store.size).toBe(3);
    expect(store.delete("a")).toBe(true);
    expect(store.bytesUsed).toBe(size * 2);
  });
});
