// Structured output end to end: with random-weight tiny-qwen2 and the tiny stories260K model,
// only the grammar keeps the output valid. Every answer that ends with "stop" must parse and
// validate against its schema (ajv with formats); answers cut by max_tokens may not.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { schemaCases } from "../fixtures/json-schemas.ts";
import { generatedModel } from "../helpers/models.ts";
import { defaultModel } from "../helpers/paths.ts";
import { postJson, readSse, startHearth, type Running } from "../helpers/server.ts";

let server: Running;
let qwen: string;
const STORIES = "stories260K";

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);

beforeAll(async () => {
  const path = await generatedModel("tiny-qwen2");
  qwen = path.split("/").pop()!.replace(/\.gguf$/, "");
  server = await startHearth(["--model", path, "--model", defaultModel, "--threads", "1", "--parallel", "4", "--ctx-size", "4096"]);
});
afterAll(async () => {
  await server?.stop();
});

interface Answer {
  text: string;
  finish: string;
}

async function chat(body: object): Promise<Answer> {
  const res = await postJson(`${server.url}/v1/chat/completions`, { model: qwen, messages: [{ role: "user", content: "Answer in JSON." }], ...body });
  const json: any = await res.json();
  expect(res.status, JSON.stringify(json)).toBe(200);
  return { text: json.choices[0].message.content, finish: json.choices[0].finish_reason };
}

async function complete(body: object): Promise<Answer> {
  const res = await postJson(`${server.url}/v1/completions`, { model: STORIES, prompt: "Once upon a time", ...body });
  const json: any = await res.json();
  expect(res.status, JSON.stringify(json)).toBe(200);
  return { text: json.choices[0].text, finish: json.choices[0].finish_reason };
}

/** Every "stop" answer validates; returns how many stopped. */
function checkAnswers(schema: object, answers: Answer[]): number {
  const validate = ajv.compile(schema);
  let stopped = 0;
  for (const a of answers) {
    if (a.finish !== "stop") continue;
    stopped++;
    let value: unknown;
    expect(() => (value = JSON.parse(a.text)), a.text).not.toThrow();
    expect([a.text, validate(value), validate.errors]).toEqual([a.text, true, null]);
  }
  return stopped;
}

describe("json_schema: every finished answer validates", () => {
  let stopped = 0;
  let total = 0;
  test.each(schemaCases)("%s", async (_, schema) => {
    const format = { type: "json_schema", json_schema: { name: "answer", strict: true, schema } };
    const answers = await Promise.all([
      ...[1, 2, 3].map(seed => chat({ response_format: format, temperature: 1, seed, max_tokens: 400 })),
      chat({ response_format: format, temperature: 0, max_tokens: 400 }),
      // llama-server's json_schema field, on /v1/completions, with a 512-token vocabulary.
      ...[1, 2].map(seed => complete({ json_schema: schema, temperature: 1, seed, max_tokens: 100 })),
    ]);
    stopped += checkAnswers(schema, answers);
    total += answers.length;
  });
  // The test above proves nothing if nothing finishes: most answers must.
  test("most answers finish within max_tokens", () => {
    console.log(`structured output: ${stopped} of ${total} answers finished with "stop"`);
    expect(stopped).toBeGreaterThan(total / 2);
  });
});

test("json_object gives a JSON object; streamed chunks join to the same kind of answer", async () => {
  const answers = await Promise.all([1, 2, 3, 4].map(seed => chat({ response_format: { type: "json_object" }, temperature: 1, seed, max_tokens: 400 })));
  const stopped = checkAnswers({ type: "object" }, answers);
  const events = await readSse(
    await postJson(`${server.url}/v1/chat/completions`, {
      model: qwen,
      messages: [{ role: "user", content: "JSON please" }],
      response_format: { type: "json_schema", json_schema: { name: "s", schema: schemaCases[0]![1] } },
      temperature: 0,
      max_tokens: 400,
      stream: true,
    }),
  );
  const chunks = events.filter(e => e !== "[DONE]").map(e => JSON.parse(e));
  const text = chunks.map(c => c.choices[0]?.delta?.content ?? "").join("");
  const finish = chunks.map(c => c.choices[0]?.finish_reason).find(Boolean);
  expect(finish).toBe("stop");
  expect(stopped + checkAnswers(schemaCases[0]![1], [{ text, finish }])).toBeGreaterThan(0);
});

test("a raw GBNF grammar constrains the text exactly", async () => {
  const grammar = 'root ::= ("yes" | "no") " " [0-9] [0-9]? "."';
  for (const seed of [1, 2, 3]) {
    const chatAnswer = await chat({ grammar, temperature: 1, seed, max_tokens: 50 });
    expect(chatAnswer.text).toMatch(/^(yes|no) [0-9][0-9]?\.$/);
    expect(chatAnswer.finish).toBe("stop");
    const story = await complete({ grammar, temperature: 1, seed, max_tokens: 50 });
    expect(story.text).toMatch(/^(yes|no) [0-9][0-9]?\.$/);
  }
});

test("ignore_eos with a grammar ends the answer when the grammar is complete", async () => {
  const answer = await chat({ grammar: 'root ::= "done"', ignore_eos: true, temperature: 0, max_tokens: 50 });
  expect(answer).toEqual({ text: "done", finish: "stop" });
});

describe("bad grammars and schemas are 400s naming the field, before generation", () => {
  test.each([
    ["/v1/chat/completions", { grammar: 'root ::= ( "a"' }, "grammar", "invalid_grammar"],
    ["/v1/chat/completions", { grammar: "root ::= missing-rule" }, "grammar", "invalid_grammar"],
    ["/v1/completions", { grammar: 'root ::= root "a"' }, "grammar", "invalid_grammar"],
    // Deep enough to overflow llama.cpp's recursive parser if it ever reached it.
    ["/v1/completions", { grammar: `root ::= ${"(".repeat(60_000)}"a"${")".repeat(60_000)}` }, "grammar", "invalid_grammar"],
    ["/v1/chat/completions", { response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "string", pattern: "^a+$" } } } }, "response_format.json_schema.schema", "invalid_json_schema"],
    ["/v1/chat/completions", { response_format: { type: "json_schema", json_schema: { name: "x", schema: { $ref: "#/$defs/nope" } } } }, "response_format.json_schema.schema", "invalid_json_schema"],
    ["/v1/completions", { json_schema: { type: "integer", minimum: 3, maximum: 1 } }, "json_schema", "invalid_json_schema"],
    ["/v1/chat/completions", { grammar: 'root ::= "a"', response_format: { type: "json_object" } }, "grammar", null],
    ["/v1/chat/completions", { response_format: { type: "xml" } }, "response_format.type", "invalid_value"],
  ])("%s %#", async (path, extra, param, code) => {
    const body = path === "/v1/completions" ? { model: STORIES, prompt: "Hi", max_tokens: 5 } : { model: qwen, messages: [{ role: "user", content: "Hi" }], max_tokens: 5 };
    const res = await postJson(`${server.url}${path}`, { ...body, ...extra });
    const json: any = await res.json();
    expect(res.status).toBe(400);
    expect(json.error.type).toBe("invalid_request_error");
    expect(json.error.param).toBe(param);
    expect(json.error.code).toBe(code);
  });

  test("the server keeps serving afterwards", async () => {
    expect((await complete({ max_tokens: 5 })).text.length).toBeGreaterThan(0);
  });
});
