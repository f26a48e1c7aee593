// A per-sequence llama.cpp sampler chain, in the order llama.cpp's common sampler builds it:
// logit bias → penalties → top-k → top-p → min-p → temperature → dist (or greedy).
// A grammar, when given, stays outside the chain as in common/sampling.cpp: the chain picks, and
// only a pick the grammar rejects is re-drawn from grammar-masked logits (hearth_sample_grammar).
import { ptr, type Pointer } from "bun:ffi";
import { cString } from "./cstring.ts";
import { grammarLimitError } from "./grammar-limits.ts";
import { layout } from "./layout.ts";
import { native } from "./library.ts";
import type { Vocab } from "./vocab.ts";

/** Below these, float32 logits overflow (see the sampler chain). */
export const MIN_TEMPERATURE = 1e-4;
export const MIN_REPEAT_PENALTY = 0.01;
/** Longest penalty window (the API refuses longer ones; this guards other callers). */
export const MAX_PENALTY_WINDOW = 32768;

export interface SamplingParams {
  /** 0 = greedy. */
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
  seed: number;
  repeatPenalty: number;
  presencePenalty: number;
  frequencyPenalty: number;
  /** How many recent tokens the penalties look at. */
  penaltyLastN: number;
  logitBias?: ReadonlyMap<number, number>;
  /** GBNF grammar constraining the output. */
  grammar?: GrammarParams;
  /** End-of-generation tokens are banned by logitBias (ignore_eos): a complete grammar then ends the output. */
  eogBanned?: boolean;
  /** Sample through the shim, keeping the candidates for sampledProbs() (post-sampling probabilities). */
  keepCandidates?: boolean;
}

export interface GrammarParams {
  /** GBNF text; the start rule is `root`. */
  gbnf: string;
  /**
   * Lazy grammar: the output is free until one of these words (or tokens) appears; from there on
   * the grammar constrains it, starting with the trigger itself (for tool calls).
   */
  lazy?: { words: string[]; tokens: number[] };
}

/** Outcomes of a grammar-constrained sample that produced no token (hearth_sample_grammar). */
export const GrammarStop = {
  /** The grammar is complete and end-of-generation is banned: the output is finished. */
  complete: -1,
  /** No token of this vocabulary can continue the grammar. */
  deadEnd: -2,
  /** No logits at that batch index. */
  noLogits: -3,
  /** The grammar failed (out of memory, an inconsistency): it cannot go on. */
  failed: -4,
  /** The grammar is too ambiguous: it needs more parse stacks at once than grammarBounds().stacks. */
  tooManyStacks: -5,
  /** The grammar is too ambiguous: one token needs more work than grammarBounds().sweeps passes over the vocabulary. */
  tooManySteps: -6,
} as const;

/** The shim's codes for a grammar it cannot use (hearth_grammar.h). */
const GRAMMAR_TOO_MANY_STACKS = -2;
const GRAMMAR_TOO_MANY_STEPS = -3;
const GRAMMAR_INVALID = -4;

/**
 * The bounds on a grammar's work (lib/shim/hearth_grammar.h): parse stacks at once, and the work
 * of one token in passes over the vocabulary.
 */
export function grammarBounds(): { stacks: number; sweeps: number } {
  const { shim } = native();
  return { stacks: shim.hearth_grammar_max_stacks() as number, sweeps: shim.hearth_grammar_max_sweeps() as number };
}

/** Why a grammar that passed a bound cannot go on. */
export function tooAmbiguousMessage(bound: "stacks" | "steps"): string {
  const { stacks, sweeps } = grammarBounds();
  return bound === "stacks"
    ? `the grammar is too ambiguous: more than ${stacks} parse stacks`
    : `the grammar is too ambiguous: one token needs more work than ${sweeps} passes over the vocabulary`;
}

export const defaultSampling: SamplingParams = {
  temperature: 0.8,
  topK: 40,
  topP: 0.95,
  minP: 0.05,
  seed: 0xffffffff,
  repeatPenalty: 1,
  presencePenalty: 0,
  frequencyPenalty: 0,
  penaltyLastN: 64,
};

/**
 * The shim's grammar (hearth_grammar.cpp: llama.cpp's parser, a bounded port of its stepping, calls
 * that never throw), or why there is none. Trigger words are plain text.
 */
