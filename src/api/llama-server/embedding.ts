// POST /embedding and the native /embeddings (llama-server's own shape, not OpenAI's): `content`
// (or `input`) → [{index, embedding: [vector]}], the vector scaled as `embd_normalize` asks:
// -1 none, 0 max-abs to int16 range, 1 taxicab, 2 Euclidean (the default), p > 2 the p-norm.
import { t } from "elysia";
import { EngineError } from "../../engine/types.ts";
import { badRequest, fromEngineError } from "../errors.ts";
import type { ModelSource } from "../model-source.ts";
import { embeddingInputs } from "./prompt.ts";

const mixed = t.Array(t.Union([t.String(), t.Integer({ minimum: 0 })]), { minItems: 1, maxItems: 65536 });
// Text, ids, ids and text mixed (one input), or a list of those.
const inputs = t.Union([t.String(), mixed, t.Array(t.Union([t.String(), mixed]), { minItems: 1, maxItems: 2048 })]);

export const embeddingBody = t.Object({
  model: t.Optional(t.Union([t.String({ maxLength: 512 }), t.Null()])),
  content: t.Optional(inputs),
  input: t.Optional(inputs),
  embd_normalize: t.Optional(t.Integer({ minimum: -1, maximum: 64 })),
});

export type EmbeddingBody = typeof embeddingBody.static;

/** llama.cpp's common_embd_normalize, in place. */
export function scale(v: Float32Array, norm: number): Float32Array {
  if (norm < 0) return v;
  let sum = 0;
  if (norm === 0) {
    for (const x of v) sum = Math.max(sum, Math.abs(x));
    sum /= 32760; // int16's range
  } else if (norm === 2) {
    for (const x of v) sum += x * x;
    sum = Math.sqrt(sum);
  } else {
    for (const x of v) sum += Math.abs(x) ** norm;
    sum = sum ** (1 / norm);
  }
  const k = sum > 0 ? 1 / sum : 0;
  for (let i = 0; i < v.length; i++) v[i] = v[i]! * k;
  return v;
}

export async function embedding(body: EmbeddingBody, models: ModelSource) {
  const given = body.content ?? body.input;
  if (given === undefined) throw badRequest("\"content\" (or \"input\") is required", { param: "content" });
  const model = await models.acquire(body.model);
  if (model.info.nEmbd === undefined || model.info.pooling === "rank") {
    throw badRequest(`the model '${model.id}' cannot produce embeddings (it declares no embedding pooling type)`, { param: "model", code: "model_not_embedding" });
  }
  let result;
  try {
    const list = await embeddingInputs(given, model.engine, model.info.nVocab, body.content !== undefined ? "content" : "input");
    result = await model.engine.embed(list, { normalize: false });
  } catch (err) {
    if (err instanceof EngineError) throw fromEngineError(err.code, err.message, { prompt: "content" });
    throw err;
  }
  const norm = body.embd_normalize ?? 2;
  return result.vectors.map((v, index) => ({ index, embedding: [Array.from(scale(v, norm))] }));
}
