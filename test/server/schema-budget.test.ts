// Issue 23, finding 1, through the server: schemas that once took seconds of synchronous work in
// the HTTP process (freezing every model and /health) are answered promptly, wherever a schema
// can come from — a grammar within the budget (and a completion it constrains), or a 400
// invalid_json_schema naming the field — while /health keeps answering. And a small grammar that
// is too ambiguous for the runner's grammar code ends only its own request (see below).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Ajv2020 from "ajv/dist/2020";
import { defaultModel } from "../helpers/paths.ts";
import { postJson, startHearth, type Running } from "../helpers/server.ts";
import { alternativesChain, anyOfBesideProperties, anyOfMergingProperties, doublingGrammar, typeArrayOfObjects, wideAnyOf } from "../grammar/hostile-schemas.ts";

let server: Running;
const model = "stories260K"; // its context holds 128 tokens: answers are short
const ajv = new Ajv2020({ strict: false });

beforeAll(async () => {
  server = await startHearth(["--model", defaultModel, "--threads", "1", "--parallel", "2", "--ctx-size", "1024"]);
});
afterAll(async () => {
  await server?.stop();
});

/** Sends the request while polling /health; returns the answer and the slowest /health. */
async function whileHealthPolled(path: string, body: object): Promise<{ status: number; json: any; slowestHealthMs: number }> {
  let done = false;
  let slowest = 0;
  const polling = (async () => {
    while (!done) {
      const t0 = performance.now();
      const res = await fetch(`${server.url}/health`);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      slowest = Math.max(slowest, performance.now() - t0);
      await Bun.sleep(20);
    }
  })();
  await Bun.sleep(50); // a first /health before the schema arrives
  const res = await postJson(`${server.url}${path}`, { model, ...body });
  const json = await res.json();
  done = true;
  await polling;
  return { status: res.status, json, slowestHealthMs: slowest };
}

const deep: Array<[string, object]> = [
  ["18 levels of anyOf beside properties", anyOfBesideProperties(18)],
  ['20 levels of type ["object", "object"]', typeArrayOfObjects(20)],
];
// Over the budget (more rules than it allows) yet well within the body limits.
const wide = wideAnyOf(12_000);

/** Where a schema can come from, and the `param` a 400 names. */
const carriers: Array<[string, string, (schema: object) => object, string]> = [
  ["response_format json_schema", "/v1/chat/completions", s => ({ messages: [{ role: "user", content: "Hi" }], response_format: { type: "json_schema", json_schema: { name: "x", schema: s } } }), "response_format.json_schema.schema"],
  ["response_format json_object with schema", "/v1/chat/completions", s => ({ messages: [{ role: "user", content: "Hi" }], response_format: { type: "json_object", schema: s } }), "response_format.schema"],
  ["json_schema (completions)", "/v1/completions", s => ({ prompt: "Once upon a time", json_schema: s }), "json_schema"],
  ["tools[].parameters, tool_choice required", "/v1/chat/completions", s => ({ messages: [{ role: "user", content: "Hi" }], tools: [{ type: "function", function: { name: "f", parameters: s } }], tool_choice: "required" }), "tools"],
  ["tools[].parameters, tool_choice auto", "/v1/chat/completions", s => ({ messages: [{ role: "user", content: "Hi" }], tools: [{ type: "function", function: { name: "f", parameters: s } }] }), "tools"],
];

