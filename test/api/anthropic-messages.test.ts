// The Anthropic dialect against a fake engine: the real @anthropic-ai/sdk in front, real templates
// behind, scripted model output. What a request puts in the prompt and the engine request, and
// what the answer looks like, whole.
import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FakeEngine } from "../helpers/fake-engine.ts";
import { anthropicApp, promptText, user } from "../helpers/anthropic-app.ts";
import { llamaSrc } from "../helpers/paths.ts";
import type { GenerateEvent, GenerateRequest } from "../../src/engine/types.ts";

const template = (name: string) => readFileSync(`${llamaSrc}/models/templates/${name}.jinja`, "utf8");
const qwen3 = template("Qwen-Qwen3-0.6B");
const base = { model: "fake-model", max_tokens: 100 };

/** A fake engine whose answer a stop string ended. */
class StoppedEngine extends FakeEngine {
  constructor(private readonly stopString: string) {
    super(["Hello"]);
  }
  override async *generate(request: GenerateRequest, signal?: AbortSignal): AsyncGenerator<GenerateEvent> {
    for await (const ev of super.generate(request, signal)) yield ev.kind === "done" ? { ...ev, stopString: this.stopString } : ev;
  }
}

describe("the message", () => {
  test("Anthropic's shape: msg_ id, text block, end_turn, usage that adds up to the prompt", async () => {
    const { client } = anthropicApp();
    const m = await client.messages.create({ ...base, messages: [user("Hi")] });
    expect(m.id).toMatch(/^msg_[A-Za-z0-9]{24}$/);
    expect(m).toMatchObject({ type: "message", role: "assistant", model: "fake-model", stop_reason: "end_turn", stop_sequence: null });
    expect(m.content).toEqual([{ type: "text", text: "Hello, world!" } as any]);
    expect(m.usage).toMatchObject({ input_tokens: 7, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 4 });
  });

  test("cut by max_tokens: stop_reason max_tokens", async () => {
    const { client } = anthropicApp();
    const m = await client.messages.create({ ...base, max_tokens: 2, messages: [user("Hi")] });
    expect(m.stop_reason).toBe("max_tokens");
    expect(m.content).toEqual([{ type: "text", text: "Hello," } as any]);
  });

  test("stop_sequences reach the engine; the one that matched is stop_sequence", async () => {
    const { client, engine } = anthropicApp(new StoppedEngine("END"));
    const m = await client.messages.create({ ...base, stop_sequences: ["END", "\n\n"], messages: [user("Hi")] });
    expect(engine.requests[0]!.stop.slice(0, 2)).toEqual(["END", "\n\n"]);
    expect([m.stop_reason, m.stop_sequence]).toEqual(["stop_sequence", "END"]);
  });

  test("a template's own stop string is the turn's end, not a stop sequence", async () => {
    const { client } = anthropicApp(new StoppedEngine("<|im_end|>"));
    const m = await client.messages.create({ ...base, messages: [user("Hi")] });
    expect([m.stop_reason, m.stop_sequence]).toEqual(["end_turn", null]);
  });

  test("max_tokens is a ceiling: it is lowered to the room the context leaves", async () => {
    const { client, engine } = anthropicApp();
    await client.messages.create({ ...base, max_tokens: 20000, messages: [user("Hi")] });
    const r = engine.requests[0]!;
    expect(r.maxTokens).toBe(4096 - r.prompt.length);
  });

  test("a prompt past the context: 400 'prompt is too long: N tokens > M maximum'", async () => {
    const { client } = anthropicApp();
    const err: any = await client.messages.create({ ...base, messages: [user("x".repeat(5000))] }).catch(e => e);
    expect(err.status).toBe(400);
    expect(err.type).toBe("invalid_request_error");
    expect(err.apiMessage).toMatch(/^prompt is too long: \d+ tokens > 4095 maximum$/);
  });

  test("fields Hearth does not use are accepted (Claude Code 2.1's body)", async () => {
    const { post } = anthropicApp();
    const res = await post("/v1/messages?beta=true", {
      ...base,
      messages: [{ role: "user", content: [{ type: "text", text: "Hi", cache_control: { type: "ephemeral" } }] }],
      metadata: { user_id: JSON.stringify({ device: "x" }) },
      thinking: { type: "adaptive", display: "omitted" },
      context_management: { edits: [{ type: "clear_thinking_20251015", keep: "all" }] },
      output_config: { effort: "high" },
      service_tier: "auto",
      container: null,
    });
    expect(res.status).toBe(200);
  });
});

