// GET / (the chat page) and GET /ui/{file} (its scripts, styles and vendored libraries), served
// from files embedded in the binary. Public, like /health: the page holds no data and asks for the
// API key itself when the API answers 401.
import { readFileSync } from "node:fs";
import { Elysia, t } from "elysia";
import { INDEX_HTML, UI_FILES } from "./assets.ts";

/** The inline import map is the page's only inline script: the CSP allows it by its hash. */
function contentSecurityPolicy(html: string): string {
  const importMap = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? "";
  const hash = new Bun.CryptoHasher("sha256").update(importMap).digest("base64");
  // Model output is untrusted: even if something slipped past DOMPurify, no inline handler,
  // foreign script or remote image (a way to leak the conversation) would run or load.
  return [
    "default-src 'self'",
    `script-src 'self' 'sha256-${hash}'`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

export function chatPage() {
  const html = readFileSync(INDEX_HTML, "utf8");
  const headers = {
    "content-type": "text/html; charset=utf-8",
    "content-security-policy": contentSecurityPolicy(html),
    "x-content-type-options": "nosniff",
    "cache-control": "no-cache",
  };
  return new Elysia({ name: "hearth-ui" })
    .get("/", () => new Response(html, { headers }), { detail: { summary: "The chat page (HTML)", tags: ["page"] } })
    .get(
      "/ui/:file",
      ({ params }) => {
        // Own keys only: "__proto__" or "constructor" must not find Object.prototype's members.
        const file = Object.hasOwn(UI_FILES, params.file) ? UI_FILES[params.file] : undefined;
        if (!file) return new Response("not found", { status: 404, headers: { "content-type": "text/plain" } });
        return new Response(Bun.file(file.path), { headers: { "content-type": file.type, "x-content-type-options": "nosniff", "cache-control": "no-cache" } });
      },
      { params: t.Object({ file: t.String() }), detail: { summary: "A script or style sheet of the chat page", tags: ["page"] } },
    );
}
