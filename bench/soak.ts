// Soak test (`make soak`, not in CI): many concurrent streams for a long run, with clients that
// disconnect at random points. It passes when every request that ran to its end is error-free,
// no slot or queue entry is left behind, and memory stays flat after a warm-up. Prints its report;
// exits 1 when a check fails.
//
// Memory is judged after a warm-up (1,000 requests), from what a leak raises: each process's live
// memory at rest after a full collection (soak-probe.ts), and RSS at rest. The check it replaced,
// the RSS floor of requests 200–400 against 800–1,000, failed at 5.6–9.4% with no leak: measured
// over 10,000 requests, the floor climbs ~20 MiB in the first 500–1,000 (both processes), the
// runner's a few MiB more until ~3,500 (llama.cpp's KV cache and compute buffer pages touched for
// the first time: one glibc mmap region, its RSS 10.8 → 14.6 MiB), then neither rises; the live
// JS heaps shrink (server 9.4 → 6.7 MiB) and the runner's malloc stays at 44.5 MiB ±0.1.
// Default run: ~45 s on the idle 2-core machine, 4–7 min with another benchmark on its cores.
//
//   bun bench/soak.ts [--model PATH] [--concurrency 64] [--warmup 1000] [--requests 3000] [--round 500]
//                     [--disconnect 0.3] [--seed N]
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { childPids, startHearth } from "../test/helpers/server.ts";

const { values } = parseArgs({
  options: {
    model: { type: "string", default: resolve(import.meta.dir, "../models/stories260K.gguf") },
    concurrency: { type: "string", default: "64" },
    warmup: { type: "string", default: "1000" },
    requests: { type: "string", default: "3000" },
    round: { type: "string", default: "500" },
    disconnect: { type: "string", default: "0.3" },
    seed: { type: "string", default: "1" },
    threads: { type: "string", default: "2" },
  },
});
const concurrency = Number(values.concurrency);
const warmup = Number(values.warmup);
const total = Number(values.requests);
const roundSize = Number(values.round);
const disconnectShare = Number(values.disconnect);
const modelId = basename(values.model!, ".gguf");

// A small deterministic generator, so a failing run can be replayed with the same --seed.
let state = Number(values.seed) >>> 0 || 1;
const random = () => ((state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32);

/** Resident memory of one process, in bytes. */
function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find(l => l.startsWith("VmRSS:"));
  return Number(line?.match(/(\d+)/)?.[1] ?? 0) * 1024;
}

// The server and its runner load bench/soak-probe.ts, which reports their live memory on request.
const probeDir = mkdtempSync(join(tmpdir(), "hearth-soak-"));
const server = await startHearth(
  ["--model", values.model!, "--threads", values.threads!, "--parallel", String(concurrency), "--ctx-size", String(concurrency * 160), "--queue-size", String(concurrency * 4)],
  { BUN_OPTIONS: `${process.env.BUN_OPTIONS ?? ""} --preload ${resolve(import.meta.dir, "soak-probe.ts")}`.trim(), HEARTH_SOAK_PROBE: probeDir },
);
// However the run ends (a failed check, an exception, Ctrl-C or a timeout's SIGTERM), the server
// and its runners go with it.
process.on("exit", () => {
  if (server.proc.exitCode === null) server.proc.kill("SIGTERM");
  rmSync(probeDir, { recursive: true, force: true });
});
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(130));
const url = server.url;
const serverPid = server.proc.pid!;
const runnerPids = childPids(serverPid);

interface Live {
  heapBytes: number;
  objects: number;
  mallocBytes: number;
  types: Record<string, number>;
}
let asks = 0;
/** Live memory of the server and of each runner, each after a full collection (soak-probe.ts). */
async function live(): Promise<{ server: Live; runners: Live[] }> {
  const n = ++asks;
  writeFileSync(join(probeDir, "ask"), String(n));
  const read = async (pid: number): Promise<Live> => {
    const path = join(probeDir, `${pid}-${n}.json`);
    for (let i = 0; i < 100 && !existsSync(path); i++) await Bun.sleep(50);
    return JSON.parse(readFileSync(path, "utf8"));
  };
  return { server: await read(serverPid), runners: await Promise.all(runnerPids.map(read)) };
}

interface Outcome {
  kind: "completed" | "disconnected" | "failed";
  detail?: string;
}

const prompts = ["Once upon a time", "Lily and Tom went to the park.", "The little dog", "One day, a bird", "Sam had a big red ball. He"];

