// Errors in Anthropic's envelope, `{"type":"error","error":{"type","message"}}`, with Anthropic's
// statuses (CONVENTIONS.md): a full queue is 529 overloaded_error, which its clients retry.
import { ApiError } from "../errors.ts";

/** The Anthropic error type and status for one of Hearth's errors. */
function kind(e: ApiError): [number, string] {
  switch (e.status) {
    case 400:
      return [400, "invalid_request_error"];
    case 401:
      return [401, "authentication_error"];
    case 403:
      return [403, "permission_error"];
    case 404:
      return [404, "not_found_error"];
    case 413:
      return [413, "request_too_large"];
    case 429:
      return [429, "rate_limit_error"];
    case 503:
      return [529, "overloaded_error"];
    case 504:
      return [504, "timeout_error"];
    default:
      return e.status < 500 ? [e.status, "invalid_request_error"] : [500, "api_error"];
  }
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
