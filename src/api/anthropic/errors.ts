// Errors in Anthropic's envelope, `{"type":"error","error":{"type","message"}}`, with Anthropic's
// statuses (CONVENTIONS.md): a full queue is 529 overloaded_error, which its clients retry.
import { ApiError } from "../errors.ts";

/** Anthropic's error type for each status Hearth answers with (others: by class, below). */
const TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  504: "timeout_error",
};

/** The Anthropic status and error type for one of Hearth's errors. */
function kind(e: ApiError): [number, string] {
  // Hearth's 503 (a full queue, a model that cannot load now) is Anthropic's 529, which its clients retry.
  if (e.status === 503) return [529, "overloaded_error"];
  const type = TYPES[e.status];
  if (type) return [e.status, type];
  return e.status < 500 ? [e.status, "invalid_request_error"] : [500, "api_error"];
}

export function anthropicErrorBody(e: ApiError) {
  return { type: "error", error: { type: kind(e)[1], message: e.message } };
}

/** The error as an HTTP response (with `request-id`, where Anthropic's SDKs look for it). */
export function anthropicErrorResponse(e: ApiError, headers: Record<string, string> = {}): Response {
  const id = headers["x-request-id"];
  return new Response(JSON.stringify(anthropicErrorBody(e)), {
    status: kind(e)[0],
    headers: { "content-type": "application/json", ...e.headers, ...headers, ...(id ? { "request-id": id } : {}) },
  });
}

/** Whether a path is served in Anthropic's dialect (its errors then take Anthropic's shape). */
export const isAnthropicPath = (path: string) => path === "/v1/messages" || path.startsWith("/v1/messages/");
