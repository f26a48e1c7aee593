// make agents: Codex CLI itself (@openai/codex, pinned in the Makefile, installed in .tools/agents)
// against Hearth serving tiny random-weight models with a 64k context and `-n 32` (Codex sends no
// max_output_tokens, and a random model never stops by itself) — one Qwen2.5-shaped, one
// gpt-oss-shaped (gpt-oss's template and harmony tokens: the model Codex users run most) — inside
// a network namespace that has only loopback (unshare -n): nothing can leave the machine. For each:
//
//   1. `codex exec "Say hi"` through a custom provider (`wire_api = "responses"`) exits 0 and prints
//      the answer: what it prints equals the last message it reports (--output-last-message);
//   2. `codex exec resume --last "Say hi again"` does the same, and Hearth reads at least 90% of
//      its prompt (the whole first turn, sent back) from the KV cache;
//   every /v1/responses request Codex sent was answered 200. Then:
//   3. a namespaced call round trip: Hearth's own app over a scripted model (a fake engine whose
//      first answer is a call to Codex's namespace function multi_agent_v1.close_agent in the
//      template's tool-call format, the second "Closed.") — Codex reads the call Hearth returns
//      (`function_call` with `namespace`), runs the tool and sends the call and its output back
//      in the next request, then prints "Closed.".
//
//   bun test/compat/codex.ts [--llama-server]   (--llama-server: the same run against llama-server)
// Each request body Codex sent is written to test/.cache/agents/codex-requests.jsonl (through a
// loopback proxy in front of the server), so docs/responses.md can say what Codex sends.
// Not picked up by `bun test` (bunfig root ./test runs *.test.ts only).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, resolve } from "node:path";
import { createApp } from "../../src/api/app.ts";
import type { GenerateRequest } from "../../src/engine/types.ts";
import { FakeEngine, FakeModels } from "../helpers/fake-engine.ts";
import { refBin, repoRoot } from "../helpers/paths.ts";
import { compatModel, template, tinyGptOssArgs, tinyQwenArgs } from "./models.ts";

const CODEX = process.env.CODEX ?? resolve(repoRoot, ".tools/agents/node_modules/.bin/codex");
const N_PREDICT = "32";
const CTX = "65536";
const THREADS = process.env.AGENTS_THREADS ?? "2";
const TURN_TIMEOUT_MS = 300_000;
const LOG_DIR = resolve(repoRoot, "test/.cache/agents");
const useLlamaServer = process.argv.includes("--llama-server");

// ---- outside: re-run this script in a namespace of its own with only loopback --------------------
if (!process.argv.includes("--inside")) {
  const version = Bun.spawnSync([CODEX, "--version"], { stdout: "pipe", stderr: "pipe" });
  if (!version.success) {
    console.error(`no Codex CLI at ${CODEX}: \`make agents\` installs it (or set CODEX=/path/to/codex)`);
    process.exit(2);
  }
  // As root a plain new network namespace; otherwise a user namespace maps us to root in it.
  const unshare = process.getuid?.() === 0 ? ["unshare", "-n"] : ["unshare", "-r", "-n"];
  const run = Bun.spawnSync([...unshare, process.execPath, import.meta.path, "--inside", ...process.argv.slice(2)], {
    stdio: ["inherit", "inherit", "inherit"],
  });
  process.exit(run.exitCode ?? 1);
}

// ---- inside -------------------------------------------------------------------------------------
function sh(cmd: string[]): string {
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  if (!r.success) throw new Error(`${cmd.join(" ")}: ${r.stderr.toString().trim()}`);
  return r.stdout.toString();
}
sh(["ip", "link", "set", "lo", "up"]);
// Asked over netlink, which answers for this namespace (/sys/class/net shows the host's).
const links = [...sh(["ip", "-o", "link", "show"]).matchAll(/^\d+: ([^:@]+)/gm)].map(m => m[1]);
if (links.join() !== "lo") throw new Error(`expected a namespace with loopback only, found: ${links.join(", ")}`);

const codexVersion = Bun.spawnSync([CODEX, "--version"], { stdout: "pipe" }).stdout.toString().trim();
const models = [
  await compatModel("tiny-qwen2.5-64k", tinyQwenArgs(template("Qwen-Qwen2.5-7B-Instruct"), 65536)),
  await compatModel("tiny-gpt-oss-64k", tinyGptOssArgs(65536)),
];
mkdirSync(LOG_DIR, { recursive: true });
const serverName = useLlamaServer ? "llama-server" : "Hearth";

