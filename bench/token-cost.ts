// The per-token cost outside llama_decode, in CPU time: what the README's "What the per-token
// time is made of" reports, measured so that it holds on a machine other work shares.
//
//   bun bench/token-cost.ts [--tree "DIR [FLAGS]"]... [--rounds 6] [--short 16] [--long 144] [--llama-server]
//
// Each --tree is a Hearth source checkout (default: this one); give two to compare versions (e.g.
// `git archive <commit> | tar -x -C /tmp/base`, with lib/ and node_modules/ linked). All servers
// stay up and take turns request by request, who goes first alternating (ABBA), on one stream.
// Per token, from two requests of --short and --long tokens out (greedy, ignore_eos, fresh
// prompts), (long − short) / (long − short tokens), so what a request costs once (parsing,
// template, prefill) cancels:
//   - runner loop: the runner's JS thread outside llama_decode, end of one decode to the start of
//     the next — its thread CPU clock and the wall clock (src/engine/loop-probe.ts, switched on by
//     HEARTH_LOOP_PROBE);
//   - HTTP process: CPU time of all its threads (/proc/PID/task/*/schedstat, ns);
//   - runner total: CPU time of all the runner's threads, llama_decode's included.
// CPU clocks count only what a process itself ran, so other load on the machine changes them far
// less than it changes throughput (it still costs cache and migrations: compare versions measured
// in the same call, alternating). With --llama-server its process's total CPU per token is shown
// beside Hearth's (HTTP + runner).
import { parseArgs } from "node:util";
import { readFileSync, rmSync } from "node:fs";
import { basename, resolve } from "node:path";
import { tmpdir } from "node:os";
import { generatedModel } from "../test/helpers/models.ts";
import { childPids, startLlamaServer, type Running } from "../test/helpers/server.ts";
import { startTreeServer } from "./tree-server.ts";
import { processCpuMs } from "./cpu-time.ts";
import { fillerText, median, streamChat } from "./load.ts";

const { values } = parseArgs({
  options: {
    tree: { type: "string", multiple: true },
    model: { type: "string" },
    rounds: { type: "string", default: "6" },
    short: { type: "string", default: "16" },
    long: { type: "string", default: "144" },
    threads: { type: "string", default: "2" },
    "prompt-words": { type: "string", default: "200" },
    ctx: { type: "string", default: "24576" },
    "llama-server": { type: "boolean", default: false },
  },
});
// A tree may carry flags of its own after its path ("--tree '. --stream-interval 0'"): one
// checkout compared with itself under two settings.
const trees = (values.tree ?? ["."]).map(t => {
  const [dir, ...flags] = t.trim().split(/\s+/);
  return { dir: resolve(dir!), flags };
});
const modelPath = values.model ? resolve(values.model) : await generatedModel("qwen2.5-0.5b-q4_0");
const modelId = basename(modelPath).replace(/\.gguf$/, "");
const [SHORT, LONG, ROUNDS] = [Number(values.short), Number(values.long), Number(values.rounds)];
const serverArgs = ["--threads", values.threads!, "--ctx-size", values.ctx!, "--parallel", "16", "--batch-size", "512"];

interface Target {
  label: string;
  url: string;
  stop(): Promise<void>;
  /** Counters at this moment: CPU ms by process part, and the loop probe's totals. */
  sample(): Record<string, number>;
}

async function startTree({ dir: tree, flags }: { dir: string; flags: string[] }, i: number): Promise<Target> {
  const probePath = resolve(tmpdir(), `hearth-loop-probe-${process.pid}-${i}.json`);
  rmSync(probePath, { force: true });
  const { url, proc, stop } = await startTreeServer(tree, ["--model", modelPath, ...serverArgs, ...flags], { HEARTH_LOOP_PROBE: probePath });
  const runner = childPids(proc.pid!)[0]!;
  return {
    label: ["hearth", tree, ...flags].join(" "),
    url,
    async stop() {
      await stop();
      rmSync(probePath, { force: true });
    },
    sample() {
      let probe = { steps: 0, outsideWallMs: 0, outsideCpuMs: 0 };
      try {
        probe = JSON.parse(readFileSync(probePath, "utf8"));
      } catch {
        /* no run of steps yet */
      }
      return {
        http: processCpuMs(proc.pid!),
        runnerMain: processCpuMs(runner, true),
        runnerAll: processCpuMs(runner),
        steps: probe.steps,
        loopCpu: probe.outsideCpuMs,
        loopWall: probe.outsideWallMs,
      };
    },
  };
}