describe("what reaches the prompt", () => {
  test("system: text blocks, without Claude Code's billing line", async () => {
    const { client, engine } = anthropicApp();
    const system = [
      { type: "text" as const, text: "x-anthropic-billing-header: cc_version=2.1.328.abc; cc_entrypoint=cli; cch=1a2b3;" },
      { type: "text" as const, text: "You are a helpful assistant.", cache_control: { type: "ephemeral" as const } },
    ];
    await client.messages.create({ ...base, system, messages: [user("Hi")] });
    await client.messages.create({ ...base, system: "x-anthropic-billing-header: cc_version=2; cch=ffff0;Be brief.", messages: [user("Hi")] });
    expect(promptText(engine, 0)).toStartWith("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n");
    expect(promptText(engine, 1)).toStartWith("<|im_start|>system\nBe brief.<|im_end|>\n");
  });

  test("a system turn inside messages stays where it stands when the template takes it", async () => {
    const { client, engine } = anthropicApp();
    const messages: any[] = [user("One"), { role: "system", content: "Env: linux" }, user("Two")];
    await client.messages.create({ ...base, messages });
    expect(promptText(engine)).toContain("<|im_start|>user\nOne<|im_end|>\n<|im_start|>system\nEnv: linux<|im_end|>\n<|im_start|>user\nTwo<|im_end|>");
  });

  test("… and is merged into the next user turn, the same way every time, when it does not", async () => {
    const { client, engine } = anthropicApp(new FakeEngine(), template("google-gemma-2-2b-it"));
    const messages: any[] = [user("One"), { role: "assistant", content: "Ok" }, { role: "system", content: "Env: linux" }, user("Two")];
    await client.messages.create({ ...base, messages });
    await client.messages.create({ ...base, messages });
    expect(promptText(engine, 0)).toContain("<start_of_turn>user\nEnv: linux\n\nTwo<end_of_turn>");
    expect(promptText(engine, 1)).toBe(promptText(engine, 0));
  });

  test("server tools are left out; custom tools reach the template", async () => {
    const { client, engine } = anthropicApp(new FakeEngine(), qwen3);
    const tools: any[] = [
      { type: "web_search_20250305", name: "web_search", max_uses: 3 },
      { name: "get_weather", description: "Weather", input_schema: { type: "object", properties: { city: { type: "string" } } }, cache_control: { type: "ephemeral" } },
    ];
    await client.messages.create({ ...base, tools, messages: [user("Weather?")] });
    expect(promptText(engine)).toContain('"name": "get_weather"');
    expect(promptText(engine)).not.toContain("web_search");
  });

  test("tool_choice: auto is a lazy grammar, any and tool force a call, none offers no tools", async () => {
    const { client, engine } = anthropicApp(new FakeEngine(), qwen3);
    const tools = [{ name: "get_weather", input_schema: { type: "object" as const, properties: { city: { type: "string" } } } }];
    const choices: any[] = [{ type: "auto" }, { type: "any" }, { type: "tool", name: "get_weather" }, { type: "none" }, { type: "any", disable_parallel_tool_use: true }];
    for (const tool_choice of choices) await client.messages.create({ ...base, tools, tool_choice, messages: [user("Weather?")] });
    const [auto, any, named, none, single] = engine.requests;
    expect(auto!.grammar?.lazy).toBeDefined();
    expect(any!.grammar && !any!.grammar.lazy).toBe(true);
    expect(named!.grammar && !named!.grammar.lazy).toBe(true);
    expect(none!.grammar).toBeUndefined();
    expect(promptText(engine, 3)).not.toContain("get_weather");
    expect(single!.grammar!.gbnf).not.toBe(any!.grammar!.gbnf);
  });

  test("tool_use and tool_result in history: the call and its result, in order", async () => {
    const { client, engine } = anthropicApp(new FakeEngine(), qwen3);
    const tools = [{ name: "get_weather", input_schema: { type: "object" as const } }];
    await client.messages.create({
      ...base,
      tools,
      messages: [
        user("Weather in Paris?"),
        { role: "assistant", content: [{ type: "text", text: "Let me look." }, { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "text", text: "Sunny" }], is_error: false }, { type: "text", text: "And tomorrow?" }] },
      ],
    });
    const prompt = promptText(engine);
    expect(prompt).toContain('Let me look.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>');
    expect(prompt.indexOf("<tool_response>\nSunny\n</tool_response>")).toBeLessThan(prompt.indexOf("And tomorrow?"));
  });

  test("thinking blocks in history are accepted whatever their signature, and rendered as reasoning", async () => {
    const { client, engine } = anthropicApp(new FakeEngine(), qwen3);
    for (const signature of [undefined, "", "not-hearths", "EqQBCkYIBxgCKkB"]) {
      const thinking: any = { type: "thinking", thinking: "Check the files first.", ...(signature === undefined ? {} : { signature }) };
      const messages: any[] = [
        user("Fix it"),
        { role: "assistant", content: [thinking, { type: "redacted_thinking", data: "opaque" }, { type: "tool_use", id: "c1", name: "ls", input: {} }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "c1", content: "main.py" }] },
      ];
      await client.messages.create({ ...base, tools: [{ name: "ls", input_schema: { type: "object" } }], messages });
    }
    expect(engine.requests).toHaveLength(4);
    expect(promptText(engine, 3)).toContain("<think>\nCheck the files first.\n</think>");
  });

  test("thinking: disabled closes the template's thinking; enabled and adaptive leave it open", async () => {
    const { client, engine } = anthropicApp(new FakeEngine(), qwen3);
    for (const thinking of [{ type: "disabled" }, { type: "enabled", budget_tokens: 1024 }, { type: "adaptive" }] as any[]) {
      await client.messages.create({ ...base, thinking, messages: [user("Hi")] });
    }
    expect(promptText(engine, 0)).toEndWith("<think>\n\n</think>\n\n");
    expect(promptText(engine, 1)).toEndWith("<|im_start|>assistant\n");
    expect(promptText(engine, 2)).toEndWith("<|im_start|>assistant\n");
  });
});

