// Wire schema of POST /v1/completions (legacy text completions).
import { t } from "elysia";
import { samplingFields } from "../sampling-schema.ts";

const tokenIds = t.Array(t.Integer({ minimum: 0 }), { minItems: 1 });

export const completionBody = t.Object({
  ...samplingFields,
  // A string, several strings (one choice each), token ids, or several token-id arrays.
  prompt: t.Union([
    t.String(),
    t.Array(t.String(), { minItems: 1, maxItems: 128 }),
    tokenIds,
    t.Array(tokenIds, { minItems: 1, maxItems: 128 }),
  ]),
  echo: t.Optional(t.Union([t.Boolean(), t.Null()])),
  suffix: t.Optional(t.Union([t.String(), t.Null()])),
  best_of: t.Optional(t.Union([t.Integer({ minimum: 1, maximum: 1 }), t.Null()])),
  // Top alternatives per token (OpenAI allows 0..5; up to 20 here, as chat's top_logprobs).
  logprobs: t.Optional(t.Union([t.Integer({ minimum: 0, maximum: 20 }), t.Null()])),
});

export type CompletionBody = typeof completionBody.static;
