// Typed API errors and the one mapper to OpenAI's error envelope and HTTP status.
import type { EngineErrorCode } from "../engine/types.ts";
import { ModelNotFoundError, ModelNotNamedError, ModelUnavailableError } from "../models/errors.ts";

export type ErrorType = "invalid_request_error" | "authentication_error" | "not_found_error" | "server_error";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: ErrorType = status >= 500 ? "server_error" : "invalid_request_error",
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export function envelope(error: ApiError) {
  return { error: { message: error.message, type: error.type, param: error.param, code: error.code } };
}

export function errorResponse(error: ApiError, extraHeaders: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(envelope(error)), {
    status: error.status,
    headers: { "content-type": "application/json", ...error.headers, ...extraHeaders },
  });
}

/** The request fields an engine failure can concern, named as the endpoint's clients know them. */
export interface ErrorParams {
  prompt: string;
  /** The field the grammar came from (`response_format`, `json_schema`, `grammar`), if any. */
  grammar?: string | null;
}

/** Maps an engine failure to what the client sees, with `param` naming the request field it concerns. */
export function fromEngineError(code: EngineErrorCode, message: string, params: ErrorParams | null): ApiError {
  const promptParam = params?.prompt ?? null;
  switch (code) {
    case "context_length_exceeded":
      return new ApiError(400, message, "invalid_request_error", promptParam, "context_length_exceeded");
    case "invalid_request":
      return new ApiError(400, message, "invalid_request_error", promptParam, null);
    case "invalid_grammar":
      return new ApiError(400, message, "invalid_request_error", params?.grammar ?? null, "invalid_grammar");
    case "queue_full":
      return new ApiError(503, message, "server_error", null, "queue_full", { "retry-after": "1" });
    case "model_unavailable":
      return new ApiError(503, message, "server_error", "model", "model_unavailable", { "retry-after": "5" });
    case "cancelled":
      return new ApiError(499, "request cancelled", "invalid_request_error", null, "cancelled");
    case "engine_failure":
      return new ApiError(500, message, "server_error", null, "engine_failure");
  }
}

/** Any thrown value → the ApiError the client sees. Unknown errors never leak their text. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof ModelNotNamedError) return new ApiError(400, err.message, "invalid_request_error", "model", "model_required");
  if (err instanceof ModelNotFoundError) return new ApiError(404, err.message, "invalid_request_error", "model", "model_not_found");
  if (err instanceof ModelUnavailableError) return new ApiError(503, err.message, "server_error", "model", "model_unavailable", { "retry-after": "5" });
  return new ApiError(500, "internal server error", "server_error");
}
