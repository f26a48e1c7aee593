// The Anthropic event stream against a fake engine: every frame named, events in order, block
// indices, thinking signatures, tool input deltas, pings while the prompt is prefilled, and
// errors after the first byte as Anthropic's error event.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { FakeEngine } from "../helpers/fake-engine.ts";
import { anthropicApp, sseEvents, user } from "../helpers/anthropic-app.ts";
import { llamaSrc } from "../helpers/paths.ts";
import type { GenerateEvent, GenerateRequest } from "../../src/engine/types.ts";

const qwen3 = readFileSync(`${llamaSrc}/models/templates/Qwen-Qwen3-0.6B.jinja`, "utf8");
const base = { model: "fake-model", max_tokens: 100 };
const tools = [{ name: "get_weather", input_schema: { type: "object" as const, properties: { city: { type: "string" } } } }];
const mixed = ["<think>\nLook it", " up.\n</think>\n\nChecking.", '<tool_call>\n{"name": "get_weather", ', '"arguments": {"city": "Paris"}}\n</tool_call>'];

async function events(app: ReturnType<typeof anthropicApp>, body: object) {
  const res = await app.post("/v1/messages", { ...base, ...body, stream: true });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/event-stream");
  return sseEvents(await res.text());
}

describe("event stream", () => {
  test("every frame is named after its type; Anthropic's order; text equal to the whole answer", async () => {
    const app = anthropicApp();
    const all = await events(app, { messages: [user("Hi")] });
    for (const [event, data] of all) expect(event).toBe(data.type);
    const types = all.map(([e]) => e);
    expect(types).toEqual(["message_start", "ping", "content_block_start", ...Array(4).fill("content_block_delta"), "content_block_stop", "message_delta", "message_stop"]);
    const start = all[0]![1].message;
    expect(start).toMatchObject({ type: "message", role: "assistant", model: "fake-model", content: [], stop_reason: null, stop_sequence: null });
    expect(start.id).toMatch(/^msg_/);
    expect(all[2]![1]).toEqual({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } });
    const text = all.filter(([e]) => e === "content_block_delta").map(([, d]) => d.delta.text).join("");
    const whole = await app.client.messages.create({ ...base, messages: [user("Hi")] });
    expect(text).toBe((whole.content[0] as any).text);
    const delta = all.at(-2)![1];
    expect(delta).toEqual({ type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: whole.usage });
  });

  test("thinking, text and a tool call: one block each, indices in order, signature before the thinking block stops", async () => {
    const app = anthropicApp(new FakeEngine(mixed), qwen3);
    const all = (await events(app, { tools, messages: [user("Weather?")] })).map(([, d]) => d);
    const starts = all.filter(d => d.type === "content_block_start");
    expect(starts.map(d => [d.index, d.content_block.type])).toEqual([[0, "thinking"], [1, "text"], [2, "tool_use"]]);
    expect(starts[2].content_block).toMatchObject({ name: "get_weather", input: {} });
    expect(starts[2].content_block.id).toMatch(/^toolu_/);
    const thinking = all.filter(d => d.index === 0).map(d => d.type + (d.delta ? `:${d.delta.type}` : ""));
    expect(thinking).toEqual(["content_block_start", "content_block_delta:thinking_delta", "content_block_delta:thinking_delta", "content_block_delta:signature_delta", "content_block_stop"]);
    // Blocks follow one another: each stops before the next starts.
    const order = all.filter(d => d.type === "content_block_start" || d.type === "content_block_stop").map(d => `${d.type === "content_block_start" ? "+" : "-"}${d.index}`);
    expect(order).toEqual(["+0", "-0", "+1", "-1", "+2", "-2"]);
    const json = all.filter(d => d.delta?.type === "input_json_delta").map(d => d.delta.partial_json).join("");
    expect(JSON.parse(json)).toEqual({ city: "Paris" });
    expect(all.find(d => d.type === "message_delta").delta.stop_reason).toBe("tool_use");
  });

  test("the SDK's stream accumulates the same message as the JSON answer", async () => {
    const app = anthropicApp(new FakeEngine(mixed), qwen3);
    const body = { ...base, tools, messages: [user("Weather?")] };
    const streamed = await app.client.messages.stream(body).finalMessage();
    const whole = await app.client.messages.create(body);
    const ids = (m: any) => m.content.map((b: any) => ({ ...b, ...(b.id ? { id: "toolu" } : {}) }));
    expect(ids(streamed)).toEqual(ids(whole));
    expect([streamed.stop_reason, streamed.usage]).toEqual([whole.stop_reason, whole.usage]);
  });

  test("pings while the prompt is prefilled and no token has come", async () => {
    const app = anthropicApp(new FakeEngine(["Hi", "!"], null, 120), null, { anthropicPingMs: 25 });
    const types = (await events(app, { messages: [user("Hi")] })).map(([e]) => e);
    const firstBlock = types.indexOf("content_block_start");
    expect(types.slice(0, firstBlock).filter(t => t === "ping").length).toBeGreaterThanOrEqual(3);
    expect(types.at(-1)).toBe("message_stop");
  });

  test("an error after the first byte is an Anthropic error event, then the end", async () => {
    class Failing extends FakeEngine {
      override async *generate(request: GenerateRequest): AsyncGenerator<GenerateEvent> {
        this.requests.push(request);
        yield { kind: "accepted", promptTokens: 3 };
        yield { kind: "text", text: "Hel", tokens: [1] };
        yield { kind: "error", code: "engine_failure", message: "the model runner stopped unexpectedly" };
      }
    }
    const all = await events(anthropicApp(new Failing()), { messages: [user("Hi")] });
    expect(all.at(-1)).toEqual(["error", { type: "error", error: { type: "api_error", message: "the model runner stopped unexpectedly" } }]);
    expect(all.map(([e]) => e)).not.toContain("message_stop");
  });
});
