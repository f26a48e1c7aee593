// A worker that disappears: the model's requests end with a clear error in bounded time, the model
// is "failed" with the reason, the server keeps answering a model that does not use the worker,
// and the model is back (reloaded with back-off) once the worker is. A worker that stops answering
// without closing its socket is caught by --rpc-timeout, and an unreachable worker fails a load fast.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generatedModel } from "../helpers/models.ts";
import { defaultModel } from "../helpers/paths.ts";
import { freePort, postJson, startHearth, type Running } from "../helpers/server.ts";
import { startWorker, type Worker } from "../helpers/workers.ts";

let workers: Worker[] = [];
let server: Running;
let deadPort: number;
beforeAll(async () => {
  workers = [await startWorker(), await startWorker()];
  deadPort = await freePort(); // nobody listens here
  const dir = mkdtempSync(join(tmpdir(), "hearth-rpc-"));
  copyFileSync(await generatedModel("tiny-qwen2"), join(dir, "split.gguf"));
  copyFileSync(await generatedModel("tiny-qwen2"), join(dir, "nowhere.gguf"));
  copyFileSync(defaultModel, join(dir, "local.gguf"));
  const config = {
    models: {
      split: { rpc: workers.map(w => w.endpoint), tensor_split: [1, 1], gpu_layers: 2, parallel: 2 },
      nowhere: { rpc: [`127.0.0.1:${deadPort}`] },
    },
  };
  writeFileSync(join(dir, "hearth.json"), JSON.stringify(config));
  server = await startHearth(["--model", join(dir, "split.gguf"), "--model", join(dir, "local.gguf"), "--model", join(dir, "nowhere.gguf"),
    "--config", join(dir, "hearth.json"), "--threads", "1", "--rpc-timeout", "5"]);
});
afterAll(async () => {
  await server?.stop();
  await Promise.all(workers.map(w => w.kill("SIGTERM")));
});

const meta = async (id: string) => ((await (await fetch(`${server.url}/v1/models/${id}`)).json()) as any).meta;

async function streamUntilEnd(res: Response, onFirstChunk: () => void | Promise<void>): Promise<{ last: any; ms: number }> {
  const reader = res.body!.getReader();
  await reader.read();
  await onFirstChunk();
  const t0 = Date.now();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  const events = text.trim().split("\n\n").map(e => e.slice(6)).filter(e => e !== "[DONE]");
  return { last: JSON.parse(events.at(-1)!), ms: Date.now() - t0 };
}

async function waitLoaded(id: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await meta(id)).state !== "loaded") {
    if (Date.now() > deadline) throw new Error(`${id} not back after ${timeoutMs} ms: ${JSON.stringify(await meta(id))}`);
    await Bun.sleep(250);
  }
}

const long = { model: "split", prompt: "Count:", max_tokens: 3000, ignore_eos: true, stream: true };

test("killing a worker mid-stream: a clear error, the model is failed with the reason, others still answer, and it comes back", async () => {
  expect((await meta("split")).state).toBe("loaded");
  const res = await postJson(`${server.url}/v1/completions`, long);
  expect(res.status).toBe(200);
  const { last, ms } = await streamUntilEnd(res, () => workers[1]!.kill("SIGKILL"));
  expect(ms).toBeLessThan(30_000);
  expect(last.error.message).toMatch(/runner stopped unexpectedly \(signal SIGABRT\).*Remote RPC server crashed/);
  expect(last.error.code).toBe("model_unavailable");

  const failed = await meta("split");
  expect(failed.state).toBe("failed");
  expect(failed.error).toMatch(new RegExp(`Remote RPC server crashed|RPC worker ${workers[1]!.endpoint}`));
  // A request for it now is refused at once with the reason, not hung.
  const refused = await postJson(`${server.url}/v1/completions`, { model: "split", prompt: "Hi", max_tokens: 4 });
  expect(refused.status).toBe(503);
  expect(((await refused.json()) as any).error.code).toBe("model_unavailable");

  const other = await postJson(`${server.url}/v1/completions`, { model: "local", prompt: "Once upon a time", max_tokens: 16, temperature: 0 });
  expect(other.status).toBe(200);
  expect(((await other.json()) as any).usage.completion_tokens).toBe(16);

  await workers[1]!.restart();
  await waitLoaded("split", 60_000);
  const again = await postJson(`${server.url}/v1/completions`, { model: "split", prompt: "Hello", max_tokens: 8, temperature: 0 });
  expect(again.status).toBe(200);
  expect(((await again.json()) as any).usage.completion_tokens).toBe(8);
  expect((await meta("split")).devices.map((d: any) => d.endpoint)).toEqual([null, ...workers.map(w => w.endpoint)]);
});

test("a worker that stops answering (SIGSTOP) ends the stream after --rpc-timeout instead of hanging", async () => {
  await waitLoaded("split", 60_000);
  const res = await postJson(`${server.url}/v1/completions`, long);
  const { last, ms } = await streamUntilEnd(res, () => void workers[0]!.proc.kill("SIGSTOP"));
  workers[0]!.proc.kill("SIGCONT");
  expect(last.error.message).toMatch(/no progress for 5 s: an RPC worker stopped answering/);
  expect(ms).toBeLessThan(30_000);
  // Resumed, the worker writes to the socket of the runner that was killed, and SIGPIPE ends it
  // (ggml-rpc-server's own behaviour): it is started again, as its supervisor would.
  await Promise.race([workers[0]!.proc.exited, Bun.sleep(3000)]);
  if (workers[0]!.proc.signalCode !== null || workers[0]!.proc.exitCode !== null) await workers[0]!.restart();
  await waitLoaded("split", 60_000);
});

test("a model whose worker is unreachable fails its load quickly, naming the worker", async () => {
  const t0 = Date.now();
  const res = await postJson(`${server.url}/v1/completions`, { model: "nowhere", prompt: "Hi", max_tokens: 4 });
  expect(res.status).toBe(503);
  const body: any = await res.json();
  expect(body.error.message).toContain(`RPC worker 127.0.0.1:${deadPort} is unreachable (ECONNREFUSED)`);
  expect(Date.now() - t0).toBeLessThan(30_000);
  const m = await meta("nowhere");
  expect(m.state).toBe("failed");
  expect(m.rpc).toEqual([`127.0.0.1:${deadPort}`]);
});
