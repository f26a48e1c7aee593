// POST /api/embed (inputs → `embeddings`) and the older POST /api/embeddings (one prompt →
// `embedding`), on embedding models, through the engine's pooled, L2-normalized vectors. Inputs
// past the context are refused (400), not truncated: Hearth never cuts input silently.
import { EngineError } from "../../engine/types.ts";
import { badRequest, fromEngineError } from "../errors.ts";
import type { ModelSource } from "../model-source.ts";
import { requestModel, settling } from "./lifecycle.ts";
import { ollamaName } from "./names.ts";
import type { EmbedBody, EmbeddingsBody } from "./schema.ts";
import { lifecycleDone, RequestClock } from "./timing.ts";

async function vectors(models: ModelSource, body: { model?: string; keep_alive?: EmbedBody["keep_alive"]; dimensions?: number }, inputs: string[], clock: RequestClock) {
  const { model, after } = await requestModel(models, body.model, body.keep_alive, clock);
  return settling(after, async () => {
    if (model.info.nEmbd === undefined) {
      throw badRequest(`"${body.model || model.id}" does not support embeddings: it is a generative model (use an embedding model such as a BERT/BGE GGUF)`, { param: "model" });
    }
    if (body.dimensions !== undefined && body.dimensions !== model.info.nEmbd) {
      throw badRequest(`this model's embeddings have ${model.info.nEmbd} dimensions; it cannot shorten them to ${body.dimensions}`, { param: "dimensions" });
    }
    let result;
    try {
      result = inputs.length > 0 ? await model.engine.embed(inputs) : { vectors: [], promptTokens: 0 };
    } catch (err) {
      throw err instanceof EngineError ? fromEngineError(err.code, err.message, { prompt: "input" }) : err;
    }
    await after();
    return { name: body.model || ollamaName(model.id), ...result };
  });
}

export async function embed(body: EmbedBody, models: ModelSource) {
  const clock = new RequestClock();
  const inputs = typeof body.input === "string" ? [body.input] : body.input;
  const r = await vectors(models, body, inputs, clock);
  const { done: _, done_reason: __, ...durations } = lifecycleDone("load", clock);
  return { model: r.name, embeddings: r.vectors.map(v => Array.from(v)), ...durations, prompt_eval_count: r.promptTokens };
}

export async function embeddings(body: EmbeddingsBody, models: ModelSource) {
  const r = await vectors(models, body, [body.prompt], new RequestClock());
  return { embedding: Array.from(r.vectors[0]!) };
}