function initGrammar(vocab: Vocab, grammar: GrammarParams): Pointer | string {
  const { shim } = native();
  const words = (grammar.lazy?.words ?? []).map(w => cString(w));
  const wordPtrs = new BigUint64Array(words.map(w => BigInt(ptr(w))));
  const tokenIds = new Int32Array(grammar.lazy?.tokens ?? []);
  const status = new Int32Array(1);
  const g = shim.hearth_grammar_new(
    vocab.ptr,
    cString(grammar.gbnf),
    grammar.lazy ? 1 : 0,
    words.length > 0 ? wordPtrs : null,
    words.length,
    tokenIds.length > 0 ? tokenIds : null,
    tokenIds.length,
    status,
  ) as Pointer | null;
  void words; // the word buffers must outlive the call above
  return g ?? grammarRefusal(status[0]!);
}

/** Why the shim refused or stopped a grammar, from its code (hearth_grammar.h). */
function grammarRefusal(code: number): string {
  if (code === GRAMMAR_INVALID) return "llama.cpp cannot parse the grammar (a syntax error, an undefined rule, left recursion, or no root rule)";
  if (code === GRAMMAR_TOO_MANY_STACKS) return tooAmbiguousMessage("stacks");
  if (code === GRAMMAR_TOO_MANY_STEPS) return tooAmbiguousMessage("steps");
  return "the grammar could not be built (out of memory)";
}

/**
 * Why the grammar cannot be used, or null when it can: it parses (every rule defined, no left
 * recursion, a `root` rule), and neither its first stacks nor a mask of the whole vocabulary from
 * its start pass a bound (a grammar can still pass one later: the sample then ends the output).
 * Never lets llama.cpp's parser see an unsafe text.
 */
export function grammarError(vocab: Vocab, grammar: GrammarParams): string | null {
  const limit = grammarLimitError(grammar.gbnf);
  if (limit) return limit;
  const g = initGrammar(vocab, grammar);
  if (typeof g === "string") return g;
  const { shim } = native();
  const probed = shim.hearth_grammar_probe(g) as number;
  shim.hearth_grammar_free(g);
  return probed < 0 ? grammarRefusal(probed) : null;
}

export class Sampler {
  private handle: Pointer | null;
  /** The grammar (a hearth_grammar of the shim), owned here and kept out of the chain. */
  private grammar: Pointer | null = null;
  private readonly nVocab: number;
  private readonly eogBanned: boolean;
  private readonly keepCandidates: boolean;
  /**
   * Set when the chain is only logit bias + greedy: the shim's argmax picks the same token without
   * building the n_vocab candidates array (hearth_sample_greedy). The biases, as parallel arrays
   * in ascending token order (null when there are none).
   */
  private readonly greedy: { tokens: Int32Array | null; values: Float32Array | null } | null = null;

  constructor(vocab: Vocab, params: SamplingParams) {
    const { llama, shim } = native();
    this.nVocab = vocab.nTokens;
    this.eogBanned = params.eogBanned ?? false;
    this.keepCandidates = params.keepCandidates ?? false;
    const chain = shim.hearth_sampler_chain_new() as Pointer;
    const add = (s: Pointer | bigint | null) => {
      if (!s) throw new Error("sampler construction failed");
      llama.llama_sampler_chain_add(chain, s as Pointer);
    };
    try {
      if (params.grammar) {
        const limit = grammarLimitError(params.grammar.gbnf);
        if (limit) throw new SyntaxError(limit);
        const g = initGrammar(vocab, params.grammar);
        if (typeof g === "string") throw new SyntaxError(g);
        this.grammar = g;
      }
      if (params.logitBias && params.logitBias.size > 0) {
        const stride = layout["llama_logit_bias.size"];
        const buf = new ArrayBuffer(stride * params.logitBias.size);
        const view = new DataView(buf);
        let i = 0;
        for (const [token, bias] of params.logitBias) {
          view.setInt32(i * stride + layout["llama_logit_bias.token"], token, true);
          view.setFloat32(i * stride + layout["llama_logit_bias.bias"], bias, true);
          i++;
        }
        add(llama.llama_sampler_init_logit_bias(vocab.nTokens, params.logitBias.size, new Uint8Array(buf)));
      }
      // Logits are float32. A repeat penalty or temperature that rounds to 0 (or nearly) divides
      // them to inf, softmax makes NaN of that, and llama.cpp's sort on NaN is undefined
      // behaviour: seen here as a runner growing past 20 GB. Such a temperature is greedy in all
      // but name; the API refuses such penalties, and this floor guards every other caller.
      const repeatPenalty = Math.max(params.repeatPenalty, MIN_REPEAT_PENALTY);
      const penalized = repeatPenalty !== 1 || params.presencePenalty !== 0 || params.frequencyPenalty !== 0;
      if (penalized) {
        // The window is a ring buffer llama.cpp allocates at once: keep it sane.
        const window = Math.min(params.penaltyLastN, MAX_PENALTY_WINDOW);
        add(llama.llama_sampler_init_penalties(vocab.nTokens, window, repeatPenalty, params.frequencyPenalty, params.presencePenalty));
      }
      if (params.temperature < MIN_TEMPERATURE) {
        add(llama.llama_sampler_init_greedy());
        if (!penalized && !this.grammar && !this.keepCandidates) {
          // llama.cpp's logit bias ignores ids outside the vocabulary; so does this.
          const bias = [...(params.logitBias ?? [])].filter(([t]) => t >= 0 && t < vocab.nTokens).sort(([a], [b]) => a - b);
          this.greedy = bias.length
            ? { tokens: Int32Array.from(bias, ([t]) => t), values: Float32Array.from(bias, ([, b]) => b) }
            : { tokens: null, values: null };
        }
      } else {
        // A k at or past the vocabulary restricts nothing (and must not wrap around as an int32).
        if (params.topK > 0 && params.topK < vocab.nTokens) add(llama.llama_sampler_init_top_k(params.topK));
        if (params.topP < 1) add(llama.llama_sampler_init_top_p(params.topP, 1));
        if (params.minP > 0) add(llama.llama_sampler_init_min_p(params.minP, 1));
        add(llama.llama_sampler_init_temp(params.temperature));
        add(llama.llama_sampler_init_dist(params.seed >>> 0));
      }
    } catch (err) {
      llama.llama_sampler_free(chain);
      if (this.grammar) shim.hearth_grammar_free(this.grammar);
      this.grammar = null;
      throw err;
    }
    this.handle = chain;
  }

