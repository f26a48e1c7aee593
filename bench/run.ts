// make bench — Hearth against llama.cpp's llama-server (same source, same settings), side by side.
//
//   bun bench/run.ts [--model PATH] [--runs 4] [--threads N] [--quick] [--only TEXT ...] [--skip-warmup]
//
// Without --model it benchmarks a random-weight Qwen2.5-0.5B-shaped Q4_0 model made by
// scripts/make-model.py. Each workload runs against each server `--runs` times; the report gives
// medians, the Hearth/llama-server ratio and the spread, in bench/results/latest.{json,md,svg}.
import { parseArgs } from "node:util";
import { basename, dirname, join, resolve } from "node:path";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { generatedModel } from "../test/helpers/models.ts";
import { childPids, startHearth, startLlamaServer, postJson, type Running } from "../test/helpers/server.ts";
import { fillerText, median, percentile, streamChat, type ChatMessage, type StreamResult } from "./load.ts";
import { writeReport, type WorkloadResult } from "./report.ts";
import { agentWorkloads, type AgentWorkload, type Restart } from "./agent-session.ts";

const { values } = parseArgs({
  options: {
    model: { type: "string" },
    runs: { type: "string", default: "4" },
    threads: { type: "string", default: String(navigator.hardwareConcurrency || 2) },
    quick: { type: "boolean", default: false },
    // The agent workloads prefill ~12k tokens per turn: their untimed warm-up run costs minutes and
    // warms little their timings depend on (turn 2 follows a restart or a swap), so it may be skipped.
    "skip-warmup": { type: "boolean", default: false },
    ctx: { type: "string", default: "24576" },
    // Workloads whose name contains this text; may be given more than once.
    only: { type: "string", multiple: true },
    out: { type: "string", default: "latest" },
  },
});
const runs = Number(values.runs);
const threads = values.threads!;
const quick = values.quick!;
const modelPath = values.model ? resolve(values.model) : await generatedModel("qwen2.5-0.5b-q4_0");
const modelId = basename(modelPath).replace(/\.gguf$/, "");
const CTX = Number(values.ctx);
const PARALLEL = 16;
const BATCH = 512;

// Each server maps its own fresh copy of the file, made the same way: with both servers up,
// shared page-cache pages would be split between them in PSS; and how a file sits in the page
// cache changes decode speed on this machine (measured: a file written long ago decoded at 35-49
// tok/s where a fresh copy of it decoded at 50-56, for Hearth and llama-server alike).
const copies = mkdtempSync(join(tmpdir(), "hearth-bench-"));
process.on("exit", () => rmSync(copies, { recursive: true, force: true }));
function freshCopy(server: string): string {
  const path = join(copies, server, basename(modelPath));
  mkdirSync(dirname(path));
  copyFileSync(modelPath, path);
  return path;
}
const hearthModelPath = freshCopy("hearth");
const llamaModelPath = freshCopy("llama-server");
// A second model for the model-swap workload: another copy under another name (its id differs).
const secondCopy = (server: string) => {
  const path = join(copies, server, `${modelId}-b.gguf`);
  copyFileSync(modelPath, path);
  return path;
};
let second: { hearth: string; llama: string } | null = null;
const secondModel = () => (second ??= { hearth: secondCopy("hearth"), llama: secondCopy("llama-server") });

// (The prompt cache lives with the model copies, removed at exit: nothing from an earlier run.)
const hearthCommon = ["--prompt-cache-dir", join(copies, "kv-cache"), "--threads", threads, "--ctx-size", String(CTX), "--parallel", String(PARALLEL), "--batch-size", String(BATCH), "--queue-size", "256"];
const hearthArgs = ["--model", hearthModelPath, ...hearthCommon];
const llamaCommon = ["-t", threads, "-c", String(CTX), "-np", String(PARALLEL), "-b", String(BATCH), "-kvu", "--no-webui"];
const llamaArgs = ["-m", llamaModelPath, ...llamaCommon];

/** A process and all its descendants (Hearth's runners are children of its HTTP process). */
function processTree(pid: number): number[] {
  const pids = [pid];
  for (let k = 0; k < pids.length; k++) pids.push(...childPids(pids[k]!));
  return pids;
}