function llamaTarget(server: Running): Target {
  return { label: "llama-server", url: server.url, stop: () => server.stop(), sample: () => ({ total: processCpuMs(server.proc.pid!) }) };
}

let seed = Math.floor(Math.random() * 1e6);
/** Counters spent by one request of `maxTokens` tokens out. */
async function spend(target: Target, maxTokens: number): Promise<Record<string, number>> {
  const before = target.sample();
  const r = await streamChat(target.url, modelId, [{ role: "user", content: fillerText(Number(values["prompt-words"]), seed++) }], maxTokens);
  if (r.failed) throw new Error(`${target.label}: request failed or short`);
  await Bun.sleep(100); // the runner writes its probe when its loop goes idle, just after the last event
  const after = target.sample();
  return Object.fromEntries(Object.keys(after).map(k => [k, after[k]! - before[k]!]));
}

const targets: Target[] = [];
try {
  for (const [i, tree] of trees.entries()) targets.push(await startTree(tree, i));
  if (values["llama-server"]) targets.push(llamaTarget(await startLlamaServer(["-m", modelPath, "-t", values.threads!, "-c", values.ctx!, "-np", "16", "-b", "512", "-kvu", "--no-webui"])));
  // Warm-up: Bun's JIT compiles the hot paths during the first requests after a start.
  for (const t of targets) for (let k = 0; k < 2; k++) await spend(t, LONG);
  const perToken = new Map<Target, Array<Record<string, number>>>(targets.map(t => [t, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    for (const t of order) {
      const s = await spend(t, SHORT);
      const l = await spend(t, LONG);
      const row = Object.fromEntries(Object.keys(l).map(k => [k, k === "steps" ? l[k]! - s[k]! : (l[k]! - s[k]!) / (LONG - SHORT)]));
      if (row.steps !== undefined) {
        // The probe's own per-step figures (its step count differs from the tokens by the first one).
        row.loopCpu = (l.loopCpu! - s.loopCpu!) / row.steps;
        row.loopWall = (l.loopWall! - s.loopWall!) / row.steps;
        delete row.steps;
      }
      perToken.get(t)!.push(row);
      console.error(`round ${round + 1} ${t.label}: ${JSON.stringify(row, (_, v) => (typeof v === "number" ? Math.round(v * 1000) / 1000 : v))}`);
    }
  }
  console.log(`\nper token, ms (median over ${ROUNDS} rounds [min-max]); ${modelId}, threads ${values.threads}`);
  for (const t of targets) {
    const rows = perToken.get(t)!;
    const cell = (k: string) => {
      const v = rows.map(r => r[k]!);
      return `${median(v).toFixed(3)} [${Math.min(...v).toFixed(3)}-${Math.max(...v).toFixed(3)}]`;
    };
    console.log(`${t.label}`);
    for (const k of Object.keys(rows[0]!)) console.log(`  ${k.padEnd(11)} ${cell(k)}`);
    if (rows[0]!.http !== undefined) {
      const outside = rows.map(r => r.loopCpu! + r.http!);
      console.log(`  ${"loop+http".padEnd(11)} ${median(outside).toFixed(3)} [${Math.min(...outside).toFixed(3)}-${Math.max(...outside).toFixed(3)}]  (runner loop CPU outside decode + HTTP process CPU)`);
    }
  }
} finally {
  await Promise.all(targets.map(t => t.stop()));
}