  get ptr(): Pointer {
    if (!this.handle) throw new Error("sampler used after dispose()");
    return this.handle;
  }

  /**
   * Samples from the logits of batch index i of ctx, and accepts the token into the chain's (and
   * grammar's) state. With a grammar the result may instead be a GrammarStop (negative).
   */
  sample(ctx: Pointer, i: number): number {
    const greedy = this.greedy;
    if (greedy) {
      // Neither logit bias nor greedy keeps state: there is nothing to accept.
      const token = native().shim.hearth_sample_greedy(ctx, i, this.nVocab, greedy.tokens, greedy.values, greedy.tokens?.length ?? 0);
      if (token < 0) throw new RangeError(`no logits for batch index ${i}`);
      return token;
    }
    // llama_sampler_sample also calls accept on the chain.
    if (!this.grammar && !this.keepCandidates) return native().llama.llama_sampler_sample(this.ptr, ctx, i);
    if (!this.grammar) return native().shim.hearth_sample(this.ptr, ctx, i, this.nVocab);
    return native().shim.hearth_sample_grammar(this.ptr, this.grammar, ctx, i, this.nVocab, this.eogBanned ? 1 : 0);
  }

  /**
   * Takes `token` as if sampled (a token forced into the output, e.g. the end of a thinking budget):
   * the grammar steps over it and the chain's state (penalties) sees it. False, with nothing
   * changed, when the grammar does not allow it; throws when the grammar failed.
   */
  accept(token: number): boolean {
    if (this.grammar) {
      const taken = native().shim.hearth_grammar_accept(this.grammar, token) as number;
      if (taken < 0) throw new Error(`the grammar failed (code ${taken})`);
      if (taken === 0) return false;
    }
    // The fused greedy pick keeps no state (see sample()).
    if (!this.greedy) native().llama.llama_sampler_accept(this.ptr, token);
    return true;
  }

  private static probIds = new Int32Array(32);
  private static probValues = new Float32Array(32);
  private static tokenProb = new Float32Array(1);

  /**
   * After sample() (with keepCandidates or a grammar): the probability `token` had in the
   * distribution it was drawn from (after the whole chain), and the k most probable tokens there.
   */
  sampledProbs(token: number, k: number): { prob: number; top: Array<[number, number]> } {
    if (Sampler.probIds.length < k) [Sampler.probIds, Sampler.probValues] = [new Int32Array(k), new Float32Array(k)];
    const n = native().shim.hearth_sampled_probs(token, k, Sampler.probIds, Sampler.probValues, Sampler.tokenProb);
    if (n < 0) throw new Error("sampledProbs() before a sample that kept its candidates");
    const top: Array<[number, number]> = [];
    for (let j = 0; j < n; j++) top.push([Sampler.probIds[j]!, Sampler.probValues[j]!]);
    return { prob: Sampler.tokenProb[0]!, top };
  }

  dispose(): void {
    if (!this.handle) return;
    native().llama.llama_sampler_free(this.handle);
    if (this.grammar) native().shim.hearth_grammar_free(this.grammar);
    this.handle = null;
    this.grammar = null;
  }
}
