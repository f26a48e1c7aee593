// RPC workers (llama.cpp's ggml-rpc-server): endpoint syntax and a bounded-time health probe.
//
// ggml aborts the process that cannot connect to a worker, and a worker serves one client at a
// time (a second one waits, unanswered, until the first leaves). So before a runner hands its
// workers to llama.cpp, and while a lost worker is awaited, each is probed with the RPC protocol's
// own first message (HELLO, ggml-rpc.cpp): an answer within the timeout means the worker is up,
// free and speaks our protocol version; anything else becomes a message naming the worker.
import { Socket } from "node:net";

/** Protocol of the pinned llama.cpp (ggml/include/ggml-rpc.h, ggml-rpc/transport.h). */
const RPC_CMD_HELLO = 14;
const RPC_PROTO_MAJOR = 7;
const RPC_PROTO_MINOR = 0;
const CONN_CAPS_SIZE = 24;

/** "HOST:PORT" as ggml-rpc parses it (host up to the first ':'); null when malformed. */
export function parseEndpoint(endpoint: string): { host: string; port: number } | null {
  const colon = endpoint.indexOf(":");
  if (colon <= 0) return null;
  const port = Number(endpoint.slice(colon + 1));
  if (!Number.isInteger(port) || port < 1 || port > 65535) return null;
  return { host: endpoint.slice(0, colon), port };
}

/** Splits "a:1,b:2" and checks each; throws with the bad entry named. */
export function parseEndpointList(list: string): string[] {
  const endpoints = list.split(",").map(s => s.trim()).filter(Boolean);
  for (const e of endpoints) {
    if (!parseEndpoint(e)) throw new Error(`'${e}' is not HOST:PORT`);
  }
  return endpoints;
}

export class WorkerUnreachableError extends Error {
  override name = "WorkerUnreachableError";
  constructor(readonly endpoint: string, reason: string) {
    super(`RPC worker ${endpoint} ${reason}`);
  }
}

/** Resolves when the worker answers HELLO with a compatible version; rejects with the reason. */
export function probeWorker(endpoint: string, timeoutMs = 5000): Promise<void> {
  const parsed = parseEndpoint(endpoint);
  if (!parsed) return Promise.reject(new WorkerUnreachableError(endpoint, "is not HOST:PORT"));
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let reply = Buffer.alloc(0);
    let connected = false;
    const finish = (err?: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(
      () => finish(new WorkerUnreachableError(endpoint, connected
        ? `did not answer within ${timeoutMs} ms (busy serving another client, or stuck)`
        : `could not be reached within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.on("error", err => finish(new WorkerUnreachableError(endpoint, `is unreachable (${(err as NodeJS.ErrnoException).code ?? err.message})`)));
    socket.on("close", () => finish(new WorkerUnreachableError(endpoint, "closed the connection without answering")));
    socket.on("data", (chunk: Buffer) => {
      reply = Buffer.concat([reply, chunk]);
      // | response size (u64) | major | minor | patch | pad | conn caps |
      if (reply.length < 8 + 4) return;
      const [major, minor, patch] = [reply[8]!, reply[9]!, reply[10]!];
      if (major !== RPC_PROTO_MAJOR || minor > RPC_PROTO_MINOR) {
        finish(new WorkerUnreachableError(endpoint, `speaks RPC protocol ${major}.${minor}.${patch}, this build needs ${RPC_PROTO_MAJOR}.${RPC_PROTO_MINOR}.x (rebuild the worker from the same llama.cpp)`));
      } else finish();
    });
    socket.connect(parsed.port, parsed.host, () => {
      connected = true;
      // | cmd (1 byte) | request size (u64) | conn caps (zeros: plain TCP) |
      const hello = Buffer.alloc(1 + 8 + CONN_CAPS_SIZE);
      hello[0] = RPC_CMD_HELLO;
      hello.writeBigUInt64LE(BigInt(CONN_CAPS_SIZE), 1);
      socket.write(hello);
    });
  });
}

/** Probes all workers at once; rejects with the first failure. */
export async function probeWorkers(endpoints: string[], timeoutMs = 5000): Promise<void> {
  await Promise.all(endpoints.map(e => probeWorker(e, timeoutMs)));
}
