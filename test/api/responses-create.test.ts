// The Responses dialect against a fake engine: the real openai SDK in front, real templates
// behind, scripted model output. What a request puts in the prompt and the engine request, what
// the response object looks like, and what is refused, whole.
import { describe, expect, test } from "bun:test";
import { FakeEngine } from "../helpers/fake-engine.ts";
import { promptText } from "../helpers/anthropic-app.ts";
import { responsesApp, template } from "../helpers/responses-app.ts";
import type { GenerateEvent, GenerateRequest } from "../../src/engine/types.ts";

const qwen3 = template("Qwen-Qwen3-0.6B");
const qwen25 = template("Qwen-Qwen2.5-7B-Instruct");
const base = { model: "fake-model" };
const weather = { type: "function" as const, name: "get_weather", description: "Weather", strict: true, parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false } };
const call = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>';

describe("the response object", () => {
  test("resp_ id, a completed message with output_text, usage with its details, the request echoed", async () => {
    const { client } = responsesApp();
    const r = await client.responses.create({ ...base, input: "Hi", instructions: "Be brief.", temperature: 0.5, metadata: { k: "v" } });
    expect(r.id).toMatch(/^resp_[0-9a-f]{32}$/);
    expect(r).toMatchObject({ object: "response", status: "completed", model: "fake-model", error: null, incomplete_details: null, instructions: "Be brief.", temperature: 0.5, metadata: { k: "v" }, store: true });
    expect(r.output).toHaveLength(1);
    expect(r.output[0]).toMatchObject({ type: "message", role: "assistant", status: "completed", content: [{ type: "output_text", text: "Hello, world!", annotations: [] }] });
    expect(r.output[0]!.id).toMatch(/^msg_/);
    expect(r.output_text).toBe("Hello, world!");
    expect(r.usage).toEqual({ input_tokens: 7, input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 }, output_tokens: 4, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 11 });
  });

  test("cut by the server's own limit (no max_output_tokens asked): completed, as llama-server answers", async () => {
    // The runner's -n ends the answer: "length" though the request set no limit.
    class CutEngine extends FakeEngine {
      override async *generate(request: GenerateRequest, signal?: AbortSignal): AsyncGenerator<GenerateEvent> {
        for await (const ev of super.generate(request, signal)) yield ev.kind === "done" ? { ...ev, finishReason: "length" } : ev;
      }
    }
    const { client, engine } = responsesApp(new CutEngine());
    const r = await client.responses.create({ ...base, input: "Hi" });
    expect(engine.requests[0]!.maxTokens).toBeNull();
    expect(r.status).toBe("completed");
    expect(r.incomplete_details).toBeNull();
    // The item itself was cut: it says so.
    expect((r.output[0] as any).status).toBe("incomplete");
  });

  test("cut by max_output_tokens: status incomplete with its reason", async () => {
    const { client, engine } = responsesApp();
    const r = await client.responses.create({ ...base, input: "Hi", max_output_tokens: 2 });
    expect(engine.requests[0]!.maxTokens).toBe(2);
    expect(r.status).toBe("incomplete");
    expect(r.incomplete_details).toEqual({ reason: "max_output_tokens" });
    expect(r.output_text).toBe("Hello,");
  });

  test("reasoning comes first as a reasoning item with its text; reasoning_tokens counts it", async () => {
    const { client } = responsesApp(new FakeEngine(["<think>\nThe user", " says hi.\n</think>\n\nHel", "lo!"]), qwen3);
    const r = await client.responses.create({ ...base, input: "Hi" });
    expect(r.output.map(o => o.type)).toEqual(["reasoning", "message"]);
    expect(r.output[0]).toMatchObject({ type: "reasoning", summary: [], content: [{ type: "reasoning_text", text: "The user says hi." }] });
    expect((r.output[0] as any).encrypted_content).toBeUndefined();
    expect(r.output_text).toBe("Hello!");
    expect(r.usage!.output_tokens_details.reasoning_tokens).toBe(3);
  });

  test("a call is a function_call item with call_id, name and arguments text", async () => {
    const { client } = responsesApp(new FakeEngine([call]), qwen25);
    const r = await client.responses.create({ ...base, input: "Weather?", tools: [weather], tool_choice: "required" });
    expect(r.output).toHaveLength(1);
    expect(r.output[0]).toMatchObject({ type: "function_call", status: "completed", name: "get_weather" });
    expect(JSON.parse((r.output[0] as any).arguments)).toEqual({ city: "Paris" });
    expect((r.output[0] as any).call_id).toMatch(/^call_/);
    expect(r.output[0]!.id).toMatch(/^fc_/);
  });
});