describe.each(carriers)("%s", (_, path, wrap, param) => {
  test.each(deep)("%s: a completion the grammar constrains, /health answering meanwhile", async (_, schema) => {
    const { status, json, slowestHealthMs } = await whileHealthPolled(path, { ...wrap(schema), max_tokens: 64, temperature: 0 });
    expect(slowestHealthMs).toBeLessThan(5000);
    expect(status, JSON.stringify(json).slice(0, 500)).toBe(200);
    const choice = json.choices[0];
    // 64 tokens of stories260K rarely close 18 levels: a cut answer is the schema's prefix.
    const check = (text: string, finished: boolean) => {
      if (finished) expect(ajv.validate(schema, JSON.parse(text))).toBe(true);
      else expect(text).toMatch(/^\{ *"a" *: *\{/);
    };
    if (param === "tools") {
      // A forced call's arguments follow the schema; an optional call may not be made at all.
      const calls = choice.message.tool_calls ?? [];
      if ((wrap({}) as any).tool_choice === "required") expect(calls.length).toBeGreaterThan(0);
      for (const call of calls) check(call.function.arguments, choice.finish_reason === "tool_calls");
      return;
    }
    check(choice.text ?? choice.message.content, choice.finish_reason === "stop");
  });

  test("a schema past the budget: 400 invalid_json_schema naming the field, /health answering meanwhile", async () => {
    const { status, json, slowestHealthMs } = await whileHealthPolled(path, { ...wrap(wide), max_tokens: 8 });
    expect(slowestHealthMs).toBeLessThan(5000);
    expect(status).toBe(400);
    expect(json.error).toMatchObject({ type: "invalid_request_error", code: "invalid_json_schema", param });
    expect(json.error.message).toMatch(/too (complex|large) to convert/);
  });
});

// Small grammars whose parse stacks multiply: overlapping alternatives nested N deep need 2^N.
// llama.cpp's grammar code held the runner (every stream on the model) past 15 s at 14 levels of
// such a schema, and forever at 20 levels of such a GBNF. The shim bounds a grammar's stacks and
// work (lib/shim/hearth_grammar.cpp): only the request past a bound ends, with invalid_grammar —
// at submit when its first stacks or first mask pass it, else when a sampled token does.
describe("a grammar past the shim's bounds ends only its own request", () => {
  const hostile: Array<[string, object]> = [
    ["overlapping anyOf alternatives nested 16 deep (json_schema)", { json_schema: anyOfMergingProperties(16) }],
    ["stacks that double with each character, 20 deep (grammar)", { grammar: doublingGrammar(20) }],
    ["2^20 stacks before the first character (grammar)", { grammar: alternativesChain(20) }],
  ];
  test.each(hostile)(
    "%s: 400 invalid_grammar, while a stream beside it on the same model finishes and /health answers",
    async (_, constraint) => {
      // An ordinary stream on the same model (the same runner), still going when the grammar arrives.
      const stream = await postJson(`${server.url}/v1/completions`, { model, prompt: "Once upon a time", max_tokens: 100, temperature: 0, stream: true });
      expect(stream.status).toBe(200);
      const events = sseEvents(stream);
      expect((await events.next()).done).toBe(false);

      const { status, json, slowestHealthMs } = await whileHealthPolled("/v1/completions", { prompt: "x", max_tokens: 120, temperature: 0, ...constraint });
      expect(status, JSON.stringify(json).slice(0, 300)).toBe(400);
      expect(json.error).toMatchObject({ type: "invalid_request_error", code: "invalid_grammar" });
      expect(json.error.message).toMatch(/^the grammar is too ambiguous: (more than 4096 parse stacks|one token needs more work)/);
      expect(slowestHealthMs).toBeLessThan(5000);

      const rest: any[] = [];
      for await (const data of events) if (data !== "[DONE]") rest.push(JSON.parse(data));
      expect(["length", "stop"]).toContain(rest.at(-1)?.choices[0].finish_reason);
    },
    30_000, // liveness: llama.cpp's own grammar code took 15 s to minutes here
  );
});

/** The `data:` payloads of a server-sent event stream, as they arrive. */
async function* sseEvents(res: Response): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = "";
  const reader = res.body!.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    buffer += decoder.decode(r.value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, end).trim();
      buffer = buffer.slice(end + 2);
      if (event.startsWith("data: ")) yield event.slice(6);
    }
  }
}

test("the server still answers an ordinary request afterwards", async () => {
  const res = await postJson(`${server.url}/v1/completions`, { model, prompt: "Once upon a time", max_tokens: 8, temperature: 0 });
  expect(res.status).toBe(200);
});
