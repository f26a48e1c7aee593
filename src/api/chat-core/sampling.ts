// Generation options as every dialect states them (unset = the model's default), and their one
// conversion into the engine's parameters: defaults applied, the penalty window and logit bias
// checked. Dialects name the fields their own way; the values mean the same here.
import { builtinSampling, type SamplingDefaults } from "../../chat/families.ts";
import type { GenerateRequest } from "../../engine/types.ts";
import { badRequest } from "../errors.ts";

/** Longest repeat-penalty window; -1 (llama-server's "whole context") means this one. */
export const MAX_PENALTY_WINDOW = 32768;

export interface SamplingOptions {
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  seed?: number;
  repeatPenalty?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  /** Tokens the repeat penalties look back over; -1: the longest window. */
  penaltyLastN?: number;
  /** Token id → bias, ids as the client wrote them (checked against the vocabulary here). */
  logitBias?: Record<string, number>;
}

export interface GenerationOptions {
  /** null: up to the end of the context (or the server's -n). */
  maxTokens: number | null;
  stop: string[];
  ignoreEos?: boolean;
  cachePrompt?: boolean;
  postSamplingProbs?: boolean;
  sampling: SamplingOptions;
}

/** The engine's parameters (without prompt, grammar, n and logprobs). */
export function resolveGeneration(
  options: GenerationOptions,
  nVocab: number,
  defaults: SamplingDefaults = builtinSampling,
): Omit<GenerateRequest, "prompt" | "addSpecial"> {
  const s = options.sampling;
  const logitBias: Array<[number, number]> = [];
  for (const [key, bias] of Object.entries(s.logitBias ?? {})) {
    const token = Number(key);
    if (!Number.isSafeInteger(token) || token >= nVocab) {
      throw badRequest(`logit_bias token ${key} is outside the vocabulary (0..${nVocab - 1})`, { param: "logit_bias" });
    }
    logitBias.push([token, bias]);
  }
  return {
    maxTokens: options.maxTokens,
    stop: options.stop.filter(x => x.length > 0),
    ignoreEos: options.ignoreEos ?? false,
    cachePrompt: options.cachePrompt ?? true,
    ...(options.postSamplingProbs ? { postSamplingProbs: true } : {}),
    sampling: {
      temperature: s.temperature ?? defaults.temperature,
      topK: s.topK ?? defaults.topK,
      topP: s.topP ?? defaults.topP,
      minP: s.minP ?? defaults.minP,
      seed: s.seed ?? defaults.seed ?? null,
      repeatPenalty: s.repeatPenalty ?? 1,
      presencePenalty: s.presencePenalty ?? 0,
      frequencyPenalty: s.frequencyPenalty ?? 0,
      penaltyLastN: s.penaltyLastN === -1 ? MAX_PENALTY_WINDOW : (s.penaltyLastN ?? 64),
      logitBias,
    },
  };
}
