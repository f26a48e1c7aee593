// gpt-oss tool calls on the wire, with scripted harmony output (a fake engine) behind gpt-oss's
// own template: /v1/chat/completions and /v1/responses, whole and streamed, give the call (and the
// analysis as reasoning); the grammar a request asks for (lazy for auto, from the start for
// required); and the call sent back in history is rendered in the template's own form.
import { expect, test } from "bun:test";
import { FakeEngine } from "../helpers/fake-engine.ts";
import { responsesApp, streamEvents, template } from "../helpers/responses-app.ts";

const gptOss = template("openai-gpt-oss-120b");
const tools = [{ type: "function" as const, function: { name: "get_weather", description: "Weather for a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } }];
const responsesTools = tools.map(t => ({ type: "function" as const, name: t.function.name, description: t.function.description, parameters: t.function.parameters, strict: false }));
// The text gpt-oss writes after the generation prompt `<|start|>assistant`, in the pieces tokens come in.
const pieces = [
  "<|channel|>", "analysis", "<|message|>", "Need the", " weather.", "<|end|>", "<|start|>", "assistant",
  "<|channel|>", "comment", "ary", " to", "=functions", ".get", "_weather", " ", "<|constrain|>", "json", "<|message|>",
  '{"', "city", '":"', "Paris", '"}',
];
/** The last prompt's text: segments (chat completions), or ids of the fake engine's byte tokenizer (measured prompts, Responses). */
function prompt(engine: FakeEngine): string {
  const p = engine.requests.at(-1)!.prompt as Array<{ text: string }> | number[];
  return typeof p[0] === "number" ? new TextDecoder().decode(new Uint8Array(p as number[])) : (p as Array<{ text: string }>).map(s => s.text).join("");
}
const renderedCall = '<|start|>assistant<|channel|>analysis<|message|>Need the weather.<|end|><|start|>assistant to=functions.get_weather<|channel|>commentary json<|message|>{"city": "Paris"}<|call|>';

test("chat completions: the call and the analysis, whole and streamed; auto wakes a lazy grammar at ' to=functions.'", async () => {
  const { client, engine } = responsesApp(new FakeEngine(pieces), gptOss);
  const r: any = await client.chat.completions.create({ model: "fake-model", messages: [{ role: "user", content: "Weather in Paris?" }], tools });
  expect(r.choices[0].finish_reason).toBe("tool_calls");
  expect(r.choices[0].message.content).toBeNull();
  expect(r.choices[0].message.reasoning_content).toBe("Need the weather.");
  expect(r.choices[0].message.tool_calls).toEqual([{ id: expect.stringMatching(/^call_/), type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }]);
  const req = engine.requests.at(-1)!;
  expect(req.grammar?.lazy?.words).toEqual([" to=functions."]);
  expect(req.preserveTokens).toEqual(expect.arrayContaining(["<|channel|>", "<|message|>", "<|constrain|>", "<|start|>", "<|end|>"]));
  const final = await client.chat.completions.stream({ model: "fake-model", messages: [{ role: "user", content: "Weather in Paris?" }], tools }).finalChatCompletion();
  expect(final.choices[0]!.message.tool_calls![0]!).toMatchObject({ type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } });
  expect(final.choices[0]!.message.content ?? "").toBe("");
});

test("chat completions: tool_choice required forces the call in the commentary channel, after one analysis message at most", async () => {
  const forced = ["<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>", '{"city": "Oslo"}'];
  const { client, engine } = responsesApp(new FakeEngine(forced), gptOss);
  const r: any = await client.chat.completions.create({ model: "fake-model", messages: [{ role: "user", content: "Weather?" }], tools, tool_choice: "required" });
  expect(r.choices[0].message.tool_calls[0].function).toEqual({ name: "get_weather", arguments: '{"city": "Oslo"}' });
  const grammar = engine.requests.at(-1)!.grammar!;
  expect(grammar.lazy).toBeUndefined();
  // gpt-oss may reason first, as llama-server's gpt-oss grammar allows (262696b); then the call.
  expect(grammar.gbnf).toStartWith('root ::= ("<|channel|>analysis<|message|>" hearth-thinking "<|end|>" "<|start|>assistant")? hearth-answer\n');
  expect(grammar.gbnf).toContain('\nhearth-answer ::= "<|channel|>commentary" " to=functions." ');
});

test("chat completions: the call and its result in history render as gpt-oss's template writes them", async () => {
  const { client, engine } = responsesApp(new FakeEngine(["<|channel|>final<|message|>", "Sunny."]), gptOss);
  const r: any = await client.chat.completions.create({
    model: "fake-model",
    tools,
    messages: [
      { role: "user", content: "Weather in Paris?" },
      { role: "assistant", content: null, reasoning_content: "Need the weather.", tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] } as any,
      { role: "tool", tool_call_id: "call_1", content: "sunny" },
    ],
  });
  expect(r.choices[0].message.content).toBe("Sunny.");
  expect(prompt(engine)).toContain(renderedCall);
  expect(prompt(engine)).toContain('<|start|>functions.get_weather to=assistant<|channel|>commentary<|message|>"sunny"<|end|><|start|>assistant');
});

test("responses: reasoning and a function_call item, whole and streamed", async () => {
  const { client, post, engine } = responsesApp(new FakeEngine(pieces), gptOss);
  const r: any = await client.responses.create({ model: "fake-model", input: "Weather in Paris?", tools: responsesTools });
  expect(r.output.map((o: any) => o.type)).toEqual(["reasoning", "function_call"]);
  expect(r.output[0].content).toEqual([{ type: "reasoning_text", text: "Need the weather." }]);
  expect(r.output[1]).toMatchObject({ type: "function_call", name: "get_weather", arguments: '{"city":"Paris"}', call_id: expect.stringMatching(/^call_/) });
  expect(engine.requests.at(-1)!.grammar?.lazy?.words).toEqual([" to=functions."]);

  const res = await post("/v1/responses", { model: "fake-model", input: "Weather in Paris?", tools: responsesTools, stream: true });
  const events = streamEvents(await res.text());
  const args = events.filter(e => e.type === "response.function_call_arguments.delta").map(e => e.delta).join("");
  expect(args).toBe('{"city":"Paris"}');
  const done = events.find(e => e.type === "response.completed")!.response;
  expect(done.output.map((o: any) => [o.type, o.name ?? null, o.arguments ?? null])).toEqual([["reasoning", null, null], ["function_call", "get_weather", '{"city":"Paris"}']]);
});

test("responses: the call, its output and the reasoning sent back as items render in the template's form", async () => {
  const { client, engine } = responsesApp(new FakeEngine(["<|channel|>final<|message|>", "Sunny."]), gptOss);
  const r: any = await client.responses.create({
    model: "fake-model",
    tools: responsesTools,
    input: [
      { role: "user", content: "Weather in Paris?" },
      { type: "reasoning", id: "rs_1", summary: [], content: [{ type: "reasoning_text", text: "Need the weather." }] },
      { type: "function_call", call_id: "call_1", name: "get_weather", arguments: '{"city":"Paris"}' },
      { type: "function_call_output", call_id: "call_1", output: "sunny" },
    ] as any,
  });
  expect(r.output_text).toBe("Sunny.");
  expect(prompt(engine)).toContain(renderedCall);
});
