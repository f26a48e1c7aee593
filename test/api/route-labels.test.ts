// Metrics label requests by the app's own registered routes: no hand-kept list to forget a route in.
import { expect, test } from "bun:test";
import { createApp } from "../../src/api/app.ts";
import { routeLabeller } from "../../src/api/route-labels.ts";
import { FakeEngine, FakeModels } from "../helpers/fake-engine.ts";

test("a labeller maps paths to their route pattern, the most specific first, else unmatched", () => {
  const label = routeLabeller(() => ["/", "/v1/models", "/v1/models/*", "/ui/*", "/slots/:id", "/slots/:id/erase"]);
  expect(label("/")).toBe("/");
  expect(label("/v1/models")).toBe("/v1/models");
  expect(label("/v1/models/sub/dir/model")).toBe("/v1/models/*");
  expect(label("/ui/app.js")).toBe("/ui/*");
  expect(label("/slots/3")).toBe("/slots/:id");
  expect(label("/slots/3/erase")).toBe("/slots/:id/erase");
  expect(label("/slots")).toBe("unmatched");
  expect(label("/v1/modelsX")).toBe("unmatched");
  expect(label("/no/such/route")).toBe("unmatched");
});

test("every route the app registers is its own label in /metrics, and a made-up path is not", async () => {
  const app = createApp(new FakeModels(new FakeEngine()), { apiKeys: [], cors: null, maxBodyBytes: 1 << 20 });
  const paths = ["/health", "/v1/models", "/v1/models/fake-model", "/ui/app.js", "/openapi", "/made/up/path"];
  for (const path of paths) await app.handle(new Request(`http://localhost${path}`));
  const text = await (await app.handle(new Request("http://localhost/metrics"))).text();
  const routes = [...text.matchAll(/hearth_requests_total\{route="([^"]*)"/g)].map(m => m[1]!);
  for (const label of ["/health", "/openapi", "/ui/:file", "/v1/models", "/v1/models/*", "unmatched"]) expect(routes).toContain(label);
  const registered = [...app.routes.map(r => r.path), "unmatched"];
  for (const label of routes) expect(registered).toContain(label);
  expect(text).not.toContain("/made/up");
});