describe("custom (freeform) tools", () => {
  const patch = "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch";
  const custom = { type: "custom" as const, name: "apply_patch", description: "Edit files", format: { type: "grammar" as const, syntax: "lark" as const, definition: "start: /.+/" } };

  test("offered as a function of one string; the call comes back as custom_tool_call with the free text", async () => {
    const ctcCall = `<tool_call>\n${JSON.stringify({ name: "apply_patch", arguments: { input: patch } })}\n</tool_call>`;
    const { client, engine } = responsesApp(new FakeEngine([ctcCall]), qwen25);
    const r = await client.responses.create({ ...base, input: "Add a file", tools: [custom], tool_choice: { type: "custom", name: "apply_patch" } });
    expect(promptText(engine)).toContain('"name": "apply_patch"');
    expect(engine.requests[0]!.grammar && !engine.requests[0]!.grammar.lazy).toBe(true);
    expect(r.output).toHaveLength(1);
    expect(r.output[0]).toMatchObject({ type: "custom_tool_call", status: "completed", name: "apply_patch", input: patch });
    expect(r.output[0]!.id).toMatch(/^ctc_/);
    // Sent back with its output, it is the model's own call again.
    const ctc = r.output[0] as any;
    await client.responses.create({ ...base, tools: [custom], input: [{ role: "user", content: "Add a file" }, ctc, { type: "custom_tool_call_output", call_id: ctc.call_id, output: "Done" }] });
    expect(promptText(engine, 1)).toContain('<tool_call>\n{"name": "apply_patch", "arguments": {"input": "*** Begin Patch\\n*** Add File: a.txt\\n+hi\\n*** End Patch"}}\n</tool_call>');
    expect(promptText(engine, 1)).toContain("<tool_response>\nDone\n</tool_response>");
  });
});

describe("what reaches the prompt", () => {
  test("instructions, then items: developer, user with input_text parts, an assistant turn with its call, the call's output", async () => {
    const { client, engine } = responsesApp(new FakeEngine(), qwen25);
    await client.responses.create({
      ...base,
      instructions: "Be brief.",
      tools: [weather],
      input: [
        { role: "developer", content: "Use tools." },
        { role: "user", content: [{ type: "input_text", text: "Weather in " }, { type: "input_text", text: "Paris?" }] },
        { type: "message", role: "assistant", content: [{ type: "output_text", text: "Let me look." }] } as any,
        { type: "function_call", call_id: "call_1", name: "get_weather", arguments: '{"city": "Paris"}' },
        { type: "function_call_output", call_id: "call_1", output: "Sunny" },
      ],
    });
    const prompt = promptText(engine);
    expect(prompt).toStartWith("<|im_start|>system\nBe brief.");
    expect(prompt).toContain("<|im_start|>user\nWeather in Paris?<|im_end|>");
    expect(prompt).toContain('Let me look.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>');
    expect(prompt).toContain("<tool_response>\nSunny\n</tool_response>");
    expect(prompt.indexOf("Use tools.")).toBeLessThan(prompt.indexOf("Weather in Paris?"));
  });

  test("hosted tools (web_search) are left out; namespace functions are offered as NAMESPACE__NAME and come back with their namespace", async () => {
    const nsCall = '<tool_call>\n{"name": "multi_agent_v1__spawn_agent", "arguments": {"task": "x"}}\n</tool_call>';
    const { client, engine } = responsesApp(new FakeEngine([nsCall]), qwen25);
    const tools: any[] = [
      weather,
      { type: "web_search", external_web_access: false },
      { type: "namespace", name: "multi_agent_v1", description: "Agents", tools: [{ type: "function", name: "spawn_agent", parameters: { type: "object", properties: { task: { type: "string" } } } }] },
    ];
    const r = await client.responses.create({ ...base, input: "Go", tools, tool_choice: "auto", parallel_tool_calls: true });
    const prompt = promptText(engine);
    expect(prompt).toContain('"name": "get_weather"');
    expect(prompt).toContain('"name": "multi_agent_v1__spawn_agent"');
    expect(prompt).not.toContain("web_search");
    expect(r.output[0]).toMatchObject({ type: "function_call", namespace: "multi_agent_v1", name: "spawn_agent" });
    // Sent back in history with its namespace, the call is the model's own flat one again.
    await client.responses.create({ ...base, tools, input: [{ role: "user", content: "Go" }, r.output[0] as any, { type: "function_call_output", call_id: (r.output[0] as any).call_id, output: "done" }] });
    expect(promptText(engine, 1)).toContain('{"name": "multi_agent_v1__spawn_agent", "arguments": {"task": "x"}}');
  });

  test("tool_choice: auto is a lazy grammar, required and a named function force a call, none offers no tools", async () => {
    const { client, engine } = responsesApp(new FakeEngine(), qwen25);
    for (const tool_choice of ["auto", "required", { type: "function", name: "get_weather" }, "none"] as any[]) {
      await client.responses.create({ ...base, input: "Weather?", tools: [weather], tool_choice });
    }
    const [auto, required, named, none] = engine.requests;
    expect(auto!.grammar?.lazy).toBeDefined();
    expect(required!.grammar && !required!.grammar.lazy).toBe(true);
    expect(named!.grammar && !named!.grammar.lazy).toBe(true);
    expect(none!.grammar).toBeUndefined();
  });

  test("text.format json_schema and json_object constrain the answer; text does not", async () => {
    const { client, engine } = responsesApp();
    const schema = { type: "object", properties: { n: { type: "integer" } }, required: ["n"], additionalProperties: false };
    await client.responses.create({ ...base, input: "n?", text: { format: { type: "json_schema", name: "n", schema, strict: true } } });
    await client.responses.create({ ...base, input: "n?", text: { format: { type: "json_object" } } });
    await client.responses.create({ ...base, input: "n?", text: { format: { type: "text" } } });
    expect(engine.requests[0]!.grammar?.gbnf).toContain("root");
    expect(engine.requests[1]!.grammar?.gbnf).toBeDefined();
    expect(engine.requests[2]!.grammar).toBeUndefined();
  });

  test("reasoning.effort: none closes the template's thinking, high leaves it open", async () => {
    const { client, engine } = responsesApp(new FakeEngine(), qwen3);
    await client.responses.create({ ...base, input: "Hi", reasoning: { effort: "none" as any } });
    await client.responses.create({ ...base, input: "Hi", reasoning: { effort: "high", summary: "auto" } });
    expect(promptText(engine, 0)).toEndWith("<think>\n\n</think>\n\n");
    expect(promptText(engine, 1)).toEndWith("<|im_start|>assistant\n");
  });

  test("Codex's body is accepted as sent (store false, include, prompt_cache_key, client_metadata, unknown fields)", async () => {
    const { post } = responsesApp(new FakeEngine(), qwen25);
    const res = await post("/v1/responses", {
      model: "fake-model",
      instructions: "You are Codex.",
      input: [{ type: "message", role: "developer", content: [{ type: "input_text", text: "<permissions>" }] }, { type: "message", role: "user", content: [{ type: "input_text", text: "Say hi" }] }],
      tools: [{ type: "function", name: "shell", description: "Run", strict: false, parameters: { type: "object", properties: { command: { type: "array", items: { type: "string" } } }, required: ["command"] } }, { type: "web_search", external_web_access: false }],
      tool_choice: "auto",
      parallel_tool_calls: true,
      reasoning: { summary: "auto" },
      store: false,
      stream: false,
      include: ["reasoning.encrypted_content"],
      prompt_cache_key: "abc",
      client_metadata: { x: "y" },
      text: { verbosity: "low" },
      something_new: 1,
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).store).toBe(false);
  });

  test("the un-prefixed /responses is the same endpoint; a namespace function is forced by name and namespace", async () => {
    const nsCall = '<tool_call>\n{"name": "multi_agent_v1__spawn_agent", "arguments": {}}\n</tool_call>';
    const { post, engine } = responsesApp(new FakeEngine([nsCall]), qwen25);
    const tools = [{ type: "namespace", name: "multi_agent_v1", tools: [{ type: "function", name: "spawn_agent", parameters: { type: "object", properties: {} } }] }];
    const res = await post("/responses", { ...base, input: "Go", tools, tool_choice: { type: "function", name: "spawn_agent", namespace: "multi_agent_v1" } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).output[0]).toMatchObject({ type: "function_call", namespace: "multi_agent_v1", name: "spawn_agent" });
    expect(engine.requests[0]!.grammar && !engine.requests[0]!.grammar.lazy).toBe(true);
  });
});

