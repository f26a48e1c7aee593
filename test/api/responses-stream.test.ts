// The Responses event stream against a fake engine: every frame named after its type, every event
// numbered, items and their parts opened and closed in order with item_id / output_index /
// content_index, the openai SDK's strict accumulator agreeing with the JSON answer, and errors
// after the first byte as an error event.
import { describe, expect, test } from "bun:test";
import { FakeEngine } from "../helpers/fake-engine.ts";
import { responsesApp, streamEvents, template } from "../helpers/responses-app.ts";
import type { GenerateEvent, GenerateRequest } from "../../src/engine/types.ts";

const qwen3 = template("Qwen-Qwen3-0.6B");
const base = { model: "fake-model" };
const tools = [{ type: "function" as const, name: "get_weather", strict: false, parameters: { type: "object", properties: { city: { type: "string" } } } }];
const mixed = ["<think>\nLook it", " up.\n</think>\n\nChecking.", '<tool_call>\n{"name": "get_weather", ', '"arguments": {"city": "Paris"}}\n</tool_call>'];

async function events(app: ReturnType<typeof responsesApp>, body: object) {
  const res = await app.post("/v1/responses", { ...base, ...body, stream: true });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/event-stream");
  return streamEvents(await res.text());
}

describe("event stream", () => {
  test("numbered events in the typed order; the deltas add up to the final text", async () => {
    const app = responsesApp();
    const all = await events(app, { input: "Hi" });
    expect(all.map(e => e.sequence_number)).toEqual(all.map((_, i) => i));
    expect(all.map(e => e.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      ...Array(4).fill("response.output_text.delta"),
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(all[0].response).toMatchObject({ object: "response", status: "in_progress", model: "fake-model", output: [], usage: null });
    const item = all[2].item;
    for (const e of all.slice(3, -2)) expect([e.item_id, e.output_index, e.content_index]).toEqual([item.id, 0, 0]);
    const text = all.filter(e => e.type === "response.output_text.delta").map(e => e.delta).join("");
    const done = all.at(-1).response;
    expect(done.status).toBe("completed");
    expect(done.output[0].content[0].text).toBe(text);
    expect(text).toBe("Hello, world!");
    expect(done.usage).toMatchObject({ input_tokens: 7, output_tokens: 4 });
    expect(done.id).toBe(all[0].response.id);
  });

  test("reasoning, text and a call: one item each, output_index in order, each done before the next is added", async () => {
    const app = responsesApp(new FakeEngine(mixed), qwen3);
    const all = await events(app, { tools, input: "Weather?" });
    const added = all.filter(e => e.type === "response.output_item.added");
    expect(added.map(e => [e.output_index, e.item.type])).toEqual([[0, "reasoning"], [1, "message"], [2, "function_call"]]);
    const order = all.filter(e => e.type.startsWith("response.output_item.")).map(e => `${e.type.endsWith("added") ? "+" : "-"}${e.output_index}`);
    expect(order).toEqual(["+0", "-0", "+1", "-1", "+2", "-2"]);
    expect(all.filter(e => e.type === "response.reasoning_text.delta").map(e => e.delta).join("")).toBe("Look it up.");
    const args = all.filter(e => e.type === "response.function_call_arguments.delta").map(e => e.delta).join("");
    expect(JSON.parse(args)).toEqual({ city: "Paris" });
    const argsDone = all.find(e => e.type === "response.function_call_arguments.done");
    expect(argsDone).toMatchObject({ item_id: added[2].item.id, output_index: 2, name: "get_weather", arguments: args });
    expect(all.at(-1).response.output.map((o: any) => o.type)).toEqual(["reasoning", "message", "function_call"]);
  });

  test("the SDK's stream accumulates the same response as the JSON answer", async () => {
    const app = responsesApp(new FakeEngine(mixed), qwen3);
    const body = { ...base, tools, input: "Weather?" };
    const whole = await app.client.responses.create(body);
    const stream = app.client.responses.stream(body);
    let text = "";
    stream.on("response.output_text.delta", e => (text += e.delta));
    const final = await stream.finalResponse();
    expect(text).toBe(whole.output_text);
    // Ids are fresh per response; the stream helper adds its own parsed / parsed_arguments.
    const shape = (r: typeof whole) =>
      JSON.parse(JSON.stringify(r.output, (k, v) => (k === "id" || k === "call_id" || k === "parsed" || k === "parsed_arguments" ? undefined : v)));
    expect(shape(final)).toEqual(shape(whole));
    expect(final.usage).toEqual(whole.usage);
  });

  test("a custom tool call: its input sent whole when the call ends, as custom_tool_call_input events", async () => {
    const call = ['<tool_call>\n{"name": "apply_patch", ', '"arguments": {"input": "*** Begin Patch\\n*** End Patch"}}\n</tool_call>'];
    const app = responsesApp(new FakeEngine(call), qwen3);
    const body = { tools: [{ type: "custom", name: "apply_patch" }], input: "Patch" };
    const all = await events(app, body);
    const types = all.map(e => e.type);
    expect(types).not.toContain("response.function_call_arguments.delta");
    const item = all.find(e => e.type === "response.output_item.added").item;
    expect(item).toMatchObject({ type: "custom_tool_call", name: "apply_patch", input: "" });
    expect(all.find(e => e.type === "response.custom_tool_call_input.done")).toMatchObject({ item_id: item.id, output_index: 0, input: "*** Begin Patch\n*** End Patch" });
    const final = await app.client.responses.stream({ ...base, ...(body as any) }).finalResponse();
    expect(final.output[0]).toMatchObject({ type: "custom_tool_call", input: "*** Begin Patch\n*** End Patch" });
  });

  test("reasoning.summary asked for: the reasoning text is the summary too, streamed as summary events the SDK accumulates", async () => {
    const app = responsesApp(new FakeEngine(mixed), qwen3);
    const body = { tools, input: "Weather?", reasoning: { summary: "auto" } };
    const all = await events(app, body);
    const summary = all.filter(e => e.type.startsWith("response.reasoning_summary"));
    expect(summary.map(e => e.type)).toEqual([
      "response.reasoning_summary_part.added",
      "response.reasoning_summary_text.delta",
      "response.reasoning_summary_text.delta",
      "response.reasoning_summary_text.done",
      "response.reasoning_summary_part.done",
    ]);
    expect(summary.every(e => e.output_index === 0 && e.summary_index === 0)).toBe(true);
    const final = await app.client.responses.stream({ ...base, ...(body as any) }).finalResponse();
    const whole = await app.client.responses.create({ ...base, ...(body as any) });
    for (const r of [final, whole]) expect((r.output[0] as any).summary).toEqual([{ type: "summary_text", text: "Look it up." }]);
  });

  test("cut by max_output_tokens: response.incomplete, the message item incomplete", async () => {
    const all = await events(responsesApp(), { input: "Hi", max_output_tokens: 2 });
    const last = all.at(-1);
    expect(last.type).toBe("response.incomplete");
    expect(last.response).toMatchObject({ status: "incomplete", incomplete_details: { reason: "max_output_tokens" } });
    expect(last.response.output[0].status).toBe("incomplete");
  });

  test("include reasoning.encrypted_content: the reasoning item carries its text sealed; sent back, it is rendered", async () => {
    const app = responsesApp(new FakeEngine(mixed), qwen3);
    const all = await events(app, { tools, input: "Weather?", store: false, include: ["reasoning.encrypted_content"] });
    const reasoning = all.find(e => e.type === "response.output_item.done" && e.item.type === "reasoning").item;
    expect(reasoning.encrypted_content).toStartWith("hearth1.");
    const call = all.find(e => e.type === "response.output_item.done" && e.item.type === "function_call").item;
    // Codex sends reasoning back with its encrypted_content only.
    const history = [{ role: "user", content: "Weather?" }, { type: "reasoning", summary: [], encrypted_content: reasoning.encrypted_content }, call, { type: "function_call_output", call_id: call.call_id, output: "Sunny" }];
    const tampered = { ...history[1], encrypted_content: reasoning.encrypted_content.slice(0, -4) + "AAAA" };
    for (const input of [history, [history[0], tampered, call, history[3]]]) {
      const res = await app.post("/v1/responses", { ...base, tools, input });
      expect(res.status).toBe(200);
    }
    const prompt = (i: number) => String.fromCharCode(...(app.engine.requests[i]!.prompt as number[]));
    // Qwen3 renders the reasoning of the turn after the last user message.
    expect(prompt(1)).toContain("<think>\nLook it up.\n</think>");
    expect(prompt(2)).not.toContain("Look it up.");
  });

  test("an engine error after the first byte: an error event with its sequence_number, then the end", async () => {
    class FailingEngine extends FakeEngine {
      override async *generate(request: GenerateRequest): AsyncGenerator<GenerateEvent> {
        this.requests.push(request);
        yield { kind: "accepted", promptTokens: 7 };
        yield { kind: "text", index: 0, text: "Hel", tokens: [1] };
        yield { kind: "error", code: "engine_failure", message: "the runner stopped" };
      }
    }
    const all = await events(responsesApp(new FailingEngine()), { input: "Hi" });
    const last = all.at(-1);
    expect(last).toMatchObject({ type: "error", code: "engine_failure", message: "the runner stopped" });
    expect(last.sequence_number).toBe(all.length - 1);
  });
});
