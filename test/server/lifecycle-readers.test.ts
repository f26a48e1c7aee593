// One model lifecycle, read the same way everywhere: a real ModelRegistry behind the real HTTP app,
// with fake runners (test/helpers/fake-runner.ts), driven through load → serve → crash → recover →
// idle-unload → unload, both for a local model (a crash restarts on the next request) and for one
// on an RPC worker (a crash while the worker is gone is "failed", reloaded with back-off once it
// answers again), plus a checkpoint whose import fails. At each step /health, /v1/models, /metrics
// and `hearth ps` must say the same thing. No sleeps decide anything: the test polls for states
// and moves the idle clock by hand.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Server, TCPSocketListener } from "bun";
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../../src/api/app.ts";
import { ModelRegistry } from "../../src/models/registry.ts";
import { fakeRunnerCommand } from "../helpers/fake-runner.ts";
import { defaultModel, repoRoot } from "../helpers/paths.ts";
import { postJson } from "../helpers/server.ts";

let dir: string;
let registry: ModelRegistry;
let server: Server<undefined>;
let url: string;
let clock = 1_000_000;
let worker: TCPSocketListener | null = null;
let workerPort = 0;
const home = process.env.HEARTH_HOME;

/** A stand-in RPC worker: answers the HELLO probe (rpc-workers.ts) with protocol 7.0.0. */
function startWorker(port = 0): TCPSocketListener {
  const hello = Buffer.alloc(8 + 4 + 24);
  hello.writeBigUInt64LE(28n, 0);
  hello[8] = 7;
  return Bun.listen({ hostname: "127.0.0.1", port, socket: { data: socket => void socket.write(hello) } });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "hearth-lifecycle-"));
  process.env.HEARTH_HOME = join(dir, "home"); // the failed import below writes nothing elsewhere
  copyFileSync(defaultModel, join(dir, "solo.gguf"));
  copyFileSync(defaultModel, join(dir, "split.gguf"));
  // A checkpoint folder whose weights are not a safetensors file: its import fails fast.
  mkdirSync(join(dir, "ckpt"));
  writeFileSync(join(dir, "ckpt", "config.json"), JSON.stringify({ architectures: ["LlamaForCausalLM"] }));
  writeFileSync(join(dir, "ckpt", "model.safetensors"), "not safetensors");
  worker = startWorker();
  workerPort = worker.port;
  const defaults = { nCtx: 256, parallel: 1, nBatch: 64, threads: 1, gpuLayers: 0, queueSize: 4, verbose: false, reportProgress: false };
  const config = { models: { split: { rpc: [`127.0.0.1:${workerPort}`] } } };
  registry = new ModelRegistry([], [dir], defaults, undefined, { maxLoaded: 0, idleUnloadS: 60, now: () => clock }, config, undefined, { command: fakeRunnerCommand });
  const app = createApp(registry, { apiKeys: [], cors: null, maxBodyBytes: 1 << 20 });
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: request => app.handle(request) });
  url = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await registry?.close();
  server?.stop(true);
  worker?.stop(true);
  if (home === undefined) delete process.env.HEARTH_HOME;
  else process.env.HEARTH_HOME = home;
});

const getJson = async (path: string): Promise<any> => (await fetch(url + path)).json();

/** What every reader says about one model. */
async function readers(id: string) {
  const health = ((await getJson("/health")).models as any[]).find(m => m.id === id);
  const meta = (await getJson(`/v1/models/${id}`)).meta;
  const listed = ((await getJson("/v1/models")).data as any[]).find(m => m.id === id).meta;
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const gauge = metrics.match(new RegExp(`^hearth_model_loaded\\{model="${id}"\\} (\\d+)$`, "m"));
  // Asynchronously: the server answering `hearth ps` runs in this process.
  const ps = Bun.spawn([process.execPath, `${repoRoot}/src/cli.ts`, "ps", "--url", url], { stdout: "pipe", stderr: "inherit" });
  const [psOut, psCode] = await Promise.all([new Response(ps.stdout).text(), ps.exited]);
  expect(psCode).toBe(0);
  const psRow = psOut.split("\n").find(line => line.split(/\s+/)[0] === id);
  expect(listed).toEqual(meta); // the list and the single model agree
  return {
    health: health?.state ?? "not listed",
    meta: meta.state,
    loaded: meta.loaded,
    error: meta.error !== undefined,
    metric: gauge ? Number(gauge[1]) : "no series",
    ps: psRow ? psRow.match(/\s(\d+\/\S+)\s/)?.[1] : "not listed", // SLOTS BUSY
  };
}

// What each reader shows for each state (the wire values, written out here rather than taken from the code's table).
const LOADED_IDLE = { health: "loaded", meta: "loaded", loaded: true, error: false, metric: 1, ps: "0/1" };
const LOADED_BUSY = { ...LOADED_IDLE, ps: "1/1" };
const CRASHED = { health: "starting", meta: "available", loaded: false, error: false, metric: 0, ps: "not listed" };
const FAILED = { health: "failed", meta: "failed", loaded: false, error: true, metric: 0, ps: "not listed" };
const FORGOTTEN = { health: "not listed", meta: "available", loaded: false, error: false, metric: "no series", ps: "not listed" };

