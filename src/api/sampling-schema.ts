// Request fields shared by /v1/chat/completions and /v1/completions, and their conversion into
// the engine's generation parameters (done once, here).
import { t } from "elysia";
import type { GenerateRequest } from "../engine/types.ts";
import type { SamplingDefaults } from "../chat/families.ts";
import { MAX_PENALTY_WINDOW, resolveGeneration, type GenerationOptions } from "./chat-core/sampling.ts";
import { requestGrammar, structuredOutputFields } from "./response-format.ts";

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

const given = <T>(v: T | null | undefined): T | undefined => v ?? undefined;

/** The body's generation fields in the chat core's terms (aliases resolved here, once). */
export function generationOptions(body: Fields): GenerationOptions {
  const stop = body.stop == null ? [] : typeof body.stop === "string" ? [body.stop] : body.stop;
  return {
    maxTokens: body.max_completion_tokens ?? body.max_tokens ?? null,
    stop,
    ignoreEos: given(body.ignore_eos),
    cachePrompt: given(body.cache_prompt),
    postSamplingProbs: given(body.post_sampling_probs),
    sampling: {
      temperature: given(body.temperature),
      topK: given(body.top_k),
      topP: given(body.top_p),
      minP: given(body.min_p),
      seed: given(body.seed),
      repeatPenalty: given(body.repeat_penalty),
      presencePenalty: given(body.presence_penalty),
      frequencyPenalty: given(body.frequency_penalty),
      penaltyLastN: given(body.repeat_last_n),
      logitBias: given(body.logit_bias),
    },
  };
}

/** Resolves aliases and defaults into the engine's parameters (without the prompt). */
export function toGenerateParams(body: Fields, nVocab: number, defaults?: Defaults): Omit<GenerateRequest, "prompt" | "addSpecial"> {
  const grammar = requestGrammar(body);
  return { ...(grammar ? { grammar } : {}), ...resolveGeneration(generationOptions(body), nVocab, defaults) };
}