async function one(): Promise<Outcome> {
  const leaveAfter = random() < disconnectShare ? Math.floor(random() * 40) : -1;
  const controller = new AbortController();
  // A stream that stalls fails the run instead of hanging it.
  let stalled = false;
  const timer = setTimeout(() => ((stalled = true), controller.abort()), 60_000);
  const body = { model: modelId, messages: [{ role: "user", content: prompts[Math.floor(random() * prompts.length)] }], max_tokens: 16 + Math.floor(random() * 56), stream: true, temperature: 0.8, seed: Math.floor(random() * 1e6) };
  try {
    const res = await fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), signal: controller.signal });
    if (res.status !== 200) return { kind: "failed", detail: `HTTP ${res.status}: ${(await res.text()).slice(0, 200)}` };
    let text = "";
    let events = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      text += new TextDecoder().decode(chunk);
      events = text.split("\n\n").length - 1;
      if (leaveAfter >= 0 && events >= leaveAfter) {
        controller.abort();
        return { kind: "disconnected" };
      }
    }
    if (text.includes('"error"')) return { kind: "failed", detail: text.slice(text.indexOf('"error"'), text.indexOf('"error"') + 200) };
    if (!text.trimEnd().endsWith("data: [DONE]")) return { kind: "failed", detail: "stream ended without [DONE]" };
    return { kind: "completed" };
  } catch (err) {
    if (stalled) return { kind: "failed", detail: "no end after 60 s" };
    if (controller.signal.aborted) return { kind: "disconnected" };
    return { kind: "failed", detail: String(err) };
  } finally {
    clearTimeout(timer);
  }
}

