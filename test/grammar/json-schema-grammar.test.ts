// The JSON Schema → GBNF converter without generating text: every grammar it writes is one that
// llama.cpp parses, integer ranges are exact, and what it cannot honour is refused with a path.
import { beforeAll, describe, expect, test } from "bun:test";
import { integerRange } from "../../src/grammar/integer-range.ts";
import { jsonObjectGrammar } from "../../src/grammar/json-primitives.ts";
import { jsonSchemaToGbnf, SchemaGrammarError } from "../../src/grammar/json-schema-grammar.ts";
import { LlamaModel, grammarError, initBackend } from "../../src/llama/index.ts";
import { schemaCases } from "../fixtures/json-schemas.ts";
import { defaultModel } from "../helpers/paths.ts";

let model: LlamaModel;
beforeAll(() => {
  initBackend();
  model = LlamaModel.load(defaultModel, { vocabOnly: true });
});

describe("every converted schema is a grammar llama.cpp accepts", () => {
  test.each(schemaCases)("%s", (_, schema) => {
    const gbnf = jsonSchemaToGbnf(schema);
    expect(gbnf).toStartWith("root ::= ");
    expect(grammarError(model.vocab, { gbnf })).toBeNull();
  });
  test("json_object", () => expect(grammarError(model.vocab, { gbnf: jsonObjectGrammar() })).toBeNull());
});

test("grammarError refuses what llama.cpp cannot parse or what would overflow its stack", () => {
  expect(grammarError(model.vocab, { gbnf: 'root ::= ( "a"' })).toContain("cannot parse");
  expect(grammarError(model.vocab, { gbnf: 'root ::= undefined-rule' })).toContain("cannot parse");
  expect(grammarError(model.vocab, { gbnf: 'start ::= "a"' })).toContain("cannot parse");
  expect(grammarError(model.vocab, { gbnf: `root ::= ${"(".repeat(5000)}"a"${")".repeat(5000)}` })).toContain("nests");
  expect(grammarError(model.vocab, { gbnf: `root ::= "${"a".repeat(300_000)}"` })).toContain("larger");
  expect(grammarError(model.vocab, { gbnf: 'root ::= "a" | "b"', lazy: { words: ["<tool(.*)"], tokens: [] } })).toBeNull();
});

/** integerRange's GBNF uses only literals, classes, {n} and alternation: the same as a JS regex. */
function rangeRegex(gbnf: string): RegExp {
  return new RegExp(`^(?:${gbnf.replace(/"-"/g, "-").replace(/ /g, "")})$`);
}

test.each([
  [0, 0], [0, 9], [1, 1000], [7, 93], [15, 2345], [-300, -7], [-45, 123], [-9, -1], [99, 101], [1234, 987654],
])("integerRange(%d, %d) matches exactly the integers within", (lo, hi) => {
  const re = rangeRegex(integerRange(lo, hi));
  const span = Math.max(200, (hi - lo) / 5000);
  for (let n = lo - 200; n <= hi + 200; n += n > lo + 200 && n < hi - 200 ? Math.ceil(span) : 1) {
    expect([n, re.test(String(n))]).toEqual([n, n >= lo && n <= hi]);
  }
  expect(re.test("-0")).toBe(false);
  expect(re.test(`0${Math.max(lo, 1)}`)).toBe(false); // no leading zeros
});

test("open-ended integer ranges", () => {
  const atLeast = rangeRegex(integerRange(120, Infinity));
  for (const n of [120, 121, 999, 1000, 123456789]) expect(atLeast.test(String(n))).toBe(true);
  for (const n of [119, 0, -5, 99]) expect(atLeast.test(String(n))).toBe(false);
  const atMost = rangeRegex(integerRange(-Infinity, -3));
  for (const n of [-3, -4, -1000]) expect(atMost.test(String(n))).toBe(true);
  for (const n of [-2, 0, 5]) expect(atMost.test(String(n))).toBe(false);
});

test.each([
  [{ type: "string", pattern: "^a+$" }, "/pattern"],
  [{ type: "object", properties: { x: { type: "number", multipleOf: 3 } } }, "/properties/x/multipleOf"],
  [{ type: "array", items: { type: "integer" }, uniqueItems: true }, "/uniqueItems"],
  [{ not: { type: "string" } }, "/not"],
  [{ $ref: "https://example.com/s.json" }, "/$ref"],
  [{ $ref: "#/$defs/missing" }, "/$ref"],
  [{ type: "integer", minimum: 5, maximum: 4 }, ""],
  [{ type: "colour" }, "/type"],
  [{ allOf: [{ type: "string" }, { type: "integer" }] }, "/allOf/1/type"],
])("refuses %j (at %s)", (schema, path) => {
  let error: unknown;
  try {
    jsonSchemaToGbnf(schema);
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(SchemaGrammarError);
  expect((error as SchemaGrammarError).path).toBe(path);
});

test("a pattern beside a format the grammar covers is met by the format's grammar", () => {
  const gbnf = jsonSchemaToGbnf({ type: "string", format: "email", pattern: "^.+@.+$" });
  expect(gbnf).toContain("email");
});

test("rules are named after properties and definitions; declared names never clash with the primitives", () => {
  const gbnf = jsonSchemaToGbnf({ $defs: { string: { type: "integer" } }, type: "object", properties: { v: { $ref: "#/$defs/string" }, w: { type: "string" } }, required: ["v", "w"] });
  expect(gbnf).toMatch(/^root-v-kv ::= /m);
  expect(gbnf).toMatch(/^ref-string ::= /m);
  expect(gbnf).toMatch(/^string ::= "\\"" char\* "\\"" space$/m);
});

test("declared keys with characters special in a character class, beside additionalProperties: a grammar llama.cpp parses", () => {
  // Found by the HTTP fuzz: `\^` and `\-` are no escapes to llama.cpp, which refused the grammar.
  const keys = ["content-type", "^x", "a]b", "[", "back\\slash", "new\nline", "-", "^", "x-y-z"];
  const gbnf = jsonSchemaToGbnf({ type: "object", properties: Object.fromEntries(keys.map(k => [k, { type: "integer" }])), additionalProperties: true });
  expect(grammarError(model.vocab, { gbnf })).toBeNull();
});
