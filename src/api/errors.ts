// Typed API errors and the one mapper to OpenAI's error envelope and HTTP status.
import type { EngineErrorCode } from "../engine/types.ts";
import { ModelNotFoundError, ModelNotNamedError, ModelUnavailableError } from "../models/errors.ts";

export type ErrorType = "invalid_request_error" | "authentication_error" | "not_found_error" | "server_error";

/** What an error says about the request besides its message: the field it concerns, a stable code. */
export interface ErrorDetails {
  /** The request field at fault (OpenAI's `param`), e.g. `messages` or `tools[0].parameters`. */
  param?: string | null;
  /** A stable machine-readable reason, e.g. `context_length_exceeded`. */
  code?: string | null;
}

/**
 * An error the client sees: its HTTP status, OpenAI's `type`, and details. Made through the named
 * helpers below, so a call site says what kind of failure it is, not six positional values.
 */
export class ApiError extends Error {
  readonly type: ErrorType;
  readonly param: string | null;
  readonly code: string | null;
  readonly headers: Record<string, string>;

  constructor(
    readonly status: number,
    message: string,
    details: ErrorDetails & { type?: ErrorType; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = "ApiError";
    this.type = details.type ?? (status >= 500 ? "server_error" : "invalid_request_error");
    this.param = details.param ?? null;
    this.code = details.code ?? null;
    this.headers = details.headers ?? {};
  }
}

/** 400: the request is wrong; `param` names the field when one is to blame. */
export const badRequest = (message: string, details: ErrorDetails = {}) => new ApiError(400, message, details);

/** 401: no key, or a key the server does not accept. */
export const unauthorized = (message: string) => new ApiError(401, message, { type: "authentication_error", code: "invalid_api_key" });

/** 403: the request is refused for where it comes from (another site's page, an unknown Host). */
export const forbidden = (message: string, code: string) => new ApiError(403, message, { code });

/** 404 for a model name nothing resolves to (OpenAI answers it as an invalid request). */
export const modelNotFound = (message: string) => new ApiError(404, message, { param: "model", code: "model_not_found" });

/** 404 for an object the request names by id that the server does not have (a stored response). */
export const notFound = (message: string, details: ErrorDetails = {}) => new ApiError(404, message, details);

/** 404 for a path or method the server has no route for. */
export const routeNotFound = (message: string) => new ApiError(404, message, { type: "not_found_error", code: "not_found" });

/** 413: the body is larger than --max-body. */
export const tooLarge = (message: string) => new ApiError(413, message, { code: "request_too_large" });

/** 499: the client went away (nginx's code; nobody reads it but the log). */
export const cancelled = () => new ApiError(499, "request cancelled", { code: "cancelled" });

/** 500: the server's own fault; never for bad input. */
export const internalError = (message: string, code: string | null = null) => new ApiError(500, message, { code });

/** 503 with Retry-After: try again later (a full queue, a model that cannot load now). */
export const unavailable = (message: string, details: ErrorDetails & { retryAfterS: number }) =>
  new ApiError(503, message, { param: details.param, code: details.code, headers: { "retry-after": String(details.retryAfterS) } });

/** 504: --request-timeout passed. */
export const timedOutError = (message: string) => new ApiError(504, message, { code: "request_timeout" });

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
  /** Where the request's images sit (e.g. `messages[0].content[1]`): an engine error about one names it. */
  images?: string[];
}

/** Maps an engine failure to what the client sees, with `param` naming the request field it concerns. */
export function fromEngineError(code: EngineErrorCode, message: string, params: ErrorParams | null): ApiError {
  const promptParam = params?.prompt ?? null;
  switch (code) {
    case "context_length_exceeded":
      return badRequest(message, { param: promptParam, code: "context_length_exceeded" });
    case "invalid_request":
      return badRequest(message, { param: params?.images?.find(name => message.startsWith(`${name} `)) ?? promptParam });
    case "invalid_grammar":
      return badRequest(message, { param: params?.grammar ?? null, code: "invalid_grammar" });
    case "queue_full":
      return unavailable(message, { code: "queue_full", retryAfterS: 1 });
    case "model_unavailable":
      return unavailable(message, { param: "model", code: "model_unavailable", retryAfterS: 5 });
    case "cancelled":
      return cancelled();
    case "engine_failure":
      return internalError(message, "engine_failure");
  }
}

/** Any thrown value → the ApiError the client sees. Unknown errors never leak their text. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof ModelNotNamedError) return badRequest(err.message, { param: "model", code: "model_required" });
  if (err instanceof ModelNotFoundError) return modelNotFound(err.message);
  if (err instanceof ModelUnavailableError) return unavailable(err.message, { param: "model", code: "model_unavailable", retryAfterS: 5 });
  return internalError("internal server error");
}
