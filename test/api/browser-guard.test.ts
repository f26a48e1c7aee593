// Web pages may not use a Hearth their visitor's browser can reach: a foreign page's POST (even a
// text/plain one, which needs no CORS preflight) and a DNS-rebinding Host are refused with 403,
// while the server's own page, curl-like clients, --cors origins and --allowed-hosts names work.
import { describe, expect, test } from "bun:test";
import { createApp, type AppOptions } from "../../src/api/app.ts";
import { hostAllowList, parseAllowedHosts } from "../../src/api/browser-guard.ts";
import { FakeEngine, FakeModels } from "../helpers/fake-engine.ts";

/** The host names a default server (bound to 127.0.0.1, no --allowed-hosts) answers. */
const LOOPBACK = ["localhost"];

function appWith(options: Partial<AppOptions> = {}, engine = new FakeEngine()) {
  return { engine, app: createApp(new FakeModels(engine), { apiKeys: [], cors: null, maxBodyBytes: 1 << 20, hostNames: LOOPBACK, ...options }) };
}

const chatBody = JSON.stringify({ model: "fake-model", messages: [{ role: "user", content: "Hi" }] });

/** A request as a browser (or curl) sends it to the server at 127.0.0.1:8080; `host` overrides the Host header. */
function request(method: string, path: string, headers: Record<string, string> = {}, body?: string): Request {
  return new Request(`http://127.0.0.1:8080${path}`, { method, headers: { host: "127.0.0.1:8080", ...headers }, body });
}
const postChat = (headers: Record<string, string>) => request("POST", "/v1/chat/completions", { "content-type": "text/plain;charset=UTF-8", ...headers }, chatBody);

async function expectRefused(res: Response, code: string, ...mentions: string[]) {
  expect(res.status).toBe(403);
  const json: any = await res.json();
  expect(json).toEqual({ error: { message: expect.any(String), type: "invalid_request_error", param: null, code } });
  for (const m of mentions) expect(json.error.message).toContain(m);
}