const outcomes: Outcome[] = [];
/** `n` requests through `concurrency` clients; resolves when the last has ended. */
async function drive(n: number): Promise<void> {
  let started = 0;
  const worker = async () => {
    while (started < n) {
      started++;
      outcomes.push(await one());
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

// RSS under load swings by ±10 MiB with garbage collection: each round's floor, its lowest sample
// (every 50 ms), is printed.
type Rss = { server: number; runners: number };
let samples: Rss[] = [];
const rssNow = (): Rss => ({ server: rssOf(serverPid), runners: runnerPids.reduce((s, p) => s + rssOf(p), 0) });
const sample = () => samples.push(rssNow());
const sampler = setInterval(sample, 50);
const floorOf = (xs: Rss[]) => Math.min(...xs.map(r => r.server + r.runners));

const t0 = performance.now();
await drive(warmup);
const warmupSeconds = (performance.now() - t0) / 1000;
/** RSS (server + runners) at rest: 1 s after a full collection in each, with no request running. */
async function idleRss(): Promise<number> {
  await Bun.sleep(1000);
  const r = rssNow();
  return r.server + r.runners;
}
const base = await live();
const baseRss = await idleRss();
const rounds: Array<{ done: number; seconds: number; floor: number; live: Awaited<ReturnType<typeof live>>; idle: number }> = [];
for (let done = 0; done < total; ) {
  const n = Math.min(roundSize, total - done);
  samples = [];
  const t = performance.now();
  await drive(n);
  sample(); // (a round shorter than 50 ms has one)
  done += n;
  const seconds = (performance.now() - t) / 1000;
  rounds.push({ done, seconds, floor: floorOf(samples), live: await live(), idle: await idleRss() });
}
const seconds = (performance.now() - t0) / 1000;
clearInterval(sampler);

// Leaked slots: once every client is gone, nothing may stay busy or queued.
await Bun.sleep(500);
const meta: any = await (await fetch(`${url}/v1/models/${encodeURIComponent(modelId)}`)).json();
const metrics = await (await fetch(`${url}/metrics`)).text();
const gauge = (name: string) => Number(metrics.split("\n").find(l => l.startsWith(`${name}{`))?.split(" ").pop() ?? NaN);
await server.stop();

const count = (k: Outcome["kind"]) => outcomes.filter(o => o.kind === k).length;
const failed = outcomes.filter(o => o.kind === "failed");
const mib = (b: number) => (b / 2 ** 20).toFixed(1);
const kib = (b: number) => (b / 2 ** 10).toFixed(0);
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const end = rounds[rounds.length - 1]!;

// Live memory, idle after a full collection, after the warm-up and at the end. Each request's
// objects (its body, events, signal, listeners, sampler chain) weigh kilobytes: a leak of any of
// them grows these by more than LEAK_BYTES per request, while the measured noise between two idle
// points is under 250 KiB (docs/reliability.md, Soak).
const LEAK_BYTES = 256;
const liveParts: Array<[string, (l: Awaited<ReturnType<typeof live>>) => number]> = [
  ["server JS heap", l => l.server.heapBytes],
  ["runner JS heap", l => sum(l.runners.map(r => r.heapBytes))],
  ["runner malloc", l => sum(l.runners.map(r => r.mallocBytes))],
];
// RSS, for what the two above do not see (Bun's native allocations): at rest after the warm-up
// against at rest at the end. The warm-up (1,000 requests by default) is left out: in it RSS
// climbs ~20 MiB in both processes, and the runner's goes on rising a few MiB more over the next
// ~3,000 requests as llama.cpp first touches its KV cache and compute buffer (docs/reliability.md).
// The floor under load is printed, not checked: it follows throughput (137 MiB in a round at
// 23 req/s against 145 MiB at 80–90 req/s, with another benchmark on the two cores).
const rssGrowth = (end.idle - baseRss) / baseRss;
const half = Math.ceil(rounds.length / 2);
const firstFloor = Math.min(...rounds.slice(0, half).map(r => r.floor));
const lastFloor = Math.min(...rounds.slice(half).map(r => r.floor));
const span = (from: number, to: number) => `${warmup + from}–${warmup + to}`;
const halfAt = rounds[half - 1]!.done;

console.log(`\nsoak: ${warmup} warm-up + ${total} measured requests, ${concurrency} concurrent streams, ${(disconnectShare * 100).toFixed(0)}% planned disconnects, model ${modelId}, ${seconds.toFixed(1)} s`);
console.log(`  completed ${count("completed")}, disconnected ${count("disconnected")}, failed ${failed.length}`);
for (const f of failed.slice(0, 5)) console.log(`  failure: ${f.detail}`);
const liveLine = (l: Awaited<ReturnType<typeof live>>) => liveParts.map(([name, get]) => `${name} ${kib(get(l))} KiB`).join(", ");
console.log(`  live after warm-up (${warmupSeconds.toFixed(1)} s): ${liveLine(base)}`);
console.log(`  RSS at rest after warm-up: ${mib(baseRss)} MiB`);
for (const [i, r] of rounds.entries()) console.log(`  to ${warmup + r.done} (${((r.done - (rounds[i - 1]?.done ?? 0)) / r.seconds).toFixed(0)} req/s): RSS floor under load ${mib(r.floor)} MiB, at rest ${mib(r.idle)} MiB; live ${liveLine(r.live)}`);
const checks: Array<[string, boolean, string]> = [
  ["no errors on completed requests", failed.length === 0, `${failed.length} failed`],
  ["no leaked slots", meta.meta.slots.busy === 0 && gauge("hearth_slots_busy") === 0 && gauge("hearth_queue_depth") === 0, `busy ${meta.meta.slots.busy}, queue ${gauge("hearth_queue_depth")}`],
  ...liveParts.map(([name, get]): [string, boolean, string] => {
    const grew = get(end.live) - get(base);
    return [`${name} (live, idle) grows < ${LEAK_BYTES} B per request`, grew < LEAK_BYTES * total, `${kib(get(base))} → ${kib(get(end.live))} KiB (${(grew / total).toFixed(0)} B per request)`];
  }),
  [`RSS at rest (server + runner), after warm-up → end < 5%`, rssGrowth < 0.05, `${mib(baseRss)} MiB → ${mib(end.idle)} MiB (${(rssGrowth * 100).toFixed(2)}%)`],
];
console.log(`  RSS floor under load (not checked), requests ${span(0, halfAt)} → ${span(halfAt, total)}: ${mib(firstFloor)} → ${mib(lastFloor)} MiB (${(((lastFloor - firstFloor) / firstFloor) * 100).toFixed(2)}%)`);
// Where the JS heap grew, the object types that grew most say what is kept.
for (const [name, a, b] of [["server", base.server, end.live.server], ["runner", base.runners[0], end.live.runners[0]]] as const) {
  if (!a || !b || b.heapBytes - a.heapBytes < LEAK_BYTES * total) continue;
  const grown = Object.entries(b.types).map(([type, n]) => [type, n - (a.types[type] ?? 0)] as const).filter(([, d]) => d > 0).sort((x, y) => y[1] - x[1]).slice(0, 8);
  console.log(`  ${name} objects added since the warm-up: ${grown.map(([type, d]) => `${type} +${d}`).join(", ")}`);
}
for (const [name, ok, detail] of checks) console.log(`  ${ok ? "PASS" : "FAIL"}  ${name}: ${detail}`);
process.exit(checks.every(([, ok]) => ok) ? 0 : 1);
