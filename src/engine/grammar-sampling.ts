// What a request's grammar adds to its sampler: the grammar itself, and for text-only grammars
// a ban on the control tokens the client would never see (see GrammarConstraint.textOnly).
import { GrammarStop, grammarError, tooAmbiguousMessage, type SamplingParams, type Vocab } from "../llama/index.ts";
import type { GenerateRequest } from "./types.ts";

const hiddenTokens = new WeakMap<Vocab, number[]>();

/** Control tokens that do not end the generation: their text is dropped from the output. */
function controlTokens(vocab: Vocab): number[] {
  let ids = hiddenTokens.get(vocab);
  if (!ids) {
    ids = [];
    for (let t = 0; t < vocab.nTokens; t++) if (vocab.isControl(t) && !vocab.isEog(t)) ids.push(t);
    hiddenTokens.set(vocab, ids);
  }
  return ids;
}

/** Why the request's grammar cannot be used, or null (also null when it has none). */
export function requestGrammarError(vocab: Vocab, request: GenerateRequest): string | null {
  return request.grammar ? grammarError(vocab, request.grammar) : null;
}

/** The sampler parameters a grammar contributes; `logitBias` is extended in place with its bans. */
export function grammarSampling(vocab: Vocab, request: GenerateRequest, logitBias: Map<number, number>): Pick<SamplingParams, "grammar" | "eogBanned"> {
  const grammar = request.grammar;
  if (!grammar) return {};
  if (grammar.textOnly) {
    // Control tokens the chat layer reads as text and the grammar itself writes (gpt-oss's channel
    // markup around a JSON answer) stay allowed.
    const placed = (request.preserveTokens ?? []).filter(text => grammar.gbnf.includes(text));
    const kept = new Set(placed.map(text => vocab.tokenize(text, false, true)).filter(t => t.length === 1).map(t => t[0]!));
    for (const t of controlTokens(vocab)) if (!kept.has(t)) logitBias.set(t, -Infinity);
  }
  return { grammar: { gbnf: grammar.gbnf, lazy: grammar.lazy }, eogBanned: request.ignoreEos };
}

/** A negative sample result: how the generation ends. */
export function grammarStopOutcome(code: number): { finish: "stop" } | { error: string; code: "invalid_grammar" | "engine_failure" } {
  if (code === GrammarStop.complete) return { finish: "stop" };
  if (code === GrammarStop.deadEnd) return { error: "the grammar allows no token of this model's vocabulary here", code: "invalid_grammar" };
  if (code === GrammarStop.tooManyStacks) return { error: tooAmbiguousMessage("stacks"), code: "invalid_grammar" };
  if (code === GrammarStop.tooManySteps) return { error: tooAmbiguousMessage("steps"), code: "invalid_grammar" };
  if (code === GrammarStop.failed) return { error: "the grammar failed on a token it had allowed", code: "engine_failure" };
  return { error: "no logits to sample from", code: "engine_failure" };
}