async function until(id: string, state: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await getJson(`/v1/models/${id}`)).meta.state !== state) {
    if (Date.now() > deadline) throw new Error(`${id} not ${state} after ${timeoutMs} ms: ${JSON.stringify((await getJson(`/v1/models/${id}`)).meta)}`);
    await Bun.sleep(50);
  }
}

const complete = (model: string, prompt: string, init: RequestInit = {}) =>
  postJson(`${url}/v1/completions`, { model, prompt, max_tokens: 4 }, init);

/** A generation that holds its slot until `release()`; resolves once its first text arrived. */
async function hold(model: string) {
  const abort = new AbortController();
  const res = await postJson(`${url}/v1/completions`, { model, prompt: "hold", max_tokens: 100, stream: true }, { signal: abort.signal });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  await reader.read();
  const rest = (async () => {
    let text = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return text;
        text += new TextDecoder().decode(value);
      }
    } catch {
      return text; // aborted by release()
    }
  })();
  return { rest, release: () => abort.abort() };
}

test("a local model: load → serve → crash → recover → idle-unload, and every reader agrees at each step", async () => {
  expect(await readers("solo")).toEqual(FORGOTTEN); // never asked for yet

  expect(await (await postJson(`${url}/models/load`, { model: "solo" })).json()).toEqual({ model: "solo", status: "loaded" });
  expect(await readers("solo")).toEqual(LOADED_IDLE);

  const held = await hold("solo");
  expect(await readers("solo")).toEqual(LOADED_BUSY);
  expect((await getJson("/health")).models.find((m: any) => m.id === "solo")).toMatchObject({ inFlight: 1, slotsBusy: 1 });

  // The runner aborts: both requests end with its reason, and the model restarts on the next request.
  const crash = await complete("solo", "crash");
  expect(crash.status).toBe(500);
  expect(((await crash.json()) as any).error.message).toMatch(/runner stopped unexpectedly \(signal SIGKILL\): ggml\/src\/ggml.c:1234: GGML_ASSERT\(fake\) failed/);
  expect(await held.rest).toContain("runner stopped unexpectedly");
  expect(await readers("solo")).toEqual(CRASHED);

  const again = await complete("solo", "hello");
  expect(again.status).toBe(200);
  expect(((await again.json()) as any).choices[0].text).toBe("fake answer");
  expect(await readers("solo")).toEqual(LOADED_IDLE);

  // Idle for longer than --idle-unload (the clock moved by hand): unloaded and forgotten.
  clock += 61_000;
  await registry.unloadIdle();
  expect(await readers("solo")).toEqual(FORGOTTEN);
});

test("a model on an RPC worker: a crash while the worker is gone is failed, refused at once, and back once the worker answers; then unload", async () => {
  await postJson(`${url}/models/load`, { model: "split" });
  expect(await readers("split")).toEqual(LOADED_IDLE);
  const held = await hold("split");
  expect(await readers("split")).toEqual(LOADED_BUSY);

  worker!.stop(true);
  const crash = await complete("split", "crash");
  expect(crash.status).toBe(503);
  expect(await held.rest).toContain("GGML_ASSERT(fake) failed");
  expect(await readers("split")).toEqual(FAILED);
  const refused = await complete("split", "hello");
  expect(refused.status).toBe(503);
  expect(((await refused.json()) as any).error.message).toMatch(/next retry in \d+ s/);

  worker = startWorker(workerPort);
  await until("split", "loaded");
  expect(await readers("split")).toEqual(LOADED_IDLE);
  expect((await complete("split", "hello")).status).toBe(200);

  // The idle clock runs from the end of the last generation: one that outlasts --idle-unload keeps the model.
  const busy = await hold("split");
  clock += 61_000;
  await registry.unloadIdle();
  expect(await readers("split")).toEqual(LOADED_BUSY);
  busy.release();
  await busy.rest;
  while ((await getJson("/health")).models.find((m: any) => m.id === "split").inFlight > 0) await Bun.sleep(20);
  await registry.unloadIdle();
  expect(await readers("split")).toEqual(LOADED_IDLE);

  expect(await (await postJson(`${url}/models/unload`, { model: "split" })).json()).toEqual({ model: "split", status: "unloaded" });
  expect(await readers("split")).toEqual(FORGOTTEN);
});

test("a checkpoint whose import fails: needs-import, then failed with the reason in every reader, and tried again on the next request", async () => {
  expect(await readers("ckpt")).toEqual({ ...FORGOTTEN, meta: "needs-import" });
  const res = await complete("ckpt", "hello");
  expect(res.status).toBe(503);
  expect(((await res.json()) as any).error.message).toContain("import of");
  expect(await readers("ckpt")).toEqual(FAILED);
  expect((await complete("ckpt", "hello")).status).toBe(503);
  expect(await readers("ckpt")).toEqual(FAILED);
});
