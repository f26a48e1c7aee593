// `hearth worker`: starts llama.cpp's RPC worker on 127.0.0.1 by default, warns (saying who can
// reach it) when bound anywhere else, and takes the worker down with it on SIGTERM.
import { expect, test } from "bun:test";
import { probeWorker } from "../../src/engine/rpc-workers.ts";
import { repoRoot } from "../helpers/paths.ts";
import { freePort } from "../helpers/server.ts";

async function startWorkerCommand(args: string[]) {
  const port = await freePort();
  const proc = Bun.spawn([process.execPath, `${repoRoot}/src/cli.ts`, "worker", "--port", String(port), "--threads", "1", ...args], {
    stdout: "pipe",
    stderr: "pipe",
  });
  let answered = false;
  for (let i = 0; i < 150 && !answered; i++) {
    answered = await probeWorker(`127.0.0.1:${port}`, 2000).then(() => true, () => false);
    if (!answered) await Bun.sleep(100);
  }
  return { proc, port, answered };
}

async function stop(proc: ReturnType<typeof Bun.spawn>) {
  proc.kill("SIGTERM");
  await proc.exited;
  return new Response(proc.stderr as ReadableStream).text();
}

test("binds 127.0.0.1 by default, without a warning; SIGTERM stops the worker too", async () => {
  const { proc, port, answered } = await startWorkerCommand([]);
  expect(answered).toBe(true);
  const stderr = await stop(proc);
  expect(stderr).not.toContain("WARNING");
  // The ggml-rpc-server child is gone with it: nothing answers on the port any more.
  await Bun.sleep(200);
  expect(await probeWorker(`127.0.0.1:${port}`, 2000).then(() => "up", e => (e as Error).message)).toContain("unreachable");
});

test("any other address gets a warning that says who can reach the worker", async () => {
  const { proc, answered } = await startWorkerCommand(["--host", "0.0.0.0"]);
  expect(answered).toBe(true);
  const stderr = await stop(proc);
  expect(stderr).toContain("hearth worker: WARNING: listening on 0.0.0.0:");
  expect(stderr).toContain("every machine that can reach any address of this one");
  expect(stderr).toContain("no authentication");
});

test("a bad port is refused before anything starts", () => {
  const run = Bun.spawnSync([process.execPath, `${repoRoot}/src/cli.ts`, "worker", "--port", "99999"]);
  expect(run.exitCode).toBe(2);
  expect(run.stderr.toString()).toContain("--port must be 1-65535");
});
