// API keys (constant-time comparison) and CORS.
import { timingSafeEqual, createHash } from "node:crypto";

/** Compares a presented key with every accepted key in constant time (hashes equalize lengths). */
export function keyAccepted(presented: string | null, keys: readonly string[]): boolean {
  if (!presented) return false;
  const a = createHash("sha256").update(presented).digest();
  let ok = false;
  for (const key of keys) {
    const b = createHash("sha256").update(key).digest();
    ok = timingSafeEqual(a, b) || ok;
  }
  return ok;
}

/** The key a request carries: `Authorization: Bearer KEY` or `X-Api-Key: KEY`. */
export function presentedKey(request: Request): string | null {
  const auth = request.headers.get("authorization");
  if (auth?.toLowerCase().startsWith("bearer ")) return auth.slice(7).trim();
  return request.headers.get("x-api-key");
}

export function corsHeaders(request: Request, allowed: readonly string[] | null): Record<string, string> {
  if (!allowed || allowed.length === 0) return {};
  const origin = request.headers.get("origin");
  if (!origin) return {};
  const any = allowed.includes("*");
  if (!any && !allowed.includes(origin)) return {};
  return {
    "access-control-allow-origin": any ? "*" : origin,
    "access-control-allow-methods": "GET, POST, OPTIONS",
    "access-control-allow-headers": "authorization, content-type, x-api-key",
    "access-control-max-age": "600",
    ...(any ? {} : { vary: "origin" }),
  };
}
