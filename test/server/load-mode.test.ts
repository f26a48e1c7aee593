// --load-mode: weights read into memory (the default for a file that fits) or mapped from the
// file. Both must give the same tokens; reading must leave the file unmapped, so the CPU
// backend's repacked copy is the only one resident. The runner's native heap asks for transparent
// huge pages (engine/huge-pages.ts) unless the user's GLIBC_TUNABLES says otherwise.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { generatedModel } from "../helpers/models.ts";
import { childPids, postJson, startHearth, type Running } from "../helpers/server.ts";

let model: string;
let mapped: Running;
let auto: Running;
let smallPages: Running;
const common = ["--threads", "1", "--parallel", "1", "--ctx-size", "512"];

beforeAll(async () => {
  // Q4_0 in Qwen2.5-0.5B's shape: the CPU backend repacks its matrices.
  model = await generatedModel("qwen2.5-0.5b-q4_0");
  [mapped, auto, smallPages] = await Promise.all([
    startHearth(["--model", model, "--load-mode", "mmap", ...common]),
    startHearth(["--model", model, ...common]),
    startHearth(["--model", model, ...common], { GLIBC_TUNABLES: "glibc.malloc.hugetlb=0" }),
  ]);
});
afterAll(async () => {
  await Promise.all([mapped?.stop(), auto?.stop(), smallPages?.stop()]);
});

const id = () => model.split("/").pop()!.replace(/\.gguf$/, "");

async function greedy(server: Running): Promise<string> {
  const res = await postJson(`${server.url}/v1/completions`, { model: id(), prompt: "Once upon a time", max_tokens: 24, temperature: 0, ignore_eos: true });
  expect(res.status).toBe(200);
  return ((await res.json()) as any).choices[0].text;
}

/** The runner's mappings of the model file, and its resident memory in MiB. */
function runnerMemory(server: Running): { mapsModel: boolean; rssMiB: number } {
  const [runner] = childPids(server.proc.pid);
  expect(runner).toBeDefined();
  const maps = readFileSync(`/proc/${runner}/maps`, "utf8");
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${runner}/status`, "utf8"))![1]) / 1024;
  return { mapsModel: maps.includes(model), rssMiB: rss };
}

/** MiB of the runner's anonymous memory on transparent huge pages. */
function runnerHugePagesMiB(server: Running): number {
  const [runner] = childPids(server.proc.pid);
  return Number(/AnonHugePages:\s+(\d+)/.exec(readFileSync(`/proc/${runner}/smaps_rollup`, "utf8"))![1]) / 1024;
}

/** The kernel's THP mode, as /sys shows it: "always", "madvise" or "never" (bracketed there). */
const thpMode = (() => {
  try {
    return /\[(\w+)\]/.exec(readFileSync("/sys/kernel/mm/transparent_hugepage/enabled", "utf8"))?.[1] ?? "never";
  } catch {
    return "never";
  }
})();

describe("load mode", () => {
  test("read and mmap give the same greedy tokens", async () => {
    const [a, b] = await Promise.all([greedy(mapped), greedy(auto)]);
    expect(a.length).toBeGreaterThan(0);
    expect(b).toBe(a);
  });

  test("auto reads a file that fits: the runner does not map it, and holds less", async () => {
    await Promise.all([greedy(mapped), greedy(auto)]);
    const m = runnerMemory(mapped);
    const r = runnerMemory(auto);
    console.log(`runner RSS after a request: mmap ${m.rssMiB.toFixed(0)} MiB, read ${r.rssMiB.toFixed(0)} MiB`);
    expect(m.mapsModel).toBe(true);
    expect(r.mapsModel).toBe(false);
    // Mapped, the pages the loader read to repack stay resident beside the repacked copy
    // (llama.cpp logs 192 MiB of CPU_REPACK buffer for this model).
    expect(r.rssMiB).toBeLessThan(m.rssMiB - 100);
  });

  // Where the kernel gives huge pages only on request (madvise), only the tunable puts the weights'
  // repacked copy (192 MiB here) on them; "never" gives none to anyone, "always" to everyone.
  test.skipIf(thpMode !== "madvise")("the runner's buffers sit on huge pages, unless GLIBC_TUNABLES turns them off", async () => {
    await Promise.all([greedy(auto), greedy(smallPages)]);
    const huge = runnerHugePagesMiB(auto);
    const small = runnerHugePagesMiB(smallPages);
    console.log(`runner AnonHugePages: default ${huge.toFixed(0)} MiB, glibc.malloc.hugetlb=0 ${small.toFixed(0)} MiB`);
    expect(huge).toBeGreaterThan(150);
    expect(small).toBeLessThan(10);
  });

  test("an unknown --load-mode stops the start with a clear message", async () => {
    const proc = Bun.spawn([process.execPath, "src/cli.ts", "serve", "--model", model, "--load-mode", "mlock"], { stderr: "pipe", stdout: "ignore" });
    expect(await proc.exited).toBe(2);
    expect(await new Response(proc.stderr).text()).toContain("--load-mode must be one of auto, mmap, read");
  });
});
