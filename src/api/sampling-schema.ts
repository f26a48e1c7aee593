// Request fields shared by /v1/chat/completions and /v1/completions, and their conversion into
// the engine's generation parameters (done once, here).
import { t } from "elysia";
import type { GenerateRequest } from "../engine/types.ts";
import { builtinSampling, type SamplingDefaults } from "../chat/families.ts";
import { ApiError } from "./errors.ts";
import { requestGrammar, structuredOutputFields } from "./response-format.ts";

/** Longest repeat-penalty window; -1 (llama-server's "whole context") means this one. */
const MAX_PENALTY_WINDOW = 32768;

const nullable = <T extends Parameters<typeof t.Optional>[0]>(schema: T) => t.Optional(t.Union([schema, t.Null()]));

export const samplingFields = {
  // Omitted, null or empty: the default model (src/models/model-names.ts), as llama-server ignores it.
  model: nullable(t.String({ maxLength: 512 })),
  max_tokens: nullable(t.Integer({ minimum: 1 })),
  max_completion_tokens: nullable(t.Integer({ minimum: 1 })),
  temperature: nullable(t.Number({ minimum: 0, maximum: 2 })),
  top_p: nullable(t.Number({ minimum: 0, maximum: 1 })),
  n: nullable(t.Integer({ minimum: 1, maximum: 128 })),
  stream: nullable(t.Boolean()),
  stream_options: nullable(t.Object({ include_usage: t.Optional(t.Boolean()) })),
  stop: nullable(t.Union([t.String({ maxLength: 256 }), t.Array(t.String({ maxLength: 256 }), { maxItems: 4 })])),
  presence_penalty: nullable(t.Number({ minimum: -2, maximum: 2 })),
  frequency_penalty: nullable(t.Number({ minimum: -2, maximum: 2 })),
  logit_bias: nullable(t.Record(t.String({ pattern: "^[0-9]+$" }), t.Number({ minimum: -100, maximum: 100 }))),
  seed: nullable(t.Integer()),
  user: nullable(t.String({ maxLength: 512 })),
  // llama-server extensions that benchmark scripts rely on
  top_k: nullable(t.Integer({ minimum: 0 })),
  min_p: nullable(t.Number({ minimum: 0, maximum: 1 })),
  // Not below 0.01: a penalty near 0 divides logits to infinity (see src/llama/sampler.ts).
  repeat_penalty: nullable(t.Number({ minimum: 0.01, maximum: 10 })),
  repeat_last_n: nullable(t.Integer({ minimum: -1, maximum: MAX_PENALTY_WINDOW })),
  ignore_eos: nullable(t.Boolean()),
  cache_prompt: nullable(t.Boolean()),
  // llama-server's: log-probabilities from the distribution sampled from, not the model's.
  post_sampling_probs: nullable(t.Boolean()),
  ...structuredOutputFields,
};

type Fields = { [K in keyof typeof samplingFields]?: (typeof samplingFields)[K]["static"] };

export type Defaults = SamplingDefaults;

/** Resolves aliases and defaults into the engine's parameters (without the prompt). */
export function toGenerateParams(body: Fields, nVocab: number, defaults: Defaults = builtinSampling): Omit<GenerateRequest, "prompt" | "addSpecial"> {
  const stop = body.stop == null ? [] : typeof body.stop === "string" ? [body.stop] : body.stop;
  const logitBias: Array<[number, number]> = [];
  for (const [key, bias] of Object.entries(body.logit_bias ?? {})) {
    const token = Number(key);
    if (!Number.isSafeInteger(token) || token >= nVocab) {
      throw new ApiError(400, `logit_bias token ${key} is outside the vocabulary (0..${nVocab - 1})`, "invalid_request_error", "logit_bias");
    }
    logitBias.push([token, bias]);
  }
  const grammar = requestGrammar(body);
  return {
    ...(grammar ? { grammar } : {}),
    maxTokens: body.max_completion_tokens ?? body.max_tokens ?? null,
    stop: stop.filter(s => s.length > 0),
    ignoreEos: body.ignore_eos ?? false,
    cachePrompt: body.cache_prompt ?? true,
    ...(body.post_sampling_probs ? { postSamplingProbs: true } : {}),
    sampling: {
      temperature: body.temperature ?? defaults.temperature,
      topK: body.top_k ?? defaults.topK,
      topP: body.top_p ?? defaults.topP,
      minP: body.min_p ?? defaults.minP,
      seed: body.seed ?? null,
      repeatPenalty: body.repeat_penalty ?? 1,
      presencePenalty: body.presence_penalty ?? 0,
      frequencyPenalty: body.frequency_penalty ?? 0,
      penaltyLastN: body.repeat_last_n === -1 ? MAX_PENALTY_WINDOW : (body.repeat_last_n ?? 64),
      logitBias,
    },
  };
}
