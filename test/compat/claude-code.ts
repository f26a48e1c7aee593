// make agents: Claude Code itself (@anthropic-ai/claude-code, pinned in the Makefile, installed in
// .tools/agents) against Hearth serving a tiny random-weight Qwen2.5-shaped model with a 64k
// context, inside a network namespace that has only loopback (unshare -n): nothing can leave the
// machine, and Claude Code's non-essential traffic is off besides.
//
//   1. `claude -p "Say hi"` exits 0 with text, or — the random model never stops by itself — ends
//      with Claude Code's own "exceeded the N output token maximum" (a clean max_tokens stop);
//   2. `claude -p --continue --output-format json "…"` reports at least 90% of its prompt as
//      cache_read_input_tokens in its usage.
//
//   bun test/compat/claude-code.ts [--llama-server]   (--llama-server: the same run against
//                                                      llama-server, for comparison)
// Not picked up by `bun test` (bunfig root ./test runs *.test.ts only).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, resolve } from "node:path";
import { refBin, repoRoot } from "../helpers/paths.ts";
import { compatModel, template, tinyQwenArgs } from "./models.ts";

const CLAUDE = process.env.CLAUDE_CODE ?? resolve(repoRoot, ".tools/agents/node_modules/.bin/claude");
const MAX_OUTPUT = "64";
const CTX = "65536";
const THREADS = process.env.AGENTS_THREADS ?? "2";
const TURN_TIMEOUT_MS = 300_000;
const LOG_DIR = resolve(repoRoot, "test/.cache/agents");
const useLlamaServer = process.argv.includes("--llama-server");

