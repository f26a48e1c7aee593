// Auth on every route, walked from the app's own route table (a new route cannot slip through),
// and /metrics moving as requests go.
import { expect, test } from "bun:test";
import { createApp, type AppOptions } from "../../src/api/app.ts";
import { FakeEngine, FakeModels } from "../helpers/fake-engine.ts";

const options: AppOptions = { apiKeys: ["k-one", "k-two"], cors: null, maxBodyBytes: 1 << 20 };
/** What needs no key: health (and llama-server's /v1/health), and the chat page with its assets (the page then asks for one). */
const PUBLIC = (method: string, path: string) => path === "/health" || path === "/v1/health" || (method === "GET" && (path === "/" || path.startsWith("/ui/")));

function requestFor(method: string, path: string, headers: Record<string, string>): Request {
  const url = `http://localhost${path.replace("*", "fake-model").replace(":file", "app.js")}`;
  const body = method === "POST" ? JSON.stringify({ model: "fake-model", messages: [{ role: "user", content: "hi" }], prompt: "hi", content: "hi", tokens: [1], input: "hi" }) : undefined;
  return new Request(url, { method, headers: { "content-type": "application/json", ...headers }, body });
}

test("every route but the public ones answers 401 without a key, and not 401 with either key", async () => {
  const app = createApp(new FakeModels(new FakeEngine()), options);
  const routes = app.routes.filter(r => r.method !== "OPTIONS");
  expect(routes.length).toBeGreaterThan(10);
  const wrong: string[] = [];
  for (const { method, path } of routes) {
    const none = await app.handle(requestFor(method, path, {}));
    const bad = await app.handle(requestFor(method, path, { authorization: "Bearer nope" }));
    const good = await app.handle(requestFor(method, path, { authorization: "Bearer k-two" }));
    const viaHeader = await app.handle(requestFor(method, path, { "x-api-key": "k-one" }));
    if (PUBLIC(method, path)) {
      if (none.status === 401) wrong.push(`${method} ${path}: public route asked for a key`);
      continue;
    }
    if (none.status !== 401) wrong.push(`${method} ${path}: ${none.status} without a key`);
    if (bad.status !== 401) wrong.push(`${method} ${path}: ${bad.status} with a wrong key`);
    else {
      const json: any = await bad.json();
      // Ollama's envelope is {"error": "message"} on its /api/ routes.
      const enveloped = path.startsWith("/api/") ? typeof json.error === "string" && Object.keys(json).length === 1 : json.error?.type === "authentication_error";
      if (!enveloped) wrong.push(`${method} ${path}: 401 without the envelope`);
    }
    if (good.status === 401) wrong.push(`${method} ${path}: refused the right Bearer key`);
    if (viaHeader.status === 401) wrong.push(`${method} ${path}: refused the right X-Api-Key`);
  }
  expect(wrong).toEqual([]);
});

test("/metrics: request counters, token counters and latency histograms move as requests go", async () => {
  const app = createApp(new FakeModels(new FakeEngine()), { ...options, apiKeys: [] });
  const scrape = async () => (await app.handle(new Request("http://localhost/metrics"))).text();
  const value = (text: string, series: string) => Number(text.split("\n").find(l => l.startsWith(series + " "))?.split(" ")[1] ?? 0);
  const before = await scrape();
  for (const stream of [false, true]) {
    const res = await app.handle(requestFor("POST", "/v1/chat/completions", {}).clone());
    expect(res.status).toBe(200);
    await res.text();
    const s = await app.handle(new Request("http://localhost/v1/chat/completions", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "fake-model", messages: [{ role: "user", content: "x" }], stream }) }));
    await s.text();
  }
  const after = await scrape();
  const series = [
    'hearth_requests_total{route="/v1/chat/completions",status="200"}',
    "hearth_completion_tokens_total",
    "hearth_prompt_tokens_total",
    "hearth_time_to_first_token_seconds_count",
    "hearth_token_latency_seconds_count",
    "hearth_request_duration_seconds_count",
  ];
  for (const name of series) expect({ name, grew: value(after, name) > value(before, name) }).toEqual({ name, grew: true });
  expect(after).toContain("# TYPE hearth_time_to_first_token_seconds histogram");
  expect(after).toMatch(/hearth_time_to_first_token_seconds_bucket\{le="\+Inf"\} \d+/);
  expect(after).toContain("# TYPE hearth_kv_cache_tokens gauge");
});
