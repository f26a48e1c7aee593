// --request-timeout and the per-stream output cap, over real sockets against a fake engine.
import { afterEach, expect, test } from "bun:test";
import { createApp, type AppOptions } from "../../src/api/app.ts";
import type { GenerateEvent, GenerateRequest } from "../../src/engine/types.ts";
import { FakeEngine, FakeModels } from "../helpers/fake-engine.ts";

/** A fake engine that records how each generation ended. */
class WatchedEngine extends FakeEngine {
  ended: Array<"finished" | "aborted"> = [];
  override async *generate(request: GenerateRequest, signal?: AbortSignal): AsyncGenerator<GenerateEvent> {
    let last: GenerateEvent | undefined;
    try {
      for await (const ev of super.generate(request, signal)) {
        last = ev;
        yield ev;
      }
    } finally {
      // Also when the consumer stops early (return()), which is how a cancel reaches an engine.
      this.ended.push(last?.kind === "done" ? "finished" : "aborted");
    }
  }
}

let server: ReturnType<typeof Bun.serve> | null = null;
afterEach(() => {
  server?.stop(true);
  server = null;
});

function serve(engine: FakeEngine, options: Partial<AppOptions>) {
  const app = createApp(new FakeModels(engine), { apiKeys: [], cors: null, maxBodyBytes: 1 << 20, ...options });
  server = Bun.serve({ port: 0, fetch: app.fetch, idleTimeout: 0 });
  return `http://127.0.0.1:${server.port}`;
}

const chat = (extra: object = {}) => JSON.stringify({ model: "fake-model", messages: [{ role: "user", content: "Hi" }], ...extra });
const post = (url: string, body: string) => fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body });

test("a client that stops reading is cancelled once its stream holds --max-stream-buffer; other streams go on", async () => {
  // 40 MB of output: far more than the kernel's socket buffers take.
  const engine = new WatchedEngine(Array.from({ length: 40_000 }, () => "x".repeat(1000)));
  const url = serve(engine, { maxStreamBufferBytes: 256 * 1024 });
  const body = chat({ stream: true });
  // A raw client with a small receive buffer that sends the request and never reads.
  const stalled = Bun.spawn(["python3", "-c", `
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", ${server!.port}))
body = sys.argv[1].encode()
s.sendall(b"POST /v1/chat/completions HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nContent-Type: application/json\\r\\nContent-Length: " + str(len(body)).encode() + b"\\r\\n\\r\\n" + body)
time.sleep(60)
`, body]);
  try {
    const deadline = Date.now() + 30_000;
    while (engine.ended.length === 0 && Date.now() < deadline) await Bun.sleep(50);
    expect(engine.ended).toEqual(["aborted"]);
    expect(engine.requests.length).toBe(1);
    // Another client's stream is served in full meanwhile.
    const res = await post(url, chat({ stream: true, max_tokens: 5 }));
    const text = await res.text();
    expect(text.trim().endsWith("data: [DONE]")).toBe(true);
    expect(engine.ended).toEqual(["aborted", "finished"]);
  } finally {
    stalled.kill();
  }
}, 60_000);

test("--request-timeout: a JSON answer becomes 504 request_timeout and the generation is cancelled", async () => {
  const engine = new WatchedEngine(Array.from({ length: 100 }, (_, i) => `w${i} `), null, 50);
  const url = serve(engine, { requestTimeoutMs: 300 });
  const t0 = performance.now();
  const res = await post(url, chat());
  expect(res.status).toBe(504);
  const json: any = await res.json();
  expect(json.error).toMatchObject({ code: "request_timeout", type: "server_error" });
  expect(performance.now() - t0).toBeLessThan(4000);
  await Bun.sleep(100);
  expect(engine.ended).toEqual(["aborted"]);
});

test("--request-timeout: a stream ends with an error event after the text it had, then nothing", async () => {
  const engine = new WatchedEngine(Array.from({ length: 100 }, (_, i) => `w${i} `), null, 50);
  const url = serve(engine, { requestTimeoutMs: 500 });
  const res = await post(url, chat({ stream: true }));
  expect(res.status).toBe(200);
  const events = (await res.text()).split("\n\n").filter(Boolean).map(e => e.replace(/^data: /, ""));
  const last = JSON.parse(events.at(-1)!);
  expect(last.error.code).toBe("request_timeout");
  expect(events).not.toContain("[DONE]");
  // Some text came before the timeout.
  expect(events.slice(0, -1).some(e => JSON.parse(e).choices?.[0]?.delta?.content)).toBe(true);
  await Bun.sleep(100);
  expect(engine.ended).toEqual(["aborted"]);
});

test("requests carry an X-Request-Id: the client's own when sane, else a fresh one", async () => {
  const url = serve(new FakeEngine(), {});
  const mine = await fetch(`${url}/v1/models`, { headers: { "x-request-id": "trace-123" } });
  expect(mine.headers.get("x-request-id")).toBe("trace-123");
  const bad = await fetch(`${url}/v1/models`, { headers: { "x-request-id": "no spaces <allowed>" } });
  expect(bad.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  const error = await post(url, "{");
  expect(error.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
});
