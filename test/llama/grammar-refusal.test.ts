// The shim's guarded grammar (hearth_grammar.cpp) on tiny-qwen2's vocabulary, token by token: a
// lazy grammar takes anything before its trigger, refuses — unchanged — a token that completes the
// trigger with text the grammar cannot take (llama.cpp would throw on it and abort the process),
// and constrains from the trigger on. Trigger words are plain text, regex characters included.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { ptr, type Pointer } from "bun:ffi";
import { LlamaModel } from "../../src/llama/index.ts";
import { cString } from "../../src/llama/cstring.ts";
import { native } from "../../src/llama/library.ts";
import { generatedModel } from "../helpers/models.ts";

let model: LlamaModel;
beforeAll(async () => {
  model = LlamaModel.load(await generatedModel("tiny-qwen2"), { vocabOnly: true });
});
afterAll(() => model?.dispose());

function lazyGrammar(gbnf: string, words: string[]): Pointer {
  const { shim } = native();
  const texts = words.map(cString);
  const g = shim.hearth_grammar_new(model.vocab.ptr, cString(gbnf), 1, new BigUint64Array(texts.map(w => BigInt(ptr(w)))), texts.length, null, 0, null) as Pointer | null;
  if (!g) throw new Error("grammar refused");
  return g;
}

/** Feeds each text as one token; returns what hearth_grammar_accept answered for each. */
function feed(g: Pointer, texts: string[]): number[] {
  return texts.map(text => {
    const ids = model.vocab.tokenize(text, false, false);
    if (ids.length !== 1) throw new Error(`${JSON.stringify(text)} is not one token`);
    return native().shim.hearth_grammar_accept(g, ids[0]!);
  });
}

test("a token that completes the trigger with text the grammar cannot take is refused, and the grammar is unchanged", () => {
  const g = lazyGrammar('root ::= "<tool_call>\\n{" [a-z]+ "}"', ["<tool_call>"]);
  // Free text before the trigger; ">\n\n" would replay "<tool_call>\n\n" into the grammar: refused.
  expect(feed(g, ["Hello", "<", "tool", "_call", ">\n\n"])).toEqual([1, 1, 1, 1, 0]);
  // Still awaiting, the refused token not buffered: ">\n" completes the trigger as the grammar wants.
  expect(feed(g, [">\n"])).toEqual([1]);
  // From here on the grammar constrains: a digit is refused, "{", letters and "}" are taken.
  expect(feed(g, ["7", "{", "abc", "}"])).toEqual([0, 1, 1, 1]);
  native().shim.hearth_grammar_free(g);
});

test("trigger words are matched as plain text, regex characters included", () => {
  const g = lazyGrammar('root ::= "[TOOL_CALLS]" [0-9]', ["[TOOL_CALLS]"]);
  // As a regex, [TOOL_CALLS] would be a character class that "T" matches; as text it is no trigger.
  expect(feed(g, ["T", "7"])).toEqual([1, 1]);
  // The word itself triggers, and from there the grammar constrains.
  const word = Array.from(model.vocab.tokenize("[TOOL_CALLS]", false, false));
  expect(word.map(t => native().shim.hearth_grammar_accept(g, t))).toEqual(word.map(() => 1));
  expect(feed(g, ["x", "7"])).toEqual([0, 1]);
  native().shim.hearth_grammar_free(g);
});
