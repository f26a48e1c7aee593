// Splitting a model over RPC workers: what it costs. Not a timed test.
//
//   bun bench/rpc.ts [--model PATH] [--runs 3] [--threads N] [--prompt 512] [--out 128] [--ngl 16]
//
// Hearth serves the model three ways, one after the other, with the same settings: all local;
// split over the local CPU and two ggml-rpc-server workers on loopback (--gpu-layers N of the
// layers go to the workers, 1:1; the rest stay local); and llama-server given the same split, as
// the reference. Each run streams one chat request (greedy, ignore_eos): TTFT for a prompt of
// --prompt tokens, then decode tokens/s. Bytes on the wire are the workers' TCP connections' own counters
// (tcp_info bytes_sent + bytes_received, read with `ss`): per
// prompt token (a run with one output token) and per generated token (the difference between a
// full run and a one-token run, divided by the extra tokens). Without --model: the random-weight
// Qwen2.5-0.5B-shape Q4_0 model (24 layers). Writes bench/results/rpc.{json,md}.
import { parseArgs } from "node:util";
import { basename, resolve } from "node:path";
import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { generatedModel } from "../test/helpers/models.ts";
import { postJson, startHearth, startLlamaServer, type Running } from "../test/helpers/server.ts";
import { startWorker, type Worker } from "../test/helpers/workers.ts";
import { fillerText, median, streamChat } from "./load.ts";

const { values } = parseArgs({
  options: {
    model: { type: "string" },
    runs: { type: "string", default: "3" },
    threads: { type: "string", default: String(navigator.hardwareConcurrency || 2) },
    prompt: { type: "string", default: "512" },
    out: { type: "string", default: "128" },
    ngl: { type: "string", default: "16" },
  },
});
const runs = Number(values.runs);
const threads = values.threads!;
const promptTokens = Number(values.prompt);
const outTokens = Number(values.out);
const modelPath = values.model ? resolve(values.model) : await generatedModel("qwen2.5-0.5b-q4_0");
const modelId = basename(modelPath).replace(/\.gguf$/, "");
const common = ["--threads", threads, "--ctx-size", "4096", "--parallel", "1"];

/** Bytes the workers' live connections have sent and received (the kernel's tcp_info, via `ss`). */
function wireBytes(workers: Worker[]): number {
  const filter = workers.map(w => `sport = :${w.port}`).join(" or ");
  const out = Bun.spawnSync(["ss", "-tinH", "state", "established", `( ${filter} )`]).stdout.toString();
  let total = 0;
  for (const m of out.matchAll(/bytes_(?:sent|received):(\d+)/g)) total += Number(m[1]);
  return total;
}

let tokensPerWord = 0;
async function prompt(server: Running, seed: number): Promise<string> {
  if (!tokensPerWord) {
    const probe = fillerText(2000, 7);
    const res = await postJson(`${server.url}/tokenize`, { content: probe });
    tokensPerWord = (((await res.json()) as any).tokens.length as number) / 2000;
  }
  return fillerText(Math.max(1, Math.round(promptTokens / tokensPerWord)), seed);
}

interface Result {
  name: string;
  ttftMs: number[];
  decodeTps: number[];
  bytesPerPromptToken: number[];
  bytesPerToken: number[];
  loadBytes: number | null;
}

