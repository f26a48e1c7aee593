// Wire schema of POST /v1/embeddings (OpenAI's shape): the only definition of the request type.
import { t } from "elysia";

const tokenIds = t.Array(t.Integer({ minimum: 0 }), { minItems: 1, maxItems: 65536 });
const mixed = t.Array(t.Union([t.String(), t.Integer({ minimum: 0 })]), { minItems: 1, maxItems: 65536 });

export const embeddingsBody = t.Object({
  // Omitted, null or empty: the default model.
  model: t.Optional(t.Union([t.String({ maxLength: 512 }), t.Null()])),
  // A string, several strings, token ids, or several token-id arrays: one vector each. As in
  // llama-server, an array may also mix text and ids (one input), and a list may mix those forms.
  input: t.Union([
    t.String(),
    t.Array(t.String(), { minItems: 1, maxItems: 2048 }),
    tokenIds,
    t.Array(tokenIds, { minItems: 1, maxItems: 2048 }),
    mixed,
    t.Array(t.Union([t.String(), mixed]), { minItems: 1, maxItems: 2048 }),
  ]),
  encoding_format: t.Optional(t.Union([t.Literal("float"), t.Literal("base64")])),
  dimensions: t.Optional(t.Integer({ minimum: 1 })),
  user: t.Optional(t.String({ maxLength: 512 })),
});

export type EmbeddingsBody = typeof embeddingsBody.static;
