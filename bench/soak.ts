// Soak test (`make soak`, not in CI): many concurrent streams for a long run, with clients that
// disconnect at random points. It passes when every request that ran to its end is error-free,
// no slot or queue entry is left behind, and memory stays flat between the 200th and the last
// request. Prints its report; exits 1 when a check fails.
//
//   bun bench/soak.ts [--model PATH] [--concurrency 64] [--requests 1000] [--disconnect 0.3] [--seed N]
import { readFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import { parseArgs } from "node:util";
import { childPids, startHearth } from "../test/helpers/server.ts";

const { values } = parseArgs({
  options: {
    model: { type: "string", default: resolve(import.meta.dir, "../models/stories260K.gguf") },
    concurrency: { type: "string", default: "64" },
    requests: { type: "string", default: "1000" },
    disconnect: { type: "string", default: "0.3" },
    seed: { type: "string", default: "1" },
    threads: { type: "string", default: "2" },
  },
});
const concurrency = Number(values.concurrency);
const total = Number(values.requests);
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

/** Resident memory of the server and of its runner processes, in bytes. */
function rss(pid: number): { server: number; runners: number } {
  return { server: rssOf(pid), runners: childPids(pid).reduce((sum, p) => sum + rssOf(p), 0) };
}

const server = await startHearth([
  "--model", values.model!, "--threads", values.threads!,
  "--parallel", String(concurrency), "--ctx-size", String(concurrency * 160), "--queue-size", String(concurrency * 4),
]);
const url = server.url;

interface Outcome {
  kind: "completed" | "disconnected" | "failed";
  detail?: string;
}

const prompts = ["Once upon a time", "Lily and Tom went to the park.", "The little dog", "One day, a bird", "Sam had a big red ball. He"];

async function one(): Promise<Outcome> {
  const leaveAfter = random() < disconnectShare ? Math.floor(random() * 40) : -1;
  const controller = new AbortController();
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
    if (controller.signal.aborted) return { kind: "disconnected" };
    return { kind: "failed", detail: String(err) };
  }
}

const outcomes: Outcome[] = [];
const rssAt = new Map<number, { server: number; runners: number }>();
// RSS swings by ±10 MiB with garbage collection, more than the 5% being checked. What a leak
// raises is the floor the swings return to after each collection: sample RSS every 50 ms and
// compare the lowest sample in the 200 requests from the 200th with the lowest in the last 200.
const samples: Array<{ done: number; bytes: number }> = [];
const sampler = setInterval(() => {
  const r = rss(server.proc.pid);
  samples.push({ done: outcomes.length, bytes: r.server + r.runners });
}, 50);
let started = 0;
const t0 = performance.now();
async function worker() {
  while (started < total) {
    started++;
    outcomes.push(await one());
    if (outcomes.length % 200 === 0 || outcomes.length === total) rssAt.set(outcomes.length, rss(server.proc.pid));
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
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
const floor = (from: number, to: number) => Math.min(...samples.filter(s => s.done >= from && s.done < to).map(s => s.bytes));
const at200 = floor(200, 400);
const atEnd = floor(total - 200, total);
const growth = (atEnd - at200) / at200;
const mib = (b: number) => (b / 2 ** 20).toFixed(1);
const checks: Array<[string, boolean, string]> = [
  ["no errors on completed requests", failed.length === 0, `${failed.length} failed`],
  ["no leaked slots", meta.meta.slots.busy === 0 && gauge("hearth_slots_busy") === 0 && gauge("hearth_queue_depth") === 0, `busy ${meta.meta.slots.busy}, queue ${gauge("hearth_queue_depth")}`],
  [`RSS floor growth, requests 200–400 → ${total - 200}–${total} < 5%`, growth < 0.05, `${mib(at200)} MiB → ${mib(atEnd)} MiB (${(growth * 100).toFixed(2)}%)`],
];
console.log(`\nsoak: ${total} requests, ${concurrency} concurrent streams, ${(disconnectShare * 100).toFixed(0)}% planned disconnects, model ${modelId}, ${seconds.toFixed(1)} s`);
console.log(`  completed ${count("completed")}, disconnected ${count("disconnected")}, failed ${failed.length}`);
for (const f of failed.slice(0, 5)) console.log(`  failure: ${f.detail}`);
if (total >= 2000) {
  const base = floor(1000, 1200);
  console.log(`  RSS floor after warm-up, requests 1000–1200 → ${total - 200}–${total}: ${mib(base)} → ${mib(atEnd)} MiB (${(((atEnd - base) / base) * 100).toFixed(2)}%)`);
}
console.log(`  RSS (server + runner, MiB) by request: ${[...rssAt].map(([n, r]) => `${n}: ${mib(r.server)}+${mib(r.runners)}`).join(", ")}`);
for (const [name, ok, detail] of checks) console.log(`  ${ok ? "PASS" : "FAIL"}  ${name}: ${detail}`);
process.exit(checks.every(([, ok]) => ok) ? 0 : 1);
