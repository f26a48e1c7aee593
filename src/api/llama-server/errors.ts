// Errors on llama-server's native routes, in its own envelope `{"error":{"code","message","type"}}`
// (tools/server: format_error_response): `code` is the HTTP status, `type` its kind. The
// OpenAI-shaped routes it also answers (/chat/completions, /models, /v1/...) keep OpenAI's envelope.
import { ApiError } from "../errors.ts";

/** llama-server's error type for each status Hearth answers with. */
const TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  501: "not_supported_error",
  503: "unavailable_error",
};

function errorType(e: ApiError): string {
  if (e.code === "context_length_exceeded") return "exceed_context_size_error";
  return TYPES[e.status] ?? (e.status < 500 ? "invalid_request_error" : "server_error");
}

export function nativeErrorBody(e: ApiError) {
  return { error: { code: e.status, message: e.message, type: errorType(e) } };
}

export function nativeErrorResponse(e: ApiError, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(nativeErrorBody(e)), {
    status: e.status,
    headers: { "content-type": "application/json", ...e.headers, ...headers },
  });
}

/** 501: a llama-server feature Hearth does not offer (llama-server's ERROR_TYPE_NOT_SUPPORTED). */
export const notSupported = (message: string) => new ApiError(501, message, { code: "not_supported" });

/** llama-server's own routes (not its OpenAI ones): their errors take its native envelope. */
const NATIVE = new Set([
  "/completion", "/completions", "/infill", "/props", "/slots", "/embedding", "/embeddings",
  "/rerank", "/reranking", "/v1/rerank", "/v1/reranking",
]);

export const isNativePath = (path: string) => NATIVE.has(path) || path.startsWith("/slots/");
