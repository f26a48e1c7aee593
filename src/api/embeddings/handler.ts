// POST /v1/embeddings: inputs → one pooled, L2-normalized vector each (embedding models only).
import { EngineError } from "../../engine/types.ts";
import { embeddingInputs } from "../llama-server/prompt.ts";
import { badRequest, fromEngineError } from "../errors.ts";
import type { ModelSource } from "../model-source.ts";
import type { EmbeddingsBody } from "./schema.ts";



/** base64 of the vector's float32 little-endian bytes, as OpenAI sends it. */
function base64(v: Float32Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64");
}

export async function embeddings(body: EmbeddingsBody, models: ModelSource) {
  const model = await models.acquire(body.model);
  const width = model.info.nEmbd;
  if (width === undefined) {
    throw badRequest(
      `the model '${model.id}' cannot produce embeddings: it declares no pooling type (a generative model); use an embedding model such as a BERT/BGE GGUF`,
      { param: "model", code: "model_not_embedding" },
    );
  }
  if (body.dimensions !== undefined && body.dimensions !== width) {
    throw badRequest(`this model's embeddings have ${width} dimensions; it cannot shorten them to ${body.dimensions}`, { param: "dimensions", code: "invalid_value" });
  }
  let result;
  try {
    result = await model.engine.embed(await embeddingInputs(body.input, model.engine, model.info.nVocab, "input"));
  } catch (err) {
    if (err instanceof EngineError) throw fromEngineError(err.code, err.message, { prompt: "input" });
    throw err;
  }
  const asBase64 = body.encoding_format === "base64";
  return {
    object: "list",
    data: result.vectors.map((v, index) => ({ object: "embedding", index, embedding: asBase64 ? base64(v) : Array.from(v) })),
    model: body.model || model.id,
    usage: { prompt_tokens: result.promptTokens, total_tokens: result.promptTokens },
  };
}