/** Sums one "Name: N kB" field of a /proc file over a process tree, in MiB. */
function sumMiB(pid: number, file: string, field: RegExp): number {
  let kb = 0;
  for (const p of processTree(pid)) {
    const m = field.exec(readFileSync(`/proc/${p}/${file}`, "utf8"));
    if (m) kb += Number(m[1]);
  }
  return kb / 1024;
}

/** Peak resident memory of a process and its children, from VmHWM. */
const peakRssMiB = (pid: number) => sumMiB(pid, "status", /VmHWM:\s+(\d+)/);

/**
 * Proportional set size of a process and its children: pages shared between them (Hearth's two
 * Bun processes share the runtime's code) count once, where a sum of RSS counts them twice.
 * Read once, after a workload's runs: one read walks the page tables (~30 ms of kernel time for a
 * 1 GB server), which sampling during the runs would add to the timings.
 */
const pssMiB = (pid: number) => sumMiB(pid, "smaps_rollup", /^Pss:\s+(\d+)/m);

/** Tokens per filler word, measured once per server with its own tokenizer (a burst of /tokenize calls can make llama-server reset connections). */
const tokensPerWord = new Map<string, number>();
async function promptOfTokens(server: Running, tokens: number, seed: number): Promise<string> {
  if (!tokensPerWord.has(server.url)) {
    const probe = fillerText(2000, 7);
    // (`model`: a Hearth serving two models needs it; llama-server ignores it.)
    const res = await postJson(`${server.url}/tokenize`, { content: probe, model: modelId }, { headers: { "content-type": "application/json", connection: "close" } });
    const n = ((await res.json()) as any).tokens.length as number;
    tokensPerWord.set(server.url, n / 2000);
  }
  return fillerText(Math.max(1, Math.round(tokens / tokensPerWord.get(server.url)!)), seed);
}

interface Workload {
  name: string;
  /** Hearth's model flags when not just --model, and flags over the common ones (agent-session.ts). */
  hearthModels?: AgentWorkload["hearthModels"];
  overrides?: AgentWorkload["overrides"];
  /**
   * Both servers load the one model file given (--model, or the generated one) instead of each its
   * own fresh copy: what a user comparing the two servers on a downloaded model does.
   */
  sameFile?: boolean;
  /** `restart` starts the server again (agent-session.ts); other workloads ignore it. */
  run(server: Running, restart: Restart): Promise<{ results: StreamResult[]; wallMs: number; extra?: Record<string, number> }>;
}

async function concurrent(server: Running, conversations: ChatMessage[][], maxTokens: number) {
  const t0 = performance.now();
  const results = await Promise.all(conversations.map(messages => streamChat(server.url, modelId, messages, maxTokens)));
  return { results, wallMs: performance.now() - t0 };
}

/**
 * Requests one after another, each its own fresh prompt: a run's figures are their means, so one
 * request's luck (a prefill that the host slowed) weighs a third, not all, of a run's TTFT.
 */
async function oneAfterAnother(server: Running, prompts: string[], maxTokens: number) {
  const results: Awaited<ReturnType<typeof streamChat>>[] = [];
  let wallMs = 0;
  for (const prompt of prompts) {
    const { results: [r], wallMs: ms } = await concurrent(server, [[{ role: "user", content: prompt }]], maxTokens);
    results.push(r!);
    wallMs += ms;
  }
  return { results, wallMs };
}

