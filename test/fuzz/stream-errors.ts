// The one error a fuzzed stream may end with after it began: the client's grammar is too
// ambiguous. The check at submit masks the first token only (lib/shim/hearth_grammar.h); a
// grammar whose later tokens need more than the bound's work (an anyOf of thousands of constants)
// is refused when it gets there, by then inside a 200 stream. That is the client's input,
// reported in the dialect's error form, the server unharmed (test/server/ambiguous-grammar-streams.test.ts).
// Every other error after a stream began is a failure.

/** Whether an error message is the grammar-too-ambiguous refusal (src/llama/sampler.ts tooAmbiguousMessage). */
export function tooAmbiguous(message: unknown): boolean {
  return typeof message === "string" && /^the grammar is too ambiguous: /.test(message);
}
