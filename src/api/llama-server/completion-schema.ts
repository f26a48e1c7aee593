// Wire schema of llama-server's POST /completion (and its native /completions and /infill): the only
// definition of the request type. `prompt` is checked by prompt.ts (its forms do not fit a schema
// that gives useful errors); sampling fields keep llama-server's names.
import { t } from "elysia";
import { MAX_PENALTY_WINDOW } from "../chat-core/sampling.ts";
import { structuredOutputFields } from "../response-format.ts";

const nullable = <T extends Parameters<typeof t.Optional>[0]>(schema: T) => t.Optional(t.Union([schema, t.Null()]));

/** A logit bias entry's token: an id, or text whose tokens all get the bias. */
const biasKey = t.Union([t.Integer({ minimum: 0 }), t.String({ maxLength: 256 })]);
/** A bias, or false: the token is never sampled. */
const biasValue = t.Union([t.Number({ minimum: -1000, maximum: 1000 }), t.Boolean()]);

export const nativeGenerationFields = {
  // Omitted, null or empty: the default model (llama-server ignores it).
  model: nullable(t.String({ maxLength: 512 })),
  // -1 (or omitted): until the end of generation or the server's -n.
  n_predict: nullable(t.Integer({ minimum: -1 })),
  max_tokens: nullable(t.Integer({ minimum: -1 })),
  temperature: nullable(t.Number({ minimum: 0, maximum: 100 })),
  top_k: nullable(t.Integer({ minimum: 0 })),
  top_p: nullable(t.Number({ minimum: 0, maximum: 1 })),
  min_p: nullable(t.Number({ minimum: 0, maximum: 1 })),
  // Not below 0.01: a penalty near 0 divides logits to infinity (see src/llama/sampler.ts).
  repeat_penalty: nullable(t.Number({ minimum: 0.01, maximum: 10 })),
  repeat_last_n: nullable(t.Integer({ minimum: -1, maximum: MAX_PENALTY_WINDOW })),
  presence_penalty: nullable(t.Number({ minimum: -2, maximum: 2 })),
  frequency_penalty: nullable(t.Number({ minimum: -2, maximum: 2 })),
  // -1 or 4294967295 (LLAMA_DEFAULT_SEED): a random seed.
  seed: nullable(t.Integer({ minimum: -1, maximum: 4294967295 })),
  stop: nullable(t.Array(t.String({ maxLength: 256 }), { maxItems: 16 })),
  stream: nullable(t.Boolean()),
  // Top alternatives reported per token (its completion_probabilities).
  n_probs: nullable(t.Integer({ minimum: 0, maximum: 20 })),
  post_sampling_probs: nullable(t.Boolean()),
  return_tokens: nullable(t.Boolean()),
  cache_prompt: nullable(t.Boolean()),
  // Hearth places requests on slots itself: any slot id is accepted, -1 is "any".
  id_slot: nullable(t.Integer({ minimum: -1 })),
  samplers: nullable(t.Union([t.Array(t.String({ maxLength: 32 }), { maxItems: 16 }), t.String({ maxLength: 64 })])),
  ignore_eos: nullable(t.Boolean()),
  logit_bias: nullable(
    t.Union([
      t.Array(t.Array(t.Union([biasKey, biasValue]), { minItems: 2, maxItems: 2 }), { maxItems: 4096 }),
      t.Record(t.String({ maxLength: 256 }), biasValue),
    ]),
  ),
  // Keys of the answer to keep ("generation_settings/n_predict" reaches into an object).
  response_fields: nullable(t.Array(t.String({ maxLength: 128 }), { maxItems: 64 })),
  // Samplers Hearth does not have: accepted at their neutral values only.
  typical_p: nullable(t.Number({ minimum: 0, maximum: 1 })),
  mirostat: nullable(t.Integer({ minimum: 0, maximum: 2 })),
  dry_multiplier: nullable(t.Number({ minimum: 0 })),
  xtc_probability: nullable(t.Number({ minimum: 0, maximum: 1 })),
  dynatemp_range: nullable(t.Number({ minimum: 0 })),
  top_n_sigma: nullable(t.Number()),
  n_keep: nullable(t.Integer({ minimum: -1 })),
  ...structuredOutputFields,
};

export const completionBody = t.Object({
  ...nativeGenerationFields,
  prompt: t.Optional(t.Unknown({ description: "a string, token ids, text and ids mixed, {prompt_string}, or a list of those" })),
});

export type NativeGenerationFields = { [K in keyof typeof nativeGenerationFields]?: (typeof nativeGenerationFields)[K]["static"] };
export type CompletionBody = typeof completionBody.static;