// A recording proxy: Codex talks to it, it passes each request on unchanged to `upstreamBase` and
// streams the answer back, keeping the method, path, headers that matter and body of what Codex sent.
let upstreamBase = "";
const requestsFile = resolve(LOG_DIR, "codex-requests.jsonl");
writeFileSync(requestsFile, "");
const recorded = () => readFileSync(requestsFile, "utf8").split("\n").filter(Boolean).map(l => JSON.parse(l));
const proxy = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  idleTimeout: 0,
  async fetch(req) {
    const url = new URL(req.url);
    const body = req.method === "GET" || req.method === "HEAD" ? undefined : await req.text();
    const headers = Object.fromEntries(["accept", "authorization", "content-type", "originator", "user-agent"]
      .filter(h => req.headers.has(h)).map(h => [h, req.headers.get(h)]));
    let json: unknown = body;
    try {
      json = body ? JSON.parse(body) : undefined;
    } catch {}
    const upstream = await fetch(upstreamBase + url.pathname + url.search, { method: req.method, headers: req.headers, body });
    writeFileSync(requestsFile, JSON.stringify({ method: req.method, path: url.pathname, status: upstream.status, headers, body: json }) + "\n", { flag: "a" });
    return new Response(upstream.body, { status: upstream.status, headers: upstream.headers });
  },
});

/** A fake engine that answers each request with the next script entry (the last one repeats). */
class ScriptedEngine extends FakeEngine {
  constructor(private readonly script: string[][]) {
    super(script[0]);
  }
  override generate(request: GenerateRequest, signal?: AbortSignal) {
    this.pieces = this.script[Math.min(this.requests.length, this.script.length - 1)]!;
    return super.generate(request, signal);
  }
}

/** The fake model with a context for Codex's prompt in the fake engine's one-token-per-byte tokenizer. */
class WideModels extends FakeModels {
  override async acquire(name?: string | null) {
    const model = await super.acquire(name);
    return { ...model, info: { ...model.info, nCtx: 1 << 20, nCtxTrain: 1 << 20 } };
  }
}

let failed = false;
const check = (ok: boolean, what: string) => {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failed = true;
};

const home = mkdtempSync(resolve(tmpdir(), "hearth-codex-"));
const project = resolve(home, "project");
mkdirSync(project);
const lastMessage = resolve(home, "last-message.txt");
let turns = 0;

/** A fresh CODEX_HOME whose provider (the recipe of docs/responses.md) reaches the proxy, for `model`. */
function codexHome(model: string): string {
  const dir = mkdtempSync(resolve(home, "codex-"));
  // No retries: a refused request fails the run at once instead of after Codex's back-off (the
  // issue's "retries until it gives up").
  writeFileSync(resolve(dir, "config.toml"), [
    `model = "${model}"`,
    `model_provider = "hearth"`,
    ``,
    `[model_providers.hearth]`,
    `name = "Hearth"`,
    `base_url = "http://127.0.0.1:${proxy.port}/v1"`,
    `wire_api = "responses"`,
    `env_key = "HEARTH_API_KEY"`,
    `request_max_retries = 0`,
    `stream_max_retries = 0`,
    ``,
  ].join("\n"));
  return dir;
}

/** One `codex exec` run: it must exit 0 and print what it reports as its last message. */
async function turn(codexDir: string, args: string[]): Promise<void> {
  const n = ++turns;
  rmSync(lastMessage, { force: true });
  const env = { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: home, CODEX_HOME: codexDir, TERM: "dumb", HEARTH_API_KEY: "local" };
  const t0 = performance.now();
  const p = Bun.spawn([CODEX, "exec", "--skip-git-repo-check", "--output-last-message", lastMessage, ...args], {
    cwd: project, env, stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: TURN_TIMEOUT_MS,
  });
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  await p.exited;
  const seconds = (performance.now() - t0) / 1000;
  writeFileSync(resolve(LOG_DIR, `codex-turn${n}.txt`), `exit ${p.exitCode}\n--- stdout\n${out}\n--- stderr\n${err}`);
  const answer = existsSync(lastMessage) ? readFileSync(lastMessage, "utf8") : "";
  console.log(`turn ${n}: codex exec ${args.map(a => JSON.stringify(a)).join(" ")}: exit ${p.exitCode} in ${seconds.toFixed(1)} s: ` +
    JSON.stringify(out.trim().slice(0, 160)));
  check(p.exitCode === 0, `turn ${n} exits 0`);
  check(answer.trim() !== "" && out.trim() === answer.trim(), `turn ${n} prints the answer (stdout = its last message, not empty)`);
}