describe("thinking and tool calls in the answer", () => {
  test("thinking comes first, signed with the key kept under $HEARTH_HOME", async () => {
    const { client } = anthropicApp(new FakeEngine(["<think>\nThe user", " says hi.\n</think>\n\nHel", "lo!"]), qwen3);
    const m = await client.messages.create({ ...base, messages: [user("Hi")] });
    const key = readFileSync(join(process.env.HEARTH_HOME!, "thinking-signature.key"));
    const signature = createHmac("sha256", key).update("The user says hi.").digest("base64");
    expect(m.content).toEqual([{ type: "thinking", thinking: "The user says hi.", signature }, { type: "text", text: "Hello!" }] as any);
  });

  test("a call is a tool_use block with a toolu_ id and an input object; stop_reason tool_use", async () => {
    const call = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>';
    const { client } = anthropicApp(new FakeEngine([call]), qwen3);
    const tools = [{ name: "get_weather", input_schema: { type: "object" as const, properties: { city: { type: "string" } } } }];
    const m = await client.messages.create({ ...base, tools, messages: [user("Weather?")] });
    expect(m.stop_reason).toBe("tool_use");
    expect(m.content).toHaveLength(1);
    expect(m.content[0]).toMatchObject({ type: "tool_use", name: "get_weather", input: { city: "Paris" } });
    expect((m.content[0] as any).id).toMatch(/^toolu_[A-Za-z0-9]+$/);
  });
});

describe("count_tokens", () => {
  test("the exact prompt a messages request with the same body decodes; no max_tokens needed", async () => {
    const { client, engine } = anthropicApp(new FakeEngine(), qwen3);
    const body = { model: "fake-model", system: "Be brief.", messages: [user("Hello there")] };
    const counted = await client.messages.countTokens(body);
    await client.messages.create({ ...body, max_tokens: 10 });
    expect(counted.input_tokens).toBe(engine.requests[0]!.prompt.length);
    expect(Object.keys(counted).filter(k => !k.startsWith("_"))).toEqual(["input_tokens"]);
  });
});
