// RPC workers for tests: llama.cpp's ggml-rpc-server (built by `make lib`) on a free loopback port.
import type { Subprocess } from "bun";
import { probeWorker } from "../../src/engine/rpc-workers.ts";
import { refBin } from "./paths.ts";
import { freePort } from "./server.ts";

export interface Worker {
  endpoint: string;
  port: number;
  proc: Subprocess;
  /** Starts a fresh worker on the same port (after kill). */
  restart(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

async function spawnWorker(port: number, threads: number): Promise<Subprocess> {
  const proc = Bun.spawn([refBin("ggml-rpc-server"), "--host", "127.0.0.1", "--port", String(port), "--threads", String(threads)], {
    stdout: "ignore",
    stderr: "ignore",
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`ggml-rpc-server on port ${port} exited with ${proc.exitCode}`);
    try {
      await probeWorker(`127.0.0.1:${port}`, 2000);
      return proc;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await Bun.sleep(100);
    }
  }
}

export async function startWorker(threads = 1): Promise<Worker> {
  const port = await freePort();
  const worker: Worker = {
    endpoint: `127.0.0.1:${port}`,
    port,
    proc: await spawnWorker(port, threads),
    async restart() {
      worker.proc = await spawnWorker(port, threads);
    },
    async kill(signal = "SIGKILL") {
      worker.proc.kill(signal);
      await worker.proc.exited;
    },
  };
  return worker;
}