describe("refused with a clear 400", () => {
  const cases: Array<[string, object, string, RegExp]> = [
    ["input_image", { input: [{ role: "user", content: [{ type: "input_image", image_url: "data:image/png;base64,AA" }] }] }, "input[0].content[0]", /vision/],
    ["a custom tool with a regex grammar", { input: "x", tools: [{ type: "custom", name: "d", format: { type: "grammar", syntax: "regex", definition: "\\d+" } }] }, "tools[0].format", /regex grammar is not supported/],
    ["an unknown item type", { input: [{ type: "computer_call_output", call_id: "c" }] }, "input[0]", /not supported/],
    ["a hosted tool_choice", { input: "x", tool_choice: { type: "web_search" } }, "tool_choice", /not supported/],
    ["background", { input: "x", background: true }, "background", /background/],
    ["no input at all", {}, "input", /input is required/],
    ["tool_choice required without tools", { input: "x", tool_choice: "required" }, "tool_choice", /requires tools/],
  ];
  test.each(cases)("%s", async (_, body, param, message) => {
    const { post } = responsesApp();
    const res = await post("/v1/responses", { ...base, ...body });
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as any;
    expect(error).toMatchObject({ type: "invalid_request_error", param });
    expect(error.message).toMatch(message);
  });

  test("a missing role, a bad temperature: 400 naming the field", async () => {
    const { post } = responsesApp();
    const noRole = await post("/v1/responses", { input: [{ type: "message", content: "x" }] });
    expect(noRole.status).toBe(400);
    const hot = await post("/v1/responses", { input: "x", temperature: 5 });
    expect(hot.status).toBe(400);
    expect(((await hot.json()) as any).error.param).toBe("temperature");
  });
});
