// HF_TOKEN goes only over https to the Hugging Face endpoint's own host: never to another URL,
// never over plain http, never after a redirect has left the endpoint. Local servers record the
// Authorization header of every request; the https hub uses a throwaway certificate (openssl),
// trusted by the `hearth pull` child through NODE_EXTRA_CA_CERTS.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pull, resolveQuant, shouldSendToken } from "../../src/models/pull.ts";
import { repoRoot } from "../helpers/paths.ts";

const TOKEN = "hf_secret_for_tests";
const BYTES = new Uint8Array(4096).fill(7);
/** The child's environment: no HF_ENDPOINT of the caller's, so the default endpoint applies. */
const childEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== "HF_ENDPOINT"));
const tmp = mkdtempSync(join(tmpdir(), "hearth-pull-token-"));

/** Every request any test server saw: which server, its host and path, and its Authorization. */
let seen: Array<{ server: string; host: string; path: string; auth: string | null }> = [];

/** A hub on 127.0.0.1 and a "CDN" on 127.0.0.2 (another host; all of 127/8 is loopback on Linux). */
interface Pair { scheme: "http" | "https"; hub: ReturnType<typeof Bun.serve>; cdn: ReturnType<typeof Bun.serve> }

function answer(pair: () => Pair, req: Request): Response {
  const { scheme, hub, cdn } = pair();
  const url = new URL(req.url);
  seen.push({ server: scheme, host: url.host, path: url.pathname, auth: req.headers.get("authorization") });
  const to = (location: string, status = 302) => new Response(null, { status, headers: { location } });
  switch (url.pathname) {
    case "/api/models/owner/repo":
      return Response.json({ siblings: [{ rfilename: "tiny-q8_0.gguf" }, { rfilename: "tiny-q4_0.gguf" }] });
    // Hub: a same-host redirect (a renamed repo), then off to the CDN on another host.
    case "/owner/repo/resolve/main/tiny-q4_0.gguf":
      return to("/renamed/repo/resolve/main/tiny-q4_0.gguf", 307);
    case "/renamed/repo/resolve/main/tiny-q4_0.gguf":
      return to(`${scheme}://127.0.0.2:${cdn.port}/cdn/blob?signature=1`);
    // The CDN sends the request back to the hub's host: still no token (the chain left the hub).
    case "/cdn/blob":
      return to(`${scheme}://127.0.0.1:${hub.port}/back/blob`);
    case "/back/blob":
    case "/plain.gguf":
      return new Response(BYTES);
    default:
      return new Response("not found", { status: 404 });
  }
}

let secure: Pair;
let plain: Pair;
let ca: string;

function servePair(scheme: Pair["scheme"], tls?: { cert: string; key: string }): Pair {
  const pair = { scheme } as Pair;
  pair.hub = Bun.serve({ port: 0, hostname: "127.0.0.1", tls, fetch: req => answer(() => pair, req) });
  pair.cdn = Bun.serve({ port: 0, hostname: "127.0.0.2", tls, fetch: req => answer(() => pair, req) });
  return pair;
}

beforeAll(() => {
  const key = join(tmp, "key.pem");
  ca = join(tmp, "cert.pem");
  const made = Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", ca, "-days", "1",
    "-subj", "/CN=hearth-test", "-addext", "subjectAltName=IP:127.0.0.1,IP:127.0.0.2"], { stderr: "pipe" });
  if (!made.success) throw new Error(`openssl could not make a test certificate: ${made.stderr}`);
  secure = servePair("https", { cert: readFileSync(ca, "utf8"), key: readFileSync(key, "utf8") });
  plain = servePair("http");
});
afterAll(() => {
  for (const p of [secure, plain]) for (const s of [p?.hub, p?.cdn]) s?.stop(true);
});

