// GET /openapi describes every route from the same TypeBox schemas the routes validate with, and
// validates as OpenAPI; GET / serves the chat page without a key (and not with --no-ui).
import { describe, expect, test } from "bun:test";
import SwaggerParser from "@apidevtools/swagger-parser";
import { createApp, type AppOptions } from "../../src/api/app.ts";
import { FakeEngine, FakeModels } from "../helpers/fake-engine.ts";

const appWith = (options: Partial<AppOptions> = {}) => createApp(new FakeModels(new FakeEngine()), { apiKeys: [], cors: null, maxBodyBytes: 1 << 20, ...options });
const get = (app: ReturnType<typeof appWith>, path: string, headers: Record<string, string> = {}) => app.handle(new Request(`http://localhost${path}`, { headers }));

describe("GET /openapi", () => {
  test("the document validates and lists every route the app serves", async () => {
    const app = appWith();
    const res = await get(app, "/openapi");
    expect(res.status).toBe(200);
    const doc: any = await res.json();
    await SwaggerParser.validate(structuredClone(doc)); // throws on an invalid document
    const documented = Object.entries<any>(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map(m => `${m.toUpperCase()} ${path}`));
    const served = app.routes
      .filter(r => r.path !== "/openapi")
      .map(r => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`);
    expect(served.length).toBeGreaterThan(10);
    expect(documented.sort()).toEqual(served.sort());
  });

  test("request bodies are the routes' own schemas", async () => {
    const doc: any = await (await get(appWith(), "/openapi")).json();
    const chat = doc.paths["/v1/chat/completions"].post.requestBody.content["application/json"].schema;
    expect(chat.required).toEqual(expect.arrayContaining(["messages"]));
    expect(chat.required).not.toContain("model"); // omitted: the default model (CONVENTIONS.md, "Model names in requests")
    expect(Object.keys(doc.paths["/v1/chat/completions"].post.requestBody.content)).toEqual(["application/json"]);
    expect(chat.properties.temperature).toEqual({ type: ["number", "null"], minimum: 0, maximum: 2 });
    expect(chat.properties.messages.items.properties.role.enum).toEqual(["system", "developer", "user", "assistant", "tool"]);
    expect(doc.components.securitySchemes.bearer).toEqual({ type: "http", scheme: "bearer" });
    // The Anthropic dialect's schemas are there too (src/api/anthropic/schema.ts).
    const messages = doc.paths["/v1/messages"].post.requestBody.content["application/json"].schema;
    expect(messages.required).toEqual(["messages", "max_tokens"]);
    expect(doc.paths["/v1/messages/count_tokens"].post.requestBody.content["application/json"].schema.required).toEqual(["messages"]);
  });

  test("it needs the API key like the rest of the API", async () => {
    const app = appWith({ apiKeys: ["k"] });
    expect((await get(app, "/openapi")).status).toBe(401);
    expect((await get(app, "/openapi", { authorization: "Bearer k" })).status).toBe(200);
  });
});

describe("GET / (the chat page)", () => {
  test("the page and its files are served without a key, with a CSP", async () => {
    const app = appWith({ apiKeys: ["k"] });
    const page = await get(app, "/");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self' 'sha256-");
    const html = await page.text();
    for (const src of html.match(/\/ui\/[\w.-]+/g)!) {
      const res = await get(app, src);
      expect(res.status).toBe(200);
    }
    expect((await get(app, "/ui/purify.mjs")).headers.get("content-type")).toContain("javascript");
    expect((await get(app, "/ui/nope.js")).status).toBe(404);
    expect((await get(app, "/v1/models")).status).toBe(401);
  });

  test("--no-ui: no page", async () => {
    const app = appWith({ ui: false });
    expect((await get(app, "/")).status).toBe(404);
    expect((await get(app, "/ui/app.js")).status).toBe(404);
  });
});