/** Turns 1 and 2 against the server serving `model`. */
async function againstServer(model: string): Promise<void> {
  const id = basename(model, ".gguf");
  const port = 18400 + Math.floor(Math.random() * 1000); // the namespace is ours alone: any port is free
  const base = `http://127.0.0.1:${port}`;
  const cmd = useLlamaServer
    ? [refBin("llama-server"), "--host", "127.0.0.1", "--port", String(port), "-m", model, "-c", CTX, "-t", THREADS, "-n", N_PREDICT, "--jinja"]
    : [process.execPath, resolve(repoRoot, "src/cli.ts"), "serve", "--port", String(port), "--model", model, "-c", CTX,
      "-t", THREADS, "-n", N_PREDICT, "--log-format", "json"];
  const server = Bun.spawn(cmd, { cwd: repoRoot, stdout: "pipe", stderr: "pipe" });
  let log = "";
  const drain = async (s: ReadableStream<Uint8Array>) => {
    const reader = s.getReader();
    const dec = new TextDecoder();
    for (let r = await reader.read(); !r.done; r = await reader.read()) log += dec.decode(r.value, { stream: true });
  };
  const drained = Promise.all([drain(server.stdout), drain(server.stderr)]);
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (server.exitCode !== null) throw new Error(`${serverName} exited with ${server.exitCode}:\n${log}`);
      if (await fetch(`${base}/health`).then(r => r.ok, () => false)) break;
      if (Date.now() > deadline) throw new Error(`${serverName} not ready in 60 s`);
      await Bun.sleep(200);
    }
    upstreamBase = base;
    const dir = codexHome(id);
    const before = recorded().length;
    console.log(`Codex ${codexVersion} → ${serverName} (${basename(model)}, -c ${CTX}, -n ${N_PREDICT}), loopback only`);
    await turn(dir, ["Say hi"]);
    // The same session again: Codex sends the whole conversation back (store: false), its first
    // answer included, so the prompt starts with the first turn's and its KV cache is reused.
    await turn(dir, ["resume", "--last", "Say hi again"]);
    const sent = recorded().slice(before);
    for (const [i, r] of sent.entries()) console.log(`  request ${i + 1}: ${r.method} ${r.path} → ${r.status}`);
    check(sent.length >= 2 && sent.every(r => r.path === "/v1/responses" && r.status === 200), "every request Codex sent was a POST /v1/responses answered 200");
    // Hearth's own log: each request's prompt and the part of it reused from the KV cache.
    if (!useLlamaServer) {
      await Bun.sleep(100);
      const logged = log.split("\n").filter(l => l.startsWith("{")).map(l => JSON.parse(l))
        .filter(j => j.msg === "request" && String(j.path).startsWith("/v1/responses"));
      for (const r of logged) {
        console.log(`  hearth: ${r.status} prompt ${r.prompt_tokens} tokens, ${r.cached_tokens} from cache, ${r.completion_tokens} out` +
          ` (${r.finish_reason}), first token ${r.ttft_ms} ms, ${r.ms} ms`);
      }
      const last = logged.at(-1);
      check(logged.length >= 2 && last.cached_tokens >= 0.9 * last.prompt_tokens, "the resumed turn's prompt is at least 90% read from the KV cache");
    }
  } finally {
    server.kill("SIGTERM");
    await Promise.race([server.exited, Bun.sleep(10_000)]);
    if (server.exitCode === null) server.kill("SIGKILL");
    await Promise.race([drained, Bun.sleep(1000)]);
    writeFileSync(resolve(LOG_DIR, `codex-${useLlamaServer ? "llama-server" : "hearth"}-${id}.log`), log);
  }
}

/**
 * A namespaced call round trip, the model scripted: Hearth's own app in this process (llama-server
 * drops namespace tools, so it has no such turn).
 */
async function namespacedRoundTrip(): Promise<void> {
  const id = basename(models[0]!, ".gguf");
  const scripted = new ScriptedEngine([
    ['<tool_call>\n{"name": "multi_agent_v1__close_agent", "arguments": {"target": "agent-1"}}\n</tool_call>'],
    ["Closed."],
  ]);
  const app = createApp(new WideModels(scripted, id, undefined, await Bun.file(template("Qwen-Qwen2.5-7B-Instruct")).text()), { apiKeys: [], cors: null, maxBodyBytes: 1 << 24 });
  const appServer = Bun.serve({ hostname: "127.0.0.1", port: 0, idleTimeout: 0, fetch: req => app.handle(req) });
  upstreamBase = `http://127.0.0.1:${appServer.port}`;
  const before = recorded().length;
  console.log("Codex → Hearth's app over a scripted model: a call to the namespace function multi_agent_v1.close_agent");
  try {
    await turn(codexHome(id), ["Close agent-1"]);
  } finally {
    appServer.stop(true);
  }
  const round = recorded().slice(before);
  const items: any[] = round[1]?.body?.input ?? [];
  const call = items.find(i => i.type === "function_call");
  const output = items.find(i => i.type === "function_call_output");
  console.log(`  sent back: ${JSON.stringify(call)} / ${JSON.stringify(output)?.slice(0, 200)}`);
  check(round.length === 2 && round.every(r => r.status === 200), "two /v1/responses requests, both 200");
  check(call?.namespace === "multi_agent_v1" && call?.name === "close_agent" && JSON.parse(call?.arguments ?? "null")?.target === "agent-1",
    "Codex took Hearth's namespaced call (function_call with namespace multi_agent_v1, name close_agent) and sent it back");
  check(output !== undefined && output.call_id === call?.call_id, "…with the tool's output for the same call_id");
  const lastAnswer = existsSync(lastMessage) ? readFileSync(lastMessage, "utf8").trim() : "";
  check(lastAnswer === "Closed.", "it prints the scripted model's second answer");
}

try {
  for (const model of models) await againstServer(model);
  if (!useLlamaServer) await namespacedRoundTrip();
} finally {
  proxy.stop(true);
  rmSync(home, { recursive: true, force: true });
}
console.log(failed ? "agents: FAILED (logs in test/.cache/agents)" : "agents: Codex works against " + serverName);
process.exit(failed ? 1 : 0);
