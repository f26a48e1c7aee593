// llama-server's native routes, registered as one Elysia plugin: /completion (and the native,
// un-prefixed /completions), /infill, /props, /slots, /rerank and its aliases, /embedding (and the
// native /embeddings). Errors on them take llama-server's envelope (errors.ts, chosen in app.ts).
// The OpenAI routes it answers without /v1 (/chat/completions, /models, /v1/health) are in app.ts;
// its chat token count (/chat/completions/input_tokens) is here, with OpenAI's error envelope.
import { Elysia } from "elysia";
import type { GenerationContext } from "../generation.ts";
import type { ModelSource } from "../model-source.ts";
import { chatCompletionBody } from "../chat-completions/schema.ts";
import { completion } from "./completion.ts";
import { completionBody } from "./completion-schema.ts";
import { embedding, embeddingBody } from "./embedding.ts";
import { infill, infillBody } from "./infill.ts";
import { chatInputTokens } from "./input-tokens.ts";
import { props, refuseSetProps } from "./props.ts";
import { rerank, rerankBody } from "./rerank.ts";
import { slots } from "./slots.ts";

const detail = (summary: string) => ({ detail: { summary, tags: ["llama-server"] } });

/** `protect`: chat message text stays text (no --parse-special-in-chat). */
export function llamaServerRoutes(models: ModelSource, generation: (request: Request) => GenerationContext, protect: boolean) {
  const generate = { parse: "json" as const, body: completionBody };
  const reranking = { parse: "json" as const, body: rerankBody, ...detail("Score documents for a query with a reranker (Jina/Cohere shape; TEI's with `texts`)") };
  const tokenCount = detail("The prompt tokens the same chat request would decode: {input_tokens}");
  const embeddings = { parse: "json" as const, body: embeddingBody, ...detail("Embeddings in llama-server's native shape, with embd_normalize") };
  return new Elysia({ name: "llama-server" })
    .post("/completion", ({ body, request }) => completion(body, models, generation(request)), { ...generate, ...detail("llama-server's native completion") })
    .post("/completions", ({ body, request }) => completion(body, models, generation(request)), { ...generate, ...detail("llama-server's native completion (not OpenAI's: that is /v1/completions)") })
    .post("/infill", ({ body, request }) => infill(body, models, generation(request)), { parse: "json", body: infillBody, ...detail("Fill in the middle (llama.vim, llama.vscode)") })
    .get("/props", ({ query }) => props(models, query), detail("Server properties: default generation settings, slots, model path, chat template"))
    .post("/props", () => refuseSetProps(), detail("Refused: Hearth's settings come from flags and hearth.json"))
    .get("/slots", ({ query }) => slots(models, query), detail("Each slot's state (is_processing, n_ctx)"))
    .post("/rerank", ({ body }) => rerank(body, models), reranking)
    .post("/reranking", ({ body }) => rerank(body, models), reranking)
    .post("/v1/rerank", ({ body }) => rerank(body, models), reranking)
    .post("/v1/reranking", ({ body }) => rerank(body, models), reranking)
    .post("/embedding", ({ body }) => embedding(body, models), embeddings)
    .post("/embeddings", ({ body }) => embedding(body, models), embeddings)
    .post("/chat/completions/input_tokens", ({ body }) => chatInputTokens(body, models, protect), { parse: "json", body: chatCompletionBody, ...tokenCount })
    .post("/v1/chat/completions/input_tokens", ({ body }) => chatInputTokens(body, models, protect), { parse: "json", body: chatCompletionBody, ...tokenCount });
}
