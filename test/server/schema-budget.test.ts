// Issue 23, finding 1, through the server: schemas that once took seconds of synchronous work in
// the HTTP process (freezing every model and /health) are answered promptly, wherever a schema
// can come from — a grammar within the budget (and a completion it constrains), or a 400
// invalid_json_schema naming the field — while /health keeps answering.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Ajv2020 from "ajv/dist/2020";
import { defaultModel } from "../helpers/paths.ts";
import { postJson, startHearth, type Running } from "../helpers/server.ts";
import { anyOfBesideProperties, anyOfMergingProperties, typeArrayOfObjects, wideAnyOf } from "../grammar/hostile-schemas.ts";

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

// Open: a small grammar can still be exponential for llama.cpp's sampler when alternatives that
// overlap (here two object schemas) nest: 2^levels parse stacks. 12 levels took 2.8 s for 120
// tokens of stories260K, 14 held the runner past 15 s. Needs a cap on grammar stacks where the
// runner accepts tokens (lib/shim), or an ambiguity bound in the converter.
test.todo("overlapping anyOf alternatives nested 16 deep: a 400, or a completion that does not hold the runner", async () => {
  const { status, slowestHealthMs } = await whileHealthPolled("/v1/completions", { prompt: "x", max_tokens: 120, temperature: 0, json_schema: anyOfMergingProperties(16) });
  expect(slowestHealthMs).toBeLessThan(5000);
  expect([200, 400]).toContain(status);
});

test("the server still answers an ordinary request afterwards", async () => {
  const res = await postJson(`${server.url}/v1/completions`, { model, prompt: "Once upon a time", max_tokens: 8, temperature: 0 });
  expect(res.status).toBe(200);
});