const OUT = quick ? 32 : 128;
const SINGLE_REQUESTS = quick ? 1 : 3;
const singlePrompts = async (server: Running) => {
  const seed = Math.floor(Math.random() * 1e6);
  return Promise.all(Array.from({ length: SINGLE_REQUESTS }, (_, i) => promptOfTokens(server, 512, seed + 1000 * i)));
};
const workloads: Workload[] = [
  {
    name: `single stream: 512-token prompt, ${OUT} out${SINGLE_REQUESTS > 1 ? `, ${SINGLE_REQUESTS} requests one after another` : ""}`,
    async run(server) {
      return oneAfterAnother(server, await singlePrompts(server), OUT);
    },
  },
  {
    // The same workload with both servers on one model file (see "Model files" in bench/README.md).
    name: `single stream, both servers on the same model file: 512-token prompt, ${OUT} out${SINGLE_REQUESTS > 1 ? `, ${SINGLE_REQUESTS} requests one after another` : ""}`,
    sameFile: true,
    async run(server) {
      return oneAfterAnother(server, await singlePrompts(server), OUT);
    },
  },
  ...[4, 16].map(n => ({
    name: `${n} concurrent streams: 128-token prompts, ${OUT} out`,
    async run(server: Running) {
      const base = Math.floor(Math.random() * 1e6);
      const prompts = await Promise.all(Array.from({ length: n }, (_, i) => promptOfTokens(server, 128, base + i)));
      return concurrent(server, prompts.map(p => [{ role: "user" as const, content: p }]), OUT);
    },
  })),
  {
    name: "shared system prompt: 16 requests, same 1,000-token system prompt, 32-token questions, 32 out",
    async run(server) {
      const seed = Math.floor(Math.random() * 1e6);
      const system = await promptOfTokens(server, 1000, seed);
      const questions = await Promise.all(Array.from({ length: 16 }, (_, i) => promptOfTokens(server, 32, seed + 100 + i)));
      return concurrent(server, questions.map(q => [{ role: "system" as const, content: system }, { role: "user" as const, content: q }]), 32);
    },
  },
  {
    name: "multi-turn chat: 8 turns (1,000-token first message, then 32-token questions), each resending the whole history, 32 out",
    async run(server) {
      const seed = Math.floor(Math.random() * 1e6);
      const history: ChatMessage[] = [{ role: "system", content: "You are a helpful assistant." }];
      const results: StreamResult[] = [];
      const t0 = performance.now();
      for (let turn = 0; turn < 8; turn++) {
        // Turn 1 brings a document to talk about; later turns only ask short questions, so only the
        // new tokens need a prefill when the earlier turns' KV is reused.
        history.push({ role: "user", content: await promptOfTokens(server, turn === 0 ? 1000 : 32, seed + turn) });
        const r = await streamChat(server.url, modelId, history, 32);
        history.push({ role: "assistant", content: r.text });
        results.push(r);
      }
      const later = results.slice(1).map(r => r.ttftMs);
      return {
        results,
        wallMs: performance.now() - t0,
        extra: { turn1_ttft_ms: results[0]!.ttftMs, later_turns_ttft_ms: later.reduce((a, b) => a + b, 0) / later.length },
      };
    },
  },
  {
    name: "/health latency under 8 concurrent generations",
    async run(server) {
      const base = Math.floor(Math.random() * 1e6);
      const prompts = await Promise.all(Array.from({ length: 8 }, (_, i) => promptOfTokens(server, 256, base + i)));
      let done = false;
      const latencies: number[] = [];
      const poll = (async () => {
        while (!done) {
          const t = performance.now();
          await fetch(`${server.url}/health`, { headers: { connection: "close" } }).then(r => r.arrayBuffer());
          latencies.push(performance.now() - t);
          await Bun.sleep(10);
        }
      })();
      const load = await concurrent(server, prompts.map(p => [{ role: "user" as const, content: p }]), OUT);
      done = true;
      await poll;
      return { ...load, extra: { health_p50_ms: percentile(latencies, 50), health_p99_ms: percentile(latencies, 99), health_samples: latencies.length } };
    },
  },
];

// The prompt cache's files live with the model copies (removed at exit); each run draws new prompts.
workloads.push(...agentWorkloads({ a: modelId, b: `${modelId}-b` }, promptOfTokens, join(copies, "kv-cache")));

function summarize(results: StreamResult[], wallMs: number) {
  const tokens = results.reduce((n, r) => n + r.tokens, 0);
  const ttfts = results.map(r => r.ttftMs);
  const perToken = results.flatMap(r => (r.serverPerTokenMs ? [r.serverPerTokenMs] : []));
  const clientPerToken = results.map(r => (r.decodeTps > 0 ? 1000 / r.decodeTps : NaN)).filter(Number.isFinite);
  return {
    ttft_mean_ms: ttfts.reduce((a, b) => a + b, 0) / ttfts.length,
    ttft_p50_ms: percentile(ttfts, 50),
    ttft_p95_ms: percentile(ttfts, 95),
    decode_tps_per_stream: median(results.map(r => r.decodeTps)),
    aggregate_tps: (tokens * 1000) / wallMs,
    // Client-seen time per token minus the engine's own: what HTTP, SSE and TypeScript add.
    overhead_per_token_ms: perToken.length ? median(clientPerToken) - median(perToken) : NaN,
    failed_requests: results.filter(r => r.failed).length,
  };
}

