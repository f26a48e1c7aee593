// Errors in Ollama's envelope, `{"error": "message"}`, with the HTTP statuses Ollama answers
// (its clients read the status: the `ollama` library's ResponseError carries it, 404 for a model
// nobody has). A model name nothing resolves to says so in Ollama's words.
import { ApiError, modelNotFound } from "../errors.ts";
import { ModelNotFoundError } from "../../models/errors.ts";

export function ollamaErrorBody(e: ApiError) {
  return { error: e.message };
}

export function ollamaErrorResponse(e: ApiError, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(ollamaErrorBody(e)), { status: e.status, headers: { "content-type": "application/json", ...e.headers, ...headers } });
}

/** Whether a path is served in Ollama's dialect (its errors then take Ollama's shape). */
export const isOllamaPath = (path: string) => path.startsWith("/api/");

/** 404 as Ollama words it: `model "x" not found, try pulling it first`. */
export const ollamaModelNotFound = (name: string) => modelNotFound(`model "${name}" not found, try pulling it first`);

/** Runs `load` with the model layer's not-found error worded as Ollama's. */
export async function orNotFound<T>(name: string | undefined, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    if (err instanceof ModelNotFoundError) throw ollamaModelNotFound(name || err.id);
    throw err;
  }
}

/** 501 for what Hearth does not do, saying what to do instead. */
export const notImplemented = (message: string) => new ApiError(501, message, { code: "not_implemented" });