describe("cross-site browser requests", () => {
  test("a text/plain POST from another origin's page is refused before it reaches the model", async () => {
    const { app, engine } = appWith();
    await expectRefused(await app.handle(postChat({ origin: "http://evil.example" })), "cross_origin_forbidden", "Origin: http://evil.example", "--cors http://evil.example");
    const load = request("POST", "/models/load", { origin: "http://evil.example", "content-type": "application/x-www-form-urlencoded" }, '{"model":"fake-model"}');
    await expectRefused(await app.handle(load), "cross_origin_forbidden");
    // Another port of the same host is another application, and "null" is a sandboxed or file:// page.
    await expectRefused(await app.handle(postChat({ origin: "http://127.0.0.1:3000" })), "cross_origin_forbidden");
    await expectRefused(await app.handle(postChat({ origin: "null" })), "cross_origin_forbidden", "--cors ORIGIN");
    expect(engine.requests).toHaveLength(0);
  });

  test("Sec-Fetch-Site cross-site or same-site without an Origin is refused too", async () => {
    const { app, engine } = appWith();
    await expectRefused(await app.handle(postChat({ "sec-fetch-site": "cross-site" })), "cross_origin_forbidden", "Sec-Fetch-Site: cross-site", "--cors");
    await expectRefused(await app.handle(postChat({ "sec-fetch-site": "same-site" })), "cross_origin_forbidden", "Sec-Fetch-Site: same-site");
    expect(engine.requests).toHaveLength(0);
  });

  test("the server's own page, and clients that are not browsers, keep working (any content type)", async () => {
    const { app } = appWith();
    const ok = [
      postChat({ origin: "http://127.0.0.1:8080", "sec-fetch-site": "same-origin" }),
      postChat({ host: "localhost:8080", origin: "http://LOCALHOST:8080" }),
      postChat({ "sec-fetch-site": "same-origin" }),
      postChat({ "sec-fetch-site": "none" }),
      postChat({}), // curl -d: a form content type, no Origin, no Sec-Fetch-Site
      request("POST", "/v1/chat/completions", { "content-type": "application/x-www-form-urlencoded" }, chatBody),
    ];
    for (const req of ok) expect({ origin: req.headers.get("origin"), status: (await app.handle(req)).status }).toEqual({ origin: req.headers.get("origin"), status: 200 });
  });

  test("behind a TLS proxy that passes its Host, the page's https origin is its own", async () => {
    const { app } = appWith({ hostNames: [...LOOPBACK, "llm.example"] });
    expect((await app.handle(postChat({ host: "llm.example", origin: "https://llm.example" }))).status).toBe(200);
    expect((await app.handle(postChat({ host: "llm.example:8443", origin: "https://llm.example:8443" }))).status).toBe(200);
  });

  test("--cors lets the origins it names in (with CORS headers), and '*' any page", async () => {
    const { app } = appWith({ cors: ["http://app.example"] });
    const allowed = await app.handle(postChat({ origin: "http://app.example", "sec-fetch-site": "cross-site" }));
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get("access-control-allow-origin")).toBe("http://app.example");
    await expectRefused(await app.handle(postChat({ origin: "http://evil.example" })), "cross_origin_forbidden");
    const any = appWith({ cors: ["*"] }).app;
    expect((await any.handle(postChat({ origin: "http://evil.example" }))).status).toBe(200);
    expect((await any.handle(postChat({ "sec-fetch-site": "cross-site" }))).status).toBe(200);
  });

  test("GETs stay open to links from anywhere: they change nothing, and their answers carry no CORS grant", async () => {
    const { app } = appWith();
    const page = await app.handle(request("GET", "/", { "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate" }));
    expect(page.status).toBe(200);
    const list = await app.handle(request("GET", "/v1/models", { origin: "http://evil.example", "sec-fetch-site": "cross-site" }));
    expect(list.status).toBe(200);
    expect(list.headers.get("access-control-allow-origin")).toBeNull();
  });

  test("a preflight: 204 with CORS headers for an allowed origin, 403 for another", async () => {
    const { app } = appWith({ cors: ["http://app.example"] });
    const preflight = (origin: string) => request("OPTIONS", "/v1/chat/completions", { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" });
    const ok = await app.handle(preflight("http://app.example"));
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe("http://app.example");
    await expectRefused(await app.handle(preflight("http://evil.example")), "cross_origin_forbidden", "--cors http://evil.example");
    expect((await appWith({ cors: ["*"] }).app.handle(preflight("http://evil.example"))).status).toBe(204);
  });
});

describe("Host header (DNS rebinding)", () => {
  test("a name that is not this server's is refused on every route, the page and /health included", async () => {
    const { app, engine } = appWith();
    const rebound = { host: "evil.example:8080" };
    for (const [method, path] of [["GET", "/"], ["GET", "/ui/app.js"], ["GET", "/health"], ["GET", "/v1/models"], ["OPTIONS", "/v1/chat/completions"]] as const) {
      await expectRefused(await app.handle(request(method, path, rebound)), "host_not_allowed", "Host header 'evil.example:8080'", "--allowed-hosts evil.example");
    }
    await expectRefused(await app.handle(postChat({ ...rebound, origin: "http://evil.example:8080" })), "host_not_allowed");
    expect(engine.requests).toHaveLength(0);
  });

  test("loopback names and IP addresses pass (with or without a port); --allowed-hosts adds names", async () => {
    const { app } = appWith({ hostNames: hostAllowList("127.0.0.1", ["llm.example"]) });
    for (const host of ["127.0.0.1", "127.0.0.1:8080", "localhost", "LocalHost:8080", "localhost.:8080", "[::1]:8080", "127.0.0.2", "10.0.0.5:8080", "llm.example", "llm.example:443"]) {
      expect({ host, status: (await app.handle(request("GET", "/health", { host }))).status }).toEqual({ host, status: 200 });
    }
    for (const host of ["evil.example", "llm.example.evil.example", "localhost.evil.example", "sub.llm.example"]) {
      expect({ host, status: (await app.handle(request("GET", "/health", { host }))).status }).toEqual({ host, status: 403 });
    }
  });

  test("which hosts are checked: always on loopback, on other addresses only once --allowed-hosts names some", () => {
    expect(hostAllowList("127.0.0.1", [])).toEqual(["localhost"]);
    expect(hostAllowList("::1", [])).toEqual(["localhost"]);
    expect(hostAllowList("localhost", ["a.example"])).toEqual(["localhost", "a.example"]);
    expect(hostAllowList("0.0.0.0", [])).toBeNull();
    expect(hostAllowList("192.168.1.5", [])).toBeNull();
    expect(hostAllowList("0.0.0.0", ["llm.lan"])).toEqual(["localhost", "llm.lan"]);
    expect(hostAllowList("myhost.lan", ["llm.lan"])).toEqual(["localhost", "myhost.lan", "llm.lan"]);
    expect(hostAllowList("127.0.0.1", ["*"])).toBeNull();
  });

  test("--allowed-hosts: comma separated and repeatable, ports dropped, malformed names refused", () => {
    expect(parseAllowedHosts(["LLM.example:8443, b.example", "c.example."])).toEqual(["llm.example", "b.example", "c.example"]);
    expect(parseAllowedHosts(["*"])).toEqual(["*"]);
    expect(() => parseAllowedHosts(["a.example/path"])).toThrow("'a.example/path' is not a host name");
    expect(() => parseAllowedHosts(["user@a.example"])).toThrow("not a host name");
  });
});
