// The shim's grammar (lib/shim/hearth_grammar.cpp) on tiny-qwen2's vocabulary (Qwen2's 151,936
// tokens, long runs of spaces among them): real grammars pass the check at submit; a grammar past
// a bound is refused at submit when its first stacks or its first mask pass it, else by the token
// that passes it, with the same answer from then on. llama.cpp's own grammar code never returns on
// the hostile grammars here (2^20 stacks; 2^n derivations of a token of n spaces).
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Pointer } from "bun:ffi";
import { toolFormats } from "../../src/chat/tool-calls/formats.ts";
import type { ToolDefinition } from "../../src/chat/tool-calls/types.ts";
import { jsonSchemaToGbnf } from "../../src/grammar/json-schema-grammar.ts";
import { LlamaModel, grammarBounds, grammarError } from "../../src/llama/index.ts";
import { cString } from "../../src/llama/cstring.ts";
import { native } from "../../src/llama/library.ts";
import { schemaCases } from "../fixtures/json-schemas.ts";
import { alternativesChain, ambiguousSpaces, doublingGrammar, negatedClasses } from "../grammar/hostile-schemas.ts";
import { generatedModel } from "../helpers/models.ts";

let model: LlamaModel;
beforeAll(async () => {
  model = LlamaModel.load(await generatedModel("tiny-qwen2"), { vocabOnly: true });
});
afterAll(() => model?.dispose());

const tooManyStacks = "the grammar is too ambiguous: more than 4096 parse stacks";
const tooMuchWork = "the grammar is too ambiguous: one token needs more work than 256 passes over the vocabulary";

test("the messages name the shim's bounds", () => {
  expect(grammarBounds()).toEqual({ stacks: 4096, sweeps: 256 });
});

test("every fixture schema, an enum of 3,000 strings and every tool-call format (4 and 128 tools) pass the check at submit", () => {
  const tools = (n: number): ToolDefinition[] =>
    Array.from({ length: n }, (_, i) => ({ type: "function", function: { name: `tool_${i}`, parameters: { type: "object", properties: { q: { type: "string" }, n: { type: "integer" } }, required: ["q"] } } }));
  const grammars: Array<[string, string]> = [
    ...schemaCases.map(([name, schema]): [string, string] => [name, jsonSchemaToGbnf(schema)]),
    ["enum of 3,000 strings", jsonSchemaToGbnf({ type: "object", properties: { v: { enum: Array.from({ length: 3000 }, (_, i) => `Region/City_${i}`) } } })],
    ...Object.values(toolFormats).flatMap(f => [4, 128].map((n): [string, string] => [`${f.id}, ${n} tools`, f.grammar(tools(n), true)])),
  ];
  const refused = grammars.map(([name, gbnf]) => [name, grammarError(model.vocab, { gbnf })]).filter(([, why]) => why !== null);
  expect(refused).toEqual([]);
});

test("2^20 stacks before the first character: refused at submit", () => {
  expect(grammarError(model.vocab, { gbnf: alternativesChain(20) })).toBe(tooManyStacks);
  expect(grammarError(model.vocab, { gbnf: alternativesChain(20), lazy: { words: ["<tool_call>"], tokens: [] } })).toBe(tooManyStacks);
});

test("1,000 stacks on different elements that each take nearly every token: refused at submit, by the work of the first mask", () => {
  expect(grammarError(model.vocab, { gbnf: negatedClasses(1000) })).toBe(tooMuchWork);
});

test("derivations that multiply with a token's length are no work for a mask that follows sets of stacks", () => {
  const t0 = performance.now();
  expect(grammarError(model.vocab, { gbnf: ambiguousSpaces })).toBeNull();
  expect(performance.now() - t0).toBeLessThan(5000); // liveness: one mask (llama.cpp's: past 100 s)
});

test("stacks that double with each character: the token past the bound is refused, and every call after it", () => {
  const gbnf = doublingGrammar(20);
  expect(grammarError(model.vocab, { gbnf })).toBeNull();
  const { shim } = native();
  const g = shim.hearth_grammar_new(model.vocab.ptr, cString(gbnf), 0, null, 0, null, 0, null) as Pointer | null;
  if (!g) throw new Error("grammar refused");
  const [x] = model.vocab.tokenize("x", false, false);
  // 2 stacks at the start, 2^(k+1) after k characters: the 12th "x" would make 8,192.
  const answers = Array.from({ length: 14 }, () => shim.hearth_grammar_accept(g, x!));
  expect(answers).toEqual([...Array(11).fill(1), -2, -2, -2]);
  shim.hearth_grammar_free(g);
});
