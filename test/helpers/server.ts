// Starts real servers for tests: Hearth (our CLI) and llama.cpp's llama-server, on free ports.
import type { Subprocess } from "bun";
import { readFileSync, readdirSync } from "node:fs";
import { refBin, repoRoot } from "./paths.ts";

export async function freePort(): Promise<number> {
  const probe = Bun.serve({ port: 0, fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

export interface Running {
  url: string;
  port: number;
  proc: Subprocess;
  stop(): Promise<void>;
}

async function waitReady(url: string, proc: Subprocess, timeoutMs: number, ready: (res: Response) => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`server exited early with code ${proc.exitCode}`);
    try {
      const res = await fetch(`${url}/health`);
      if (await ready(res)) return;
    } catch {
      /* not listening yet */
    }
    await Bun.sleep(100);
  }
  throw new Error(`server at ${url} not ready after ${timeoutMs} ms`);
}

function running(proc: Subprocess, port: number): Running {
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    proc,
    async stop() {
      proc.kill("SIGTERM");
      const done = await Promise.race([proc.exited.then(() => true), Bun.sleep(5000).then(() => false)]);
      if (!done) proc.kill("SIGKILL");
    },
  };
}

/** `hearth serve` from source; resolves once the (first) model is loaded. */
export async function startHearth(args: string[], env: Record<string, string> = {}, options: { ownProcessGroup?: boolean } = {}): Promise<Running> {
  const port = await freePort();
  // The prompt cache on disk is off unless a test asks for it: a test's server must not restore what
  // another test's server saved (nor write into ~/.hearth).
  const cache = args.some(a => a.startsWith("--prompt-cache")) ? [] : ["--prompt-cache-size", "0"];
  const proc = Bun.spawn([process.execPath, `${repoRoot}/src/cli.ts`, "serve", "--port", String(port), ...cache, ...args], {
    cwd: repoRoot,
    // In its own group, a test can signal the server and its runners at once, as Ctrl-C does.
    detached: options.ownProcessGroup ?? false,
    env: { ...process.env, HEARTH_LOG_LEVEL: "warn", ...env },
    stdout: "inherit",
    stderr: "inherit",
  });
  const server = running(proc, port);
  await waitReady(server.url, proc, 30_000, async res => {
    const json: any = await res.json();
    return json.models?.some((m: any) => m.state === "loaded");
  });
  return server;
}

/** llama.cpp's own llama-server, built by `make lib` from the same source. */
export async function startLlamaServer(args: string[]): Promise<Running> {
  const port = await freePort();
  const proc = Bun.spawn([refBin("llama-server"), "--host", "127.0.0.1", "--port", String(port), ...args], {
    stdout: "ignore",
    stderr: "ignore",
  });
  const server = running(proc, port);
  await waitReady(server.url, proc, 60_000, async res => res.status === 200);
  return server;
}

export async function postJson(url: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), ...init });
}

/** Reads an SSE response into its data payloads (without the "data: " prefix). */
export async function readSse(res: Response): Promise<string[]> {
  const text = await res.text();
  return text
    .split("\n\n")
    .map(e => e.trim())
    .filter(e => e.startsWith("data: "))
    .map(e => e.slice(6));
}

/** Child process ids of a process (Linux /proc): a Hearth server's runners. */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const text = readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").trim();
    if (text) out.push(...text.split(/\s+/).map(Number));
  }
  return out;
}