// ---- outside: re-run this script in a namespace of its own with only loopback --------------------
if (!process.argv.includes("--inside")) {
  const version = Bun.spawnSync([CLAUDE, "--version"], { stdout: "pipe", stderr: "pipe" });
  if (!version.success) {
    console.error(`no Claude Code at ${CLAUDE}: \`make agents\` installs it (or set CLAUDE_CODE=/path/to/claude)`);
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

const claudeVersion = Bun.spawnSync([CLAUDE, "--version"], { stdout: "pipe" }).stdout.toString().trim();
const model = await compatModel("tiny-qwen2.5-64k", tinyQwenArgs(template("Qwen-Qwen2.5-7B-Instruct"), 65536));
const id = basename(model, ".gguf");
mkdirSync(LOG_DIR, { recursive: true });
const port = 18400 + Math.floor(Math.random() * 1000); // the namespace is ours alone: any port is free
const base = `http://127.0.0.1:${port}`;
const serverName = useLlamaServer ? "llama-server" : "Hearth";
const serverCmd = useLlamaServer
  ? [refBin("llama-server"), "--host", "127.0.0.1", "--port", String(port), "-m", model, "-c", CTX, "-t", THREADS, "--jinja"]
  : [process.execPath, resolve(repoRoot, "src/cli.ts"), "serve", "--port", String(port), "--model", model, "-c", CTX,
    "-t", THREADS, "--alias", `claude-*=${id}`, "--log-format", "json"];
const server = Bun.spawn(serverCmd, { cwd: repoRoot, stdout: "pipe", stderr: "pipe" });
let serverLog = "";
const drain = async (s: ReadableStream<Uint8Array>) => {
  const reader = s.getReader();
  const dec = new TextDecoder();
  for (let r = await reader.read(); !r.done; r = await reader.read()) serverLog += dec.decode(r.value, { stream: true });
};
const drained = Promise.all([drain(server.stdout), drain(server.stderr)]);

interface Turn {
  code: number | null;
  out: string;
  err: string;
  seconds: number;
}

let failed = false;
const check = (ok: boolean, what: string) => {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failed = true;
};

const home = mkdtempSync(resolve(tmpdir(), "hearth-agents-"));
try {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`${serverName} exited with ${server.exitCode}:\n${serverLog}`);
    const ready = await fetch(`${base}/health`).then(r => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`${serverName} not ready in 60 s`);
    await Bun.sleep(200);
  }

  const project = resolve(home, "project");
  mkdirSync(project);
  // A fresh HOME: no earlier settings or sessions; --continue finds the first turn's session.
  const env = {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    HOME: home,
    TERM: "dumb",
    ANTHROPIC_BASE_URL: base,
    ANTHROPIC_AUTH_TOKEN: "local",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    CLAUDE_CODE_MAX_OUTPUT_TOKENS: MAX_OUTPUT,
  };
  const turn = async (args: string[]): Promise<Turn> => {
    const t0 = performance.now();
    const p = Bun.spawn([CLAUDE, ...args], { cwd: project, env, stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: TURN_TIMEOUT_MS });
    const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
    await p.exited;
    return { code: p.exitCode, out, err, seconds: (performance.now() - t0) / 1000 };
  };
  const maxTokensStop = new RegExp(`exceeded the ${MAX_OUTPUT} output token maximum`);

  console.log(`Claude Code ${claudeVersion} → ${serverName} (${basename(model)}, -c ${CTX}), loopback only`);
  const first = await turn(["-p", "Say hi"]);
  writeFileSync(resolve(LOG_DIR, "turn1.txt"), `exit ${first.code}\n--- stdout\n${first.out}\n--- stderr\n${first.err}`);
  console.log(`turn 1: exit ${first.code} in ${first.seconds.toFixed(1)} s: ${first.out.trim().slice(0, 160)}`);
  check((first.code === 0 && first.out.trim() !== "") || maxTokensStop.test(first.out + first.err),
    "`claude -p \"Say hi\"` exits 0 with text, or stops at the output token maximum");

  const second = await turn(["-p", "--continue", "--output-format", "json", "Say hi again"]);
  writeFileSync(resolve(LOG_DIR, "turn2.json"), `exit ${second.code}\n--- stdout\n${second.out}\n--- stderr\n${second.err}`);
  let result: any;
  try {
    result = JSON.parse(second.out);
  } catch {
    result = undefined;
  }
  const usage = result?.usage ?? {};
  const input = usage.input_tokens ?? 0;
  const read = usage.cache_read_input_tokens ?? 0;
  const created = usage.cache_creation_input_tokens ?? 0;
  const share = read / Math.max(1, input + read + created);
  console.log(`turn 2: exit ${second.code} in ${second.seconds.toFixed(1)} s: ${String(result?.result ?? second.out).trim().slice(0, 160)}`);
  console.log(`turn 2 usage: input_tokens ${input}, cache_read_input_tokens ${read}, cache_creation_input_tokens ${created}` +
    `, summed over the turn's API requests: ${(share * 100).toFixed(1)}% of the prompt read from the cache`);
  check(result !== undefined && (second.code === 0 || maxTokensStop.test(String(result.result))),
    "`claude -p --continue --output-format json` answers JSON (exit 0, or the output token maximum)");
  check(share >= 0.9, "at least 90% of the second turn's prompt is cache_read_input_tokens");

  // Hearth's own log: each request's prompt and the part of it reused from the KV cache.
  if (!useLlamaServer) {
    await Bun.sleep(100);
    const requests = serverLog.split("\n").filter(l => l.startsWith("{")).map(l => JSON.parse(l))
      .filter(j => j.msg === "request" && String(j.path).startsWith("/v1/messages"));
    for (const [i, r] of requests.entries()) {
      console.log(`  request ${i + 1}: ${r.status} prompt ${r.prompt_tokens} tokens, ${r.cached_tokens} from cache` +
        ` (${((100 * r.cached_tokens) / Math.max(1, r.prompt_tokens)).toFixed(1)}%), ${r.completion_tokens} out (${r.finish_reason}),` +
        ` first token ${r.ttft_ms} ms, ${r.ms} ms`);
    }
  }
} finally {
  server.kill("SIGTERM");
  await Promise.race([server.exited, Bun.sleep(10_000)]);
  if (server.exitCode === null) server.kill("SIGKILL");
  await Promise.race([drained, Bun.sleep(1000)]);
  writeFileSync(resolve(LOG_DIR, `${useLlamaServer ? "llama-server" : "hearth"}.log`), serverLog);
  rmSync(home, { recursive: true, force: true });
}
console.log(failed ? "agents: FAILED (logs in test/.cache/agents)" : "agents: Claude Code works against " + serverName);
process.exit(failed ? 1 : 0);
