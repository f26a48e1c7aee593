// Serve options end to end: --api-key-file, --log-format json (one JSON object per line, one
// line per request with its id, model, tokens and timings), and --allowed-hosts with the guards
// against web pages (a DNS-rebinding Host, another origin's POST).
import { expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultModel, repoRoot } from "../helpers/paths.ts";
import { freePort, postJson, startHearth } from "../helpers/server.ts";

const dir = mkdtempSync(join(tmpdir(), "hearth-cli-"));
const completion = { model: "stories260K", prompt: "Once upon a time", max_tokens: 8, temperature: 0 };

test("--api-key-file: every key in the file works (comments and blank lines skipped), nothing else does", async () => {
  const file = join(dir, "keys.txt");
  writeFileSync(file, "# team keys\nalpha-key\n\n  beta-key  \n");
  const server = await startHearth(["--model", defaultModel, "--threads", "1", "--api-key-file", file]);
  try {
    const auth = (key: string) => ({ headers: { "content-type": "application/json", authorization: `Bearer ${key}` } });
    expect((await postJson(`${server.url}/v1/completions`, completion, auth("alpha-key"))).status).toBe(200);
    expect((await postJson(`${server.url}/v1/completions`, completion, auth("beta-key"))).status).toBe(200);
    expect((await postJson(`${server.url}/v1/completions`, completion, auth("# team keys"))).status).toBe(401);
    expect((await postJson(`${server.url}/v1/completions`, completion)).status).toBe(401);
  } finally {
    await server.stop();
  }
});

test.each([
  ["an empty key file", "# nothing here\n\n", "holds no keys"],
  ["a missing key file", null, "cannot read --api-key-file"],
])("%s stops the start with a clear message (exit 2), never an open server", async (_, content, message) => {
  const file = join(dir, `keys-${Math.random()}.txt`);
  if (content !== null) writeFileSync(file, content);
  const proc = Bun.spawn([process.execPath, `${repoRoot}/src/cli.ts`, "serve", "--model", defaultModel, "--port", String(await freePort()), "--api-key-file", file], { stderr: "pipe", stdout: "ignore" });
  expect(await proc.exited).toBe(2);
  expect(await new Response(proc.stderr).text()).toContain(message);
});

test("--log-format json: every line is a JSON object; each request logs one line with id, model, tokens and timings", async () => {
  const port = await freePort();
  const proc = Bun.spawn([process.execPath, `${repoRoot}/src/cli.ts`, "serve", "--model", defaultModel, "--port", String(port), "--threads", "1", "--log-format", "json"], {
    env: { ...process.env, HEARTH_LOG_LEVEL: "info" },
    stderr: "pipe",
    stdout: "ignore",
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; i < 100; i++) {
      const ok = await fetch(`${url}/health`).then(r => r.json() as any, () => null);
      if (ok?.models?.some((m: any) => m.state === "loaded")) break;
      await Bun.sleep(100);
    }
    const res = await postJson(`${url}/v1/completions`, completion, { headers: { "content-type": "application/json", "x-request-id": "req-42" } });
    expect(res.status).toBe(200);
    await res.text();
    expect((await postJson(`${url}/v1/completions`, { ...completion, temperature: 7 })).status).toBe(400);
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
  const lines = (await new Response(proc.stderr).text()).split("\n").filter(l => l.trim());
  const parsed = lines.map(l => JSON.parse(l)); // throws on any line that is not JSON
  for (const p of parsed) expect(typeof p.time === "string" && typeof p.level === "string" && typeof p.msg === "string").toBe(true);
  const requests = parsed.filter(p => p.msg === "request" && p.path === "/v1/completions");
  expect(requests.length).toBe(2);
  expect(requests[0]).toMatchObject({ id: "req-42", method: "POST", status: 200, model: "stories260K", finish_reason: "length", completion_tokens: 8 });
  expect(requests[0].prompt_tokens).toBeGreaterThan(0);
  expect(typeof requests[0].ttft_ms).toBe("number");
  expect(requests[1]).toMatchObject({ status: 400 });
  expect(requests[1].error).toContain("temperature");
});

test("bound to 127.0.0.1: a rebinding Host and a foreign page's text/plain POST are refused (403); the bound address, localhost, --allowed-hosts names and curl-like clients are answered", async () => {
  const server = await startHearth(["--model", defaultModel, "--threads", "1", "--allowed-hosts", "llm.example"]);
  try {
    const post = (headers: Record<string, string>) =>
      fetch(`${server.url}/v1/completions`, { method: "POST", headers: { "content-type": "text/plain", ...headers }, body: JSON.stringify({ ...completion, max_tokens: 2 }) });
    const own = `127.0.0.1:${server.port}`;
    const rebound = await post({ host: `evil.example:${server.port}`, origin: `http://evil.example:${server.port}` });
    expect(rebound.status).toBe(403);
    expect(((await rebound.json()) as any).error.message).toContain("--allowed-hosts evil.example");
    expect((await fetch(`${server.url}/`, { headers: { host: "evil.example" } })).status).toBe(403);
    const foreign = await post({ origin: "http://evil.example" });
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as any).error.code).toBe("cross_origin_forbidden");
    const answered: Array<Record<string, string>> = [{}, { host: own, origin: `http://${own}` }, { host: `localhost:${server.port}` }, { host: "llm.example", origin: "https://llm.example" }];
    for (const headers of answered) {
      const res = await post(headers);
      expect({ headers, status: res.status }).toEqual({ headers, status: 200 });
      await res.text();
    }
  } finally {
    await server.stop();
  }
});

test("a malformed --allowed-hosts stops the start with a clear message (exit 2)", async () => {
  const proc = Bun.spawn([process.execPath, `${repoRoot}/src/cli.ts`, "serve", "--model", defaultModel, "--port", String(await freePort()), "--allowed-hosts", "ok.example,bad/name"], { stderr: "pipe", stdout: "ignore" });
  expect(await proc.exited).toBe(2);
  expect(await new Response(proc.stderr).text()).toContain("--allowed-hosts: 'bad/name' is not a host name");
});