describe("shouldSendToken", () => {
  test("only https, only the endpoint's host and port", () => {
    expect(shouldSendToken("https://huggingface.co/o/r/resolve/main/f.gguf")).toBe(true);
    expect(shouldSendToken("https://huggingface.co:443/o/r/resolve/main/f.gguf")).toBe(true);
    expect(shouldSendToken("http://huggingface.co/o/r/resolve/main/f.gguf")).toBe(false);
    expect(shouldSendToken("https://cdn-lfs.huggingface.co/blob")).toBe(false);
    expect(shouldSendToken("https://huggingface.co.evil.example/f.gguf")).toBe(false);
    expect(shouldSendToken("https://huggingface.co:8443/f.gguf")).toBe(false);
    expect(shouldSendToken("https://example.com/f.gguf")).toBe(false);
    expect(shouldSendToken("https://mirror.example/o/r/resolve/main/f.gguf", "https://mirror.example/")).toBe(true);
    expect(shouldSendToken("https://huggingface.co/f.gguf", "https://mirror.example")).toBe(false);
    // An http endpoint never gets the token, not even on its own host.
    expect(shouldSendToken("http://127.0.0.1:8080/f.gguf", "http://127.0.0.1:8080")).toBe(false);
    expect(shouldSendToken("not a url")).toBe(false);
  });
});

describe("the token on the wire", () => {
  test("a plain http URL gets no token, and neither does its redirect chain", async () => {
    seen = [];
    const path = await pull({ source: `http://127.0.0.1:${plain.hub.port}/owner/repo/resolve/main/tiny-q4_0.gguf`, dir: join(tmp, "a"), token: TOKEN });
    expect(new Uint8Array(readFileSync(path))).toEqual(BYTES);
    expect(seen.map(s => s.path)).toEqual(["/owner/repo/resolve/main/tiny-q4_0.gguf", "/renamed/repo/resolve/main/tiny-q4_0.gguf", "/cdn/blob", "/back/blob"]);
    expect(seen.every(s => s.auth === null)).toBe(true);
  });

  test("an http --hf-endpoint gets no token (listing and download)", async () => {
    seen = [];
    const endpoint = `http://127.0.0.1:${plain.hub.port}`;
    const source = await resolveQuant("owner/repo:Q4_0", endpoint, TOKEN);
    expect(source).toBe("owner/repo/tiny-q4_0.gguf");
    await pull({ source, dir: join(tmp, "b"), token: TOKEN, hfEndpoint: endpoint });
    expect(seen.length).toBe(5);
    expect(seen.every(s => s.auth === null)).toBe(true);
  });

  test("an https URL that is not the endpoint gets no token", async () => {
    seen = [];
    const run = Bun.spawn([process.execPath, `${repoRoot}/src/cli.ts`, "pull", `https://127.0.0.1:${secure.hub.port}/plain.gguf`, "--dir", join(tmp, "c")], {
      env: { ...childEnv, HF_TOKEN: TOKEN, NODE_EXTRA_CA_CERTS: ca },
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(await run.exited).toBe(0);
    expect(seen).toEqual([{ server: "https", host: `127.0.0.1:${secure.hub.port}`, path: "/plain.gguf", auth: null }]);
  });

  test("the https endpoint gets it, same-host redirects keep it, a hop to another host and every later hop do not", async () => {
    seen = [];
    const dir = join(tmp, "d");
    const run = Bun.spawn([process.execPath, `${repoRoot}/src/cli.ts`, "pull", "owner/repo:Q4_0", "--hf-endpoint", `https://127.0.0.1:${secure.hub.port}`, "--dir", dir], {
      env: { ...childEnv, HF_TOKEN: TOKEN, NODE_EXTRA_CA_CERTS: ca },
      stdout: "pipe",
      stderr: "pipe",
    });
    const code = await run.exited;
    expect(code, await new Response(run.stderr).text()).toBe(0);
    expect(existsSync(join(dir, "tiny-q4_0.gguf"))).toBe(true);
    const bearer = `Bearer ${TOKEN}`;
    const hubHost = `127.0.0.1:${secure.hub.port}`;
    expect(seen).toEqual([
      { server: "https", host: hubHost, path: "/api/models/owner/repo", auth: bearer },
      { server: "https", host: hubHost, path: "/owner/repo/resolve/main/tiny-q4_0.gguf", auth: bearer },
      { server: "https", host: hubHost, path: "/renamed/repo/resolve/main/tiny-q4_0.gguf", auth: bearer },
      { server: "https", host: `127.0.0.2:${secure.cdn.port}`, path: "/cdn/blob", auth: null },
      { server: "https", host: hubHost, path: "/back/blob", auth: null },
      // The repository is listed again for a vision projector (it has none): the endpoint, so with the token.
      { server: "https", host: hubHost, path: "/api/models/owner/repo", auth: bearer },
    ]);
  });
});