async function measure(name: string, server: Running, workers: Worker[], loadBytes: number | null): Promise<Result> {
  const r: Result = { name, ttftMs: [], decodeTps: [], bytesPerPromptToken: [], bytesPerToken: [], loadBytes };
  await streamChat(server.url, modelId, [{ role: "user", content: await prompt(server, 1) }], 8); // warm-up
  for (let i = 0; i < runs; i++) {
    // Fresh prompts every time, so no run reuses another's KV cache.
    const b0 = workers.length ? wireBytes(workers) : 0;
    await streamChat(server.url, modelId, [{ role: "user", content: await prompt(server, 1000 + i) }], 1);
    const b1 = workers.length ? wireBytes(workers) : 0;
    const full = await streamChat(server.url, modelId, [{ role: "user", content: await prompt(server, 2000 + i) }], outTokens);
    const b2 = workers.length ? wireBytes(workers) : 0;
    if (full.failed) throw new Error(`${name}: a run failed or came back short`);
    r.ttftMs.push(full.ttftMs);
    r.decodeTps.push(full.decodeTps);
    if (workers.length) {
      r.bytesPerPromptToken.push((b1 - b0) / promptTokens);
      r.bytesPerToken.push((b2 - b1 - (b1 - b0)) / (outTokens - 1));
    }
    console.log(`${name} run ${i + 1}: TTFT ${full.ttftMs.toFixed(0)} ms, ${full.decodeTps.toFixed(1)} tok/s`);
  }
  return r;
}

const workers = [await startWorker(Number(threads)), await startWorker(Number(threads))];
const results: Result[] = [];
const split = ["--rpc", workers.map(w => w.endpoint).join(","), "--tensor-split", "1,1"];
try {
  let server = await startHearth(["--model", modelPath, ...common]);
  try {
    results.push(await measure("Hearth, local", server, [], null));
  } finally {
    await server.stop();
  }
  server = await startHearth(["--model", modelPath, ...common, ...split, "--gpu-layers", values.ngl!]);
  const devices = ((await (await fetch(`${server.url}/v1/models/${modelId}`)).json()) as any).meta.devices;
  console.log("layers:", devices.map((d: any) => `${d.name} ${d.endpoint ?? ""} ${d.layers}${d.output ? " + output" : ""}`).join("; "));
  try {
    results.push(await measure("Hearth, split local + 2 workers", server, workers, wireBytes(workers)));
  } finally {
    await server.stop();
  }
  await Bun.sleep(500); // the workers notice the client is gone and free its buffers
  const ref = await startLlamaServer(["-m", modelPath, "-t", threads, "-c", "4096", "-np", "1", "--fit", "off", "--no-webui",
    "--rpc", workers.map(w => w.endpoint).join(","), "-ts", "1,1", "-ngl", values.ngl!]);
  try {
    results.push(await measure("llama-server, same split", ref, workers, wireBytes(workers)));
  } finally {
    await ref.stop();
  }

  const range = (xs: number[], digits = 0) => xs.length ? `${median(xs).toFixed(digits)} [${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}]` : "–";
  const mib = (b: number | null) => (b === null ? "–" : (b / 1048576).toFixed(1));
  const date = new Date().toISOString().slice(0, 10);
  const md = [
    `# Split over RPC workers (${date})`,
    "",
    `Model \`${modelId}\`, ${cpus()[0]?.model ?? "CPU"} × ${cpus().length} cores, threads ${threads} (server and each worker; they share the cores), ` +
      `one stream: ${promptTokens}-token prompt, ${outTokens} tokens out, ${runs} runs; medians [min–max].`,
    `Split: \`--gpu-layers ${values.ngl} --tensor-split 1,1\` — layers ${devices.map((d: any) => `${d.name}: ${d.layers}${d.output ? " + output" : ""}`).join(", ")}; both workers on loopback.`,
    "",
    "| setup | TTFT ms | decode tok/s | bytes per prompt token | bytes per generated token | MiB on the wire during load |",
    "|---|---|---|---|---|---|",
    ...results.map(r => `| ${r.name} | ${range(r.ttftMs)} | ${range(r.decodeTps, 1)} | ${range(r.bytesPerPromptToken)} | ${range(r.bytesPerToken)} | ${mib(r.loadBytes)} |`),
    "",
  ].join("\n");
  writeFileSync(resolve(import.meta.dir, "results/rpc.md"), md);
  writeFileSync(resolve(import.meta.dir, "results/rpc.json"), JSON.stringify({ date, model: modelId, threads, promptTokens, outTokens, runs, devices, results }, null, 2));
  console.log(md);
} finally {
  await Promise.all(workers.map(w => w.kill("SIGTERM")));
}