/**
 * One workload against freshly started servers: what earlier workloads left in the caches (which
 * differs between servers, e.g. when one failed requests the other served) never colours the next
 * workload. Both servers stay up and take turns run by run, so a slow spell of the machine (this
 * one's speed drifts by 10–20% within a minute) lands on both; an idle server takes no CPU.
 */
async function benchWorkload(w: Workload): Promise<WorkloadResult> {
  const hearthStart = w.hearthModels
    ? [...w.hearthModels(hearthModelPath, secondModel().hearth), ...hearthCommon, ...(w.overrides?.hearth ?? [])]
    : w.sameFile ? ["--model", modelPath, ...hearthCommon] : hearthArgs;
  const llamaExtra = w.overrides?.llamaServer ?? [];
  const llamaStart = w.sameFile ? ["-m", modelPath, ...llamaCommon] : llamaArgs;
  const servers = { hearth: await startHearth(hearthStart), "llama-server": await startLlamaServer([...llamaStart, ...llamaExtra]) };
  // Hearth restarts with the same flags, and swaps models by itself (a request names the model);
  // llama-server serves one model, so a swap is a restart with the other one.
  const restarts: Record<keyof typeof servers, Restart> = {
    hearth: async swapTo => {
      if (swapTo) {
        const res = await postJson(`${servers.hearth.url}/models/load`, { model: swapTo === "b" ? `${modelId}-b` : modelId });
        if (!res.ok) throw new Error(`/models/load: HTTP ${res.status}: ${await res.text()}`);
        return servers.hearth;
      }
      await servers.hearth.stop();
      return (servers.hearth = await startHearth(hearthStart));
    },
    "llama-server": async swapTo => {
      await servers["llama-server"].stop();
      const model = swapTo === "b" ? secondModel().llama : llamaModelPath;
      return (servers["llama-server"] = await startLlamaServer(["-m", model, ...llamaCommon, ...llamaExtra]));
    },
  };
  const rows: Record<keyof typeof servers, Array<Record<string, number>>> = { hearth: [], "llama-server": [] };
  try {
    // One untimed run of the workload itself on each server first, so the timed runs measure the
    // steady state: Bun's JIT compiles Hearth's hot paths during its first runs (measured on one
    // stream: 170 and 114 ms of compiling in runs 1 and 2, then 2-30 ms per run), and llama-server
    // has warmed up by a decode at load. Every run draws fresh prompts, so the warm-up leaves
    // nothing for the timed runs but what each run leaves for the next.
    if (!values["skip-warmup"]) for (const name of Object.keys(servers) as Array<keyof typeof servers>) await w.run(servers[name], restarts[name]);
    for (let r = 0; r < runs; r++) {
      // Who goes first alternates (Hearth, llama-server, llama-server, Hearth, …): a drift of the
      // machine's speed within a pair then favours neither.
      const order = Object.entries(servers) as Array<[keyof typeof servers, Running]>;
      if (r % 2 === 1) order.reverse();
      for (const [name] of order) {
        const { results, wallMs, extra } = await w.run(servers[name], restarts[name]);
        const row = { ...summarize(results, wallMs), ...extra };
        rows[name].push(row);
        console.error(`${name.padEnd(12)} ${w.name} run ${r + 1}: ${JSON.stringify(row, (_, v) => (typeof v === "number" ? Math.round(v * 10) / 10 : v))}`);
      }
    }
    for (const [name, server] of Object.entries(servers) as Array<[keyof typeof servers, Running]>) {
      const memory = { peak_rss_mib: peakRssMiB(server.proc.pid), pss_mib: pssMiB(server.proc.pid) };
      for (const row of rows[name]) Object.assign(row, memory);
    }
  } finally {
    await Promise.all(Object.values(servers).map(s => s.stop()));
  }
  return { name: w.name, hearth: rows.hearth, llamaServer: rows["llama-server"] };
}

const only = values.only ?? [];
if (only.length > 0) workloads.splice(0, workloads.length, ...workloads.filter(w => only.some(text => w.name.includes(text))));
const results: WorkloadResult[] = [];
for (const w of workloads) results.push(await benchWorkload(w));
const cpu = (readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/) ?? [])[1] ?? "unknown CPU";
writeReport(results, {
  date: new Date().toISOString(),
  machine: `${cpu}, ${navigator.hardwareConcurrency} cores, threads=${threads}`,
  model: modelId,
  settings: { ctx: CTX, parallel: PARALLEL, batch: BATCH, runs, quick },
}, values.out!);
