// Several models in one folder: load on demand, --max-loaded 1 unloads the least recently used
// idle model while two alternate (answers stay the same), concurrent first requests share one
// load, admin load/unload, --idle-unload, and a corrupt file that fails alone.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generatedModel } from "../helpers/models.ts";
import { repoRoot } from "../helpers/paths.ts";
import { childPids, postJson, startHearth, type Running } from "../helpers/server.ts";

let dir: string;
let server: Running;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "hearth-models-"));
  copyFileSync(await generatedModel("tiny-qwen2"), join(dir, "alpha.gguf"));
  copyFileSync(await generatedModel("tiny-llama-spm"), join(dir, "beta.gguf"));
  writeFileSync(join(dir, "broken.gguf"), Buffer.concat([Buffer.from("GGUF"), Buffer.alloc(64, 7)]));
  server = await startHearth(["--models-dir", dir, "--threads", "1", "--max-loaded", "1"]);
});
afterAll(() => server?.stop());

const complete = async (model: string) => {
  const res = await postJson(`${server.url}/v1/completions`, { model, prompt: "Hello there", max_tokens: 12, temperature: 0 });
  return { status: res.status, body: (await res.json()) as any };
};
const loaded = async () => ((await (await fetch(`${server.url}/v1/models`)).json()) as any).data.filter((m: any) => m.meta.loaded).map((m: any) => m.id);

test("alternating two models under --max-loaded 1: one loaded at a time, same answers each time", async () => {
  const a1 = await complete("alpha");
  expect(a1.status).toBe(200);
  const b1 = await complete("beta");
  expect(await loaded()).toEqual(["beta"]);
  const a2 = await complete("alpha");
  expect(await loaded()).toEqual(["alpha"]);
  const b2 = await complete("beta");
  expect(a2.body.choices[0].text).toBe(a1.body.choices[0].text);
  expect(b2.body.choices[0].text).toBe(b1.body.choices[0].text);
});

test("concurrent first requests for an unloaded model share one load (one runner)", async () => {
  await postJson(`${server.url}/models/unload`, { model: "alpha" });
  await postJson(`${server.url}/models/unload`, { model: "beta" });
  expect(await loaded()).toEqual([]);
  const results = await Promise.all(Array.from({ length: 6 }, () => complete("alpha")));
  expect(results.every(r => r.status === 200)).toBe(true);
  // One runner process, not six: the concurrent first requests waited on a single load.
  expect(childPids(server.proc.pid).length).toBe(1);
  expect(await loaded()).toEqual(["alpha"]);
});

test("admin endpoints: load, unload, unknown model 404", async () => {
  const load: any = await (await postJson(`${server.url}/models/load`, { model: "beta" })).json();
  expect(load).toEqual({ model: "beta", status: "loaded" });
  expect(await loaded()).toEqual(["beta"]);
  const unload: any = await (await postJson(`${server.url}/models/unload`, { model: "beta" })).json();
  expect(unload).toEqual({ model: "beta", status: "unloaded" });
  expect(await loaded()).toEqual([]);
  const missing = await postJson(`${server.url}/models/unload`, { model: "gamma" });
  expect(missing.status).toBe(404);
});

test("a corrupt model answers a clear error for that model only", async () => {
  const bad = await complete("broken");
  expect(bad.status).toBe(503);
  expect(bad.body.error.code).toBe("model_unavailable");
  expect(bad.body.error.message).toContain("broken");
  const listed: any = await (await fetch(`${server.url}/v1/models/broken`)).json();
  expect(listed.meta.state).toBe("failed");
  expect((await complete("alpha")).status).toBe(200);
});

test("--idle-unload unloads a model nobody used for that long", async () => {
  const idle = await startHearth(["--models-dir", dir, "--threads", "1", "--idle-unload", "1"]);
  try {
    // The server preloads the first model at start; wait for it to be unloaded.
    let ids: string[] = ["?"];
    for (let i = 0; i < 60 && ids.length > 0; i++) {
      await Bun.sleep(100);
      ids = ((await (await fetch(`${idle.url}/v1/models`)).json()) as any).data.filter((m: any) => m.meta.loaded).map((m: any) => m.id);
    }
    expect(ids).toEqual([]);
  } finally {
    await idle.stop();
  }
});

test("an unloaded model is described from its GGUF header alone", async () => {
  await postJson(`${server.url}/models/unload`, { model: "beta" });
  const meta = ((await (await fetch(`${server.url}/v1/models/beta`)).json()) as any).meta;
  expect(meta.loaded).toBe(false);
  expect(meta.architecture).toBe("llama");
  expect(meta.quantization).toBe("F32");
  expect(meta.parameters).toBeGreaterThan(1000);
  expect(meta.context_length).toBe(4096);
  expect(meta.size_bytes).toBeGreaterThan(1000);
});

test("`hearth list` shows the folder's models; `hearth ps` shows what the server has loaded", async () => {
  const cli = async (...args: string[]) => {
    const run = Bun.spawn([process.execPath, `${repoRoot}/src/cli.ts`, ...args], { stdout: "pipe", stderr: "pipe" });
    expect(await run.exited).toBe(0);
    return new Response(run.stdout).text();
  };
  const list = await cli("list", "--models-dir", dir);
  expect(list).toMatch(/^MODEL\s+FAMILY\s+SIZE\s+QUANT\s+CTX/);
  expect(list).toMatch(/alpha\s+qwen\s+[\d.]+ MiB\s+F32\s+4096/);
  expect(list).toMatch(/beta\s+generic/);
  await postJson(`${server.url}/models/load`, { model: "alpha" });
  const ps = await cli("ps", "--url", server.url);
  expect(ps).toMatch(/alpha\s+qwen\s+[\d.]+ MiB\s+0\/4/);
  expect(ps).not.toContain("beta");
});

test("a file added while the server runs appears in /v1/models and can be used", async () => {
  copyFileSync(await generatedModel("tiny-llama-spm"), join(dir, "gamma.gguf"));
  const ids = ((await (await fetch(`${server.url}/v1/models`)).json()) as any).data.map((m: any) => m.id);
  expect(ids).toContain("gamma");
  expect((await complete("gamma")).status).toBe(200);
});
