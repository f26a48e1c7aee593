// `hearth worker`: runs llama.cpp's RPC worker (ggml-rpc-server, shipped next to hearth) so that
// a Hearth server elsewhere can put model layers on this machine with --rpc HOST:PORT.
//
// The RPC protocol has no authentication: whoever reaches the port can use the worker. It binds
// 127.0.0.1 unless told otherwise, and any other address gets a warning saying who can reach it.
import { findWorkerBinary } from "./llama/library.ts";
import { parseCommand, WORKER } from "./options/commands.ts";

export const DEFAULT_WORKER_PORT = WORKER.options.port.default;

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function exposureWarning(host: string, port: number): string {
  const who = host === "0.0.0.0" || host === "::"
    ? "every machine that can reach any address of this one"
    : `every machine that can reach ${host}`;
  return [
    `hearth worker: WARNING: listening on ${host}:${port}, which ${who} can connect to.`,
    "  The RPC protocol has no authentication and no encryption: any of them can send this worker",
    "  tensors and computations, and read what it holds. Keep workers on a private network or",
    "  reach them through a tunnel (SSH -L, WireGuard) and bind 127.0.0.1.",
  ].join("\n");
}

export async function workerCommand(argv: string[]): Promise<void> {
  const { values } = parseCommand(WORKER, argv);
  const { host, port, threads } = values;
  const binary = findWorkerBinary();
  if (!binary) {
    console.error("hearth worker: ggml-rpc-server not found next to hearth or in lib/bin: build it with `make lib` (RPC=1, the default)");
    process.exit(1);
  }
  if (!isLoopback(host)) console.error(exposureWarning(host, port));
  const args = ["--host", host, "--port", String(port), ...(threads ? ["--threads", String(threads)] : []), ...(values.cache ? ["--cache"] : [])];
  const child = Bun.spawn([binary, ...args], { stdio: ["ignore", "inherit", "inherit"] });
  // Bun cannot exec(): pass the usual stop signals on, and leave with the worker's status.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => child.kill(signal));
  const code = await child.exited;
  process.exit(child.signalCode ? 1 : code);
}
