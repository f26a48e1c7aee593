// The converter's work is bounded: sub-schemas reached twice (anyOf beside properties, a `type`
// array's entries, allOf merges) become one rule, and what would still be too big stops at a
// deterministic budget with a SchemaBudgetError, never after seconds of work in the HTTP process.
// Sizes are asserted, not times.
import { beforeAll, describe, expect, test } from "bun:test";
import { RuleSet } from "../../src/grammar/gbnf.ts";
import { jsonSchemaToGbnf, SchemaBudget, SchemaBudgetError, SchemaGrammarError } from "../../src/grammar/json-schema-grammar.ts";
import { SCHEMA_LIMITS } from "../../src/grammar/schema-budget.ts";
import { grammarError, initBackend, LlamaModel } from "../../src/llama/index.ts";
import { defaultModel } from "../helpers/paths.ts";
import { anyOfBesideProperties, typeArrayOfObjects, wideAnyOf } from "./hostile-schemas.ts";

let model: LlamaModel;
beforeAll(() => {
  initBackend();
  model = LlamaModel.load(defaultModel, { vocabOnly: true });
});

const ruleCount = (gbnf: string) => gbnf.trimEnd().split("\n").length;
/** Work linear in the schema's size: a few hundred steps for these shapes, not 2^levels. */
const smallBudget = () => new SchemaBudget({ ...SCHEMA_LIMITS, steps: 2_000 });

function failure(run: () => unknown): unknown {
  try {
    run();
  } catch (err) {
    return err;
  }
  return null;
}

describe("schemas that used to expand exponentially are a small grammar", () => {
  // Before: 18 levels took 7.6 s and built 221 MB in 1.3 M rules; 20 levels of the type array 16.5 s.
  test("18 levels of anyOf beside properties: a few rules per level, not 2^18", () => {
    const gbnf = jsonSchemaToGbnf(anyOfBesideProperties(18), "root", smallBudget());
    expect(ruleCount(gbnf)).toBeLessThan(100);
    expect(gbnf.length).toBeLessThan(16 * 1024);
    expect(grammarError(model.vocab, { gbnf })).toBeNull();
  });

  test('20 levels of type: ["object", "object"]: each entry is the same rule, visited once', () => {
    const gbnf = jsonSchemaToGbnf(typeArrayOfObjects(20), "root", smallBudget());
    expect(ruleCount(gbnf)).toBeLessThan(100);
    expect(gbnf).not.toMatch(/ (\S+) \| \1$/m); // no alternative twice
    expect(grammarError(model.vocab, { gbnf })).toBeNull();
  });

  test("the same shapes 28 levels deep stay linear", () => {
    const a = ruleCount(jsonSchemaToGbnf(anyOfBesideProperties(14)));
    const b = ruleCount(jsonSchemaToGbnf(anyOfBesideProperties(28)));
    expect(b - a).toBeLessThanOrEqual(14 * 4);
  });

  test("identical sub-schemas under different names share one rule; annotations do not matter", () => {
    const leaf = { type: "string", maxLength: 7 };
    const gbnf = jsonSchemaToGbnf({ type: "object", properties: { a: leaf, b: { ...leaf, title: "B" }, c: { ...leaf } }, required: ["a", "b", "c"] });
    expect(gbnf.match(/char\{0,7\}/g)).toHaveLength(1);
  });
});

describe("the budget", () => {
  test("a schema past it is a SchemaBudgetError at the same point every time", () => {
    const schema = wideAnyOf(SCHEMA_LIMITS.rules + 10);
    const first = failure(() => jsonSchemaToGbnf(schema));
    expect(first).toBeInstanceOf(SchemaBudgetError);
    expect(first).toBeInstanceOf(SchemaGrammarError); // so every caller's 400 mapping covers it
    const second = failure(() => jsonSchemaToGbnf(schema));
    expect((second as Error).message).toBe((first as Error).message);
  });

  test.each([
    ["steps", { steps: 200, rules: 1e9, bytes: 1e9 }, /more than 200 steps/],
    ["rules", { steps: 1e9, rules: 20, bytes: 1e9 }, /more than 20 rules/],
    ["bytes", { steps: 1e9, rules: 1e9, bytes: 2000 }, /exceed 2000 bytes/],
  ])("each limit counts (%s)", (_, limits, message) => {
    const err = failure(() => jsonSchemaToGbnf(wideAnyOf(300), "root", new SchemaBudget(limits)));
    expect(err).toBeInstanceOf(SchemaBudgetError);
    expect((err as Error).message).toMatch(message);
  });

  test("one budget shared by several conversions (one grammar per tool) counts them all", () => {
    const budget = new SchemaBudget({ steps: 1e9, rules: 1e9, bytes: 3000 });
    const schema = { enum: Array.from({ length: 50 }, (_, i) => `value-${i}`) };
    expect(() => jsonSchemaToGbnf(schema, "a", budget)).not.toThrow();
    expect(() => jsonSchemaToGbnf(schema, "b", budget)).not.toThrow();
    expect(() => jsonSchemaToGbnf(schema, "c", budget)).toThrow(SchemaBudgetError);
  });

  test.each([
    ["200,000 properties of one shape", { type: "object", properties: Object.fromEntries(Array.from({ length: 200_000 }, (_, i) => [`p${i}`, { type: "string" }])) }],
    ["a 1,000,000-value enum", { enum: Array.from({ length: 1_000_000 }, (_, i) => i) }],
    ["a 5 MB const", { const: "x".repeat(5_000_000) }],
    ["a 200,000-character key beside additionalProperties", { type: "object", properties: { ["k".repeat(200_000)]: {} }, additionalProperties: true }],
    ["allOf of 100,000 references to a 50-property object", { $defs: { p: { properties: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, { type: "integer" }])) } }, allOf: Array.from({ length: 100_000 }, () => ({ $ref: "#/$defs/p" })) }],
  ])("%s → SchemaBudgetError", (_, schema) => {
    expect(failure(() => jsonSchemaToGbnf(schema))).toBeInstanceOf(SchemaBudgetError);
  });

  test("a loop of references to merge, or a reference that is not a URI fragment, is a SchemaGrammarError (not a stack overflow or URIError)", () => {
    const loop = failure(() => jsonSchemaToGbnf({ $defs: { a: { $ref: "#/$defs/a" } }, allOf: [{ $ref: "#/$defs/a" }] }));
    expect(loop).toBeInstanceOf(SchemaGrammarError);
    expect((loop as SchemaGrammarError).path).toBe("/allOf/0/$ref");
    const percent = failure(() => jsonSchemaToGbnf({ $ref: "#/%E0%A4%A" }));
    expect(percent).toBeInstanceOf(SchemaGrammarError);
    expect((percent as SchemaGrammarError).path).toBe("/$ref");
  });
});

test("RuleSet: the same body under a hint is one rule, other bodies get the next free suffix (without rescanning)", () => {
  const rules = new RuleSet(new Set(["x-1"]));
  expect(rules.add("x", "a")).toBe("x");
  expect(rules.add("x", "b")).toBe("x-2"); // x-1 is reserved
  expect(rules.add("x!", "c")).toBe("x-3"); // "x!" is the name "x" too
  expect(rules.add("x", "b")).toBe("x-2");
  expect(rules.add("x-2", "d")).toBe("x-2-1");
  const many = new RuleSet();
  for (let i = 0; i < 20_000; i++) many.add(`k${"?".repeat(i % 3)}`, `"${i}"`);
  expect(many.size).toBe(20_000);
  expect(many.add("k", '"19999"')).toBe("k-19999");
});
