// What one choice of a request samples with: its llama.cpp sampler chain (choice i of a seeded
// request uses seed + i, so n choices are as reproducible as n separate requests) and the
// control tokens that end its turn or must be kept as text.
import { Sampler, type Vocab } from "../llama/index.ts";
import { grammarSampling } from "./grammar-sampling.ts";
import { ThinkingBudget, ThinkingSampler, type ChoiceSampler } from "./thinking-budget.ts";
import type { GenerateRequest } from "./types.ts";

/** The choice's sampler, which also follows (and budgets) a reasoning model's thinking when the request says how. */
export function choiceSampler(vocab: Vocab, request: GenerateRequest, eogTokens: readonly number[], index: number): ChoiceSampler {
  const sampler = chainSampler(vocab, request, eogTokens, index);
  return request.thinking ? new ThinkingSampler(sampler, new ThinkingBudget(vocab, request.thinking)) : sampler;
}

function chainSampler(vocab: Vocab, request: GenerateRequest, eogTokens: readonly number[], index: number): Sampler {
  const s = request.sampling;
  const logitBias = new Map(s.logitBias);
  if (request.ignoreEos) for (const t of eogTokens) logitBias.set(t, -Infinity);
  return new Sampler(vocab, {
    temperature: s.temperature,
    topK: s.topK,
    topP: s.topP,
    minP: s.minP,
    seed: s.seed === null ? Math.floor(Math.random() * 0xffffffff) : s.seed + index,
    repeatPenalty: s.repeatPenalty,
    presencePenalty: s.presencePenalty,
    frequencyPenalty: s.frequencyPenalty,
    penaltyLastN: s.penaltyLastN,
    ...grammarSampling(vocab, request, logitBias),
    logitBias,
    keepCandidates: request.logprobs !== undefined && request.postSamplingProbs === true,
  });
}

/**
 * The ids of texts that are single control tokens of this vocabulary: a family's stop tokens, or
 * the control tokens whose text a tool-call or reasoning parser must see (`<|python_tag|>`).
 */
export function controlTokenIds(vocab: Vocab, texts: readonly string[] | undefined): Set<number> {
  const ids = new Set<number>();
  for (const text of texts ?? []) {
    const t = vocab.tokenize(text, false, true);
    if (t.length === 1 && vocab.isControl(t[0]!)) ids.add(t[0]!);
  }
  return ids;
}
