// POST /rerank, /reranking, /v1/rerank, /v1/reranking: a reranker scores each document for a query.
// Jina's and Cohere's shape (`documents` as strings or {text}, `top_n`, `return_documents`; results
// sorted by `relevance_score` with their `index`), and Hugging Face TEI's (`texts` in, a bare list
// of {index, score, text?} out), as llama-server answers both. A model without rank pooling → 400.
import { t } from "elysia";
import { EngineError } from "../../engine/types.ts";
import { badRequest, fromEngineError } from "../errors.ts";
import type { ModelSource } from "../model-source.ts";

const document = t.Union([t.String(), t.Object({ text: t.String() })], { error: "documents are strings or {\"text\": string}" });
const documents = t.Array(document, { minItems: 1, maxItems: 4096, error: "documents must be a non-empty array of strings (or {\"text\": string})" });

export const rerankBody = t.Object({
  model: t.Optional(t.Union([t.String({ maxLength: 512 }), t.Null()])),
  query: t.String({ error: "\"query\" must be a string" }),
  documents: t.Optional(documents),
  // TEI's name for documents; the answer then takes TEI's shape.
  texts: t.Optional(documents),
  top_n: t.Optional(t.Union([t.Integer({ minimum: 0 }), t.Null()])),
  return_documents: t.Optional(t.Union([t.Boolean(), t.Null()])),
  // TEI's: each result carries its text.
  return_text: t.Optional(t.Union([t.Boolean(), t.Null()])),
});

export type RerankBody = typeof rerankBody.static;

export async function rerank(body: RerankBody, models: ModelSource) {
  const tei = body.texts !== undefined && body.documents === undefined;
  const docs = (body.documents ?? body.texts)?.map(d => (typeof d === "string" ? d : d.text));
  if (!docs?.length) throw badRequest("\"documents\" must be a non-empty string array", { param: "documents" });
  const model = await models.acquire(body.model);
  if (model.info.pooling !== "rank") {
    throw badRequest(
      `the model '${model.id}' is not a reranker: it declares no rank pooling (serve a reranker GGUF such as a BGE or Jina reranker)`,
      { param: "model", code: "model_not_reranker" },
    );
  }
  let result;
  try {
    result = await model.engine.rerank(body.query, docs);
  } catch (err) {
    if (err instanceof EngineError) throw fromEngineError(err.code, err.message, { prompt: tei ? "texts" : "documents" });
    throw err;
  }
  const order = result.scores.map((score, index) => ({ index, score })).sort((a, b) => b.score - a.score).slice(0, body.top_n ?? docs.length);
  if (tei) return order.map(r => ({ index: r.index, score: r.score, ...(body.return_text ? { text: docs[r.index] } : {}) }));
  return {
    model: body.model || model.id,
    object: "list",
    usage: { prompt_tokens: result.promptTokens, total_tokens: result.promptTokens },
    results: order.map(r => ({ index: r.index, relevance_score: r.score, ...(body.return_documents ? { document: { text: docs[r.index] } } : {}) })),
  };
}
