// Ollama's native API under /api (and HEAD /), as one Elysia plugin the app mounts. Each route
// only translates (schema.ts in, the chat core, Ollama's shapes out); errors take Ollama's
// envelope by path (errors.ts isOllamaPath, used by the app's one error mapper).
import { Elysia } from "elysia";
import type { FileDigests } from "../../models/digests.ts";
import type { GenerationContext } from "../generation.ts";
import type { ModelSource } from "../model-source.ts";
import { chat } from "./chat.ts";
import { embed, embeddings } from "./embed.ts";
import { generate } from "./generate.ts";
import { copyModel, create, deleteModel, push } from "./manage.ts";
import { ps, show, tags } from "./models.ts";
import { pullModel, type PullSettings } from "./pull.ts";
import { anyBody, chatBody, copyBody, deleteBody, embedBody, embeddingsBody, generateBody, pullBody, showBody } from "./schema.ts";

/**
 * The Ollama release whose API this follows. Clients compare it with the version they need
 * (VS Code Copilot asks for a recent one), so it is Ollama's numbering, not Hearth's.
 */
export const OLLAMA_API_VERSION = "0.12.0";

export interface OllamaRouteOptions {
  /** Keep message text from acting as control tokens (off: --parse-special-in-chat). */
  protect: boolean;
  /** $HEARTH_HOME: pulled files, aliases.json. */
  home: string;
  pull: PullSettings;
  digests: FileDigests;
}

export function ollamaRoutes(models: ModelSource, generation: (request: Request) => GenerationContext, options: OllamaRouteOptions) {
  const detail = (summary: string) => ({ detail: { summary, tags: ["Ollama"] } });
  const chatOptions = { protect: options.protect };
  return new Elysia({ name: "ollama" })
    .head("/", () => new Response(null, { status: 200 }), detail("Ollama's liveness probe"))
    .get("/api/version", () => ({ version: OLLAMA_API_VERSION }), detail("The Ollama API version served"))
    .get("/api/tags", () => tags(models, options.digests), detail("Models served (Ollama)"))
    .get("/api/ps", () => ps(models, options.digests), detail("Models loaded now (Ollama)"))
    .post("/api/show", ({ body }) => show(body, models, options.digests), { parse: "json", body: showBody, ...detail("One model's details, header, template and capabilities (Ollama)") })
    .post("/api/chat", ({ body, request }) => chat(body, models, generation(request), chatOptions), { parse: "json", body: chatBody, ...detail("Chat (Ollama; NDJSON stream by default)") })
    .post("/api/generate", ({ body, request }) => generate(body, models, generation(request), chatOptions), {
      parse: "json",
      body: generateBody,
      ...detail("Completion of a prompt, templated or raw (Ollama; NDJSON stream by default)"),
    })
    .post("/api/embed", ({ body }) => embed(body, models), { parse: "json", body: embedBody, ...detail("Embeddings of one or more inputs (Ollama)") })
    .post("/api/embeddings", ({ body }) => embeddings(body, models), { parse: "json", body: embeddingsBody, ...detail("One embedding (Ollama's older route)") })
    .post("/api/pull", ({ body, request }) => pullModel(body, models, generation(request), options.pull), { parse: "json", body: pullBody, ...detail("Download a GGUF from Hugging Face (hf.co/OWNER/REPO:QUANT)") })
    .delete("/api/delete", ({ body }) => deleteModel(body, models, options.home), { parse: "json", body: deleteBody, ...detail("Delete a model Hearth pulled or imported") })
    .post("/api/copy", ({ body }) => copyModel(body, models, options.home), { parse: "json", body: copyBody, ...detail("A new name for a model (kept in $HEARTH_HOME/aliases.json)") })
    .post("/api/create", () => create(), { body: anyBody, ...detail("Not supported: says what to do instead (501)") })
    .post("/api/push", () => push(), { body: anyBody, ...detail("Not supported: says what to do instead (501)") });
}
