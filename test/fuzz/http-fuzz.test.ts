// Fuzzing every endpoint of a real server with generated bodies (valid, near-valid, hostile):
// every answer is 200 or 4xx in its dialect's envelope (Anthropic's on /v1/messages, Ollama's on
// /api/..., llama-server's on its native routes, else OpenAI's; Responses streams numbered typed events), never 5xx and never a stack trace, and the
// server still answers a known request exactly as before. A stream that began may end in an error
// only for a grammar found too ambiguous on the way (stream-errors.ts). FUZZ_RUNS bodies per endpoint (CI: a
// few hundred; `make fuzz`: 10,000). FUZZ_SEED reproduces a run.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fc from "fast-check";
import { basename } from "node:path";
import { generatedModel } from "../helpers/models.ts";
import { defaultModel } from "../helpers/paths.ts";
import { startHearth, type Running } from "../helpers/server.ts";
import { MAX_TOKENS } from "../../src/api/tokenize/route.ts";
import { isNativePath } from "../../src/api/llama-server/errors.ts";
import * as arb from "./arbitraries.ts";
import * as ollama from "./ollama-arbitraries.ts";
import * as native from "./llama-server-bodies.ts";
import { fimModel, rerankerModel } from "../helpers/native-models.ts";
import { tooAmbiguous } from "./stream-errors.ts";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const CONCURRENCY = 8;
const model = basename(defaultModel, ".gguf");
// tiny-bert serves the embeddings bodies (an embedding model; stories260K cannot embed).
const bert = await generatedModel("tiny-bert");
// A FIM model serves /infill, a reranker /rerank (llama-server's native routes).
const [fim, reranker] = await Promise.all([fimModel(), rerankerModel()]);
const [bertId, fimId, rerankerId] = [bert, fim, reranker].map(p => basename(p, ".gguf")) as [string, string, string];

let server: Running;
const known = { model, prompt: "Once upon a time", max_tokens: 24, temperature: 0 };
let knownText = "";

async function completeKnown(): Promise<string> {
  const res = await fetch(`${server.url}/v1/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(known) });
  expect(res.status).toBe(200);
  return ((await res.json()) as any).choices[0].text;
}

beforeAll(async () => {
  // A queue deep enough for n up to 128 from 8 clients at once: 503 is for real overload only.
  // Its own HEARTH_HOME (Ollama's /api/copy writes aliases.json there); pulls reach no hub.
  server = await startHearth(["--model", defaultModel, "--model", bert, "--model", fim, "--model", reranker, "--threads", "1", "-np", "4", "-c", "512", "--queue-size", "4096"], {
    HEARTH_HOME: mkdtempSync(join(tmpdir(), "hearth-fuzz-")),
    HF_ENDPOINT: "http://127.0.0.1:1",
  });
  knownText = await completeKnown();
  console.log(`fuzz: ${RUNS} bodies per endpoint, FUZZ_SEED=${SEED}`);
});
afterAll(() => server?.stop());

/** What is wrong with one answer, or null when it is acceptable (Anthropic's envelope and events on /v1/messages). */
async function judge(res: Response, path: string): Promise<string | null> {
  if (res.status >= 500) return `status ${res.status}: ${await res.text()}`;
  if (res.status !== 200 && (res.status < 400 || res.status >= 500)) return `unexpected status ${res.status}`;
  const type = res.headers.get("content-type") ?? "";
  const text = await res.text();
  if (path.startsWith("/v1/messages")) return judgeAnthropic(res.status, type, text);
  if (path.startsWith("/api/")) return judgeOllama(res.status, type, text);
  if (isNativePath(path)) return native.judgeNative(res.status, type, text);
  if (type.startsWith("text/event-stream") && (path === "/v1/responses" || path === "/responses")) return judgeResponsesStream(text);
  if (type.startsWith("text/event-stream")) {
    // A stream that failed after its first byte carries the error as an event: only a grammar
    // found too ambiguous on the way (stream-errors.ts), as the stream's last event.
    const events = text.split("\n\n").filter(e => e.trim());
    for (const [i, event] of events.entries()) {
      if (!event.startsWith("data: {")) continue;
      const data = JSON.parse(event.slice(6));
      if (data.error) return i === events.length - 1 && data.error.code === "invalid_grammar" && tooAmbiguous(data.error.message) ? null : `stream error event: ${JSON.stringify(data.error)}`;
    }
    return text.trim().endsWith("data: [DONE]") ? null : "stream did not end with [DONE]";
  }
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    return res.status === 200 ? null : `error body is not JSON: ${text.slice(0, 200)}`;
  }
  if (res.status >= 400) {
    const e = json?.error;
    if (!e || typeof e.message !== "string" || !("type" in e) || !("param" in e) || !("code" in e)) return `not an error envelope: ${text.slice(0, 300)}`;
    if (/\n\s+at |node_modules|\.ts:\d+/.test(e.message)) return `internal detail leaked: ${e.message.slice(0, 300)}`;
  }
  return null;
}

function judgeAnthropic(status: number, type: string, text: string): string | null {
  if (type.startsWith("text/event-stream")) {
    const frames = text.split("\n\n").filter(f => f.trim());
    for (const [i, frame] of frames.entries()) {
      if (frame.startsWith("event: error")) {
        const e = JSON.parse(frame.slice(frame.indexOf("data: ") + 6)).error;
        return i === frames.length - 1 && e?.type === "invalid_request_error" && tooAmbiguous(e.message) ? null : `stream error event: ${frame}`;
      }
      if (frame.trim() && !/^event: \w+\ndata: \{/.test(frame)) return `an unnamed or non-JSON frame: ${frame.slice(0, 200)}`;
    }
    return text.trim().endsWith('event: message_stop\ndata: {"type":"message_stop"}') ? null : "stream did not end with message_stop";
  }
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    return `body is not JSON: ${text.slice(0, 200)}`;
  }
  if (status === 200) return null;
  const e = json?.error;
  if (json?.type !== "error" || typeof e?.type !== "string" || typeof e.message !== "string") return `not Anthropic's error envelope: ${text.slice(0, 300)}`;
  if (/\n\s+at |node_modules|\.ts:\d+/.test(e.message)) return `internal detail leaked: ${e.message.slice(0, 300)}`;
  return null;
}

/** Ollama's answers: NDJSON lines ending `done: true` (or a pull's `success`), errors `{"error": "…"}` only. */
function judgeOllama(status: number, type: string, text: string): string | null {
  if (type.startsWith("application/x-ndjson")) {
    const lines = text.trimEnd().split("\n");
    for (const [i, line] of lines.entries()) {
      let obj: any;
      try {
        obj = JSON.parse(line);
      } catch {
        return `a line that is not JSON: ${line.slice(0, 200)}`;
      }
      if (obj.error !== undefined) return i === lines.length - 1 && Object.keys(obj).length === 1 && tooAmbiguous(obj.error) ? null : `stream error line: ${line.slice(0, 300)}`;
    }
    const last = JSON.parse(lines.at(-1)!);
    return last.done === true || last.status === "success" ? null : `stream did not end with done: ${lines.at(-1)!.slice(0, 200)}`;
  }
  if (status === 200 && text === "") return null; // delete and copy answer with an empty 200
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    return `body is not JSON: ${text.slice(0, 200)}`;
  }
  if (status === 200) return null;
  if (typeof json?.error !== "string" || Object.keys(json).length !== 1) return `not Ollama's error envelope: ${text.slice(0, 300)}`;
  if (/\n\s+at |node_modules|\.ts:\d+/.test(json.error)) return `internal detail leaked: ${json.error.slice(0, 300)}`;
  return null;
}

/** A Responses event stream: every frame named after its type, numbered in order, ending in response.completed or .incomplete. */
function judgeResponsesStream(text: string): string | null {
  const frames = text.split("\n\n").filter(f => f.trim());
  for (const [i, frame] of frames.entries()) {
    const m = /^event: ([\w.]+)\ndata: (\{.*\})$/s.exec(frame);
    if (!m) return `an unnamed or non-JSON frame: ${frame.slice(0, 200)}`;
    const data = JSON.parse(m[2]!);
    if (data.type !== m[1] || data.sequence_number !== i) return `frame ${i} is ${m[1]} carrying ${data.type} #${data.sequence_number}`;
    if (data.type === "error") return i === frames.length - 1 && data.code === "invalid_grammar" && tooAmbiguous(data.message) ? null : `stream error event: ${frame}`;
  }
  return /^event: response\.(completed|incomplete)\n/.test(frames.at(-1) ?? "") ? null : "stream did not end with response.completed";
}

async function fuzz(method: string, path: string | ((i: number) => string), bodies: string[] | null): Promise<Map<number, number>> {
  const count = bodies?.length ?? RUNS;
  const failures: string[] = [];
  const statuses = new Map<number, number>();
  for (let start = 0; start < count; start += CONCURRENCY) {
    await Promise.all(
      Array.from({ length: Math.min(CONCURRENCY, count - start) }, async (_, k) => {
        const i = start + k;
        const url = `${server.url}${typeof path === "string" ? path : path(i)}`;
        const body = bodies?.[i];
        const t0 = performance.now();
        const res = await fetch(url, { method, headers: { "content-type": "application/json" }, body });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const problem = await judge(res.clone(), new URL(url).pathname);
        if (process.env.FUZZ_DEBUG) require("node:fs").appendFileSync(process.env.FUZZ_DEBUG, JSON.stringify({ status: res.status, ms: Math.round(performance.now() - t0), start: Math.round(t0), body, answer: (await res.text()).slice(0, 300) }) + "\n");
        if (problem && failures.length < 5) failures.push(`${method} ${url} ${body?.slice(0, 300) ?? ""}\n  → ${problem}`);
      }),
    );
  }
  console.log(`  ${method} ${typeof path === "string" ? path : "(ids)"}: ${[...statuses].sort().map(([s, n]) => `${s}×${n}`).join(" ")}`);
  expect(failures).toEqual([]);
  return statuses;
}

const sample = (a: fc.Arbitrary<unknown>, salt: number) => fc.sample(arb.wireText(a), { numRuns: RUNS, seed: SEED + salt });

const endpoints: Array<[string, fc.Arbitrary<unknown>]> = [
  ["/v1/chat/completions", arb.chatBody(model)],
  ["/v1/completions", arb.completionBody(model)],
  ["/tokenize", arb.tokenizeBody(model)],
  ["/detokenize", arb.detokenizeBody(model)],
  ["/v1/embeddings", arb.embeddingsBody([basename(bert, ".gguf"), model])],
  ["/apply-template", arb.applyTemplateBody(model)],
  ["/models/load", arb.modelAdminBody(model)],
  ["/v1/messages", arb.anthropicMessagesBody(model)],
  ["/v1/messages/count_tokens", arb.anthropicCountTokensBody(model)],
  ["/v1/responses", arb.responsesBody(model)],
  ["/v1/responses/input_tokens", arb.responsesInputTokensBody(model)],
  ["/api/chat", ollama.ollamaChatBody(model)],
  ["/api/generate", ollama.ollamaGenerateBody(model)],
  ["/api/embed", ollama.ollamaEmbedBody([basename(bert, ".gguf"), model])],
  ["/api/embeddings", ollama.ollamaEmbeddingsBody([basename(bert, ".gguf"), model])],
  ["/api/show", ollama.ollamaNameBody(model)],
  ["/api/copy", ollama.ollamaCopyBody(model)],
  ["/api/pull", ollama.ollamaPullBody()],
  ["/completion", native.completionBody(model)],
  ["/completions", native.completionBody(model)],
  ["/infill", native.infillBody([fimId, model])],
  ["/rerank", native.rerankBody([rerankerId, bertId])],
  ["/v1/reranking", native.rerankBody([rerankerId, model])],
  ["/embedding", native.embeddingBody([bertId, rerankerId])],
  ["/chat/completions", arb.chatBody(model)],
  ["/chat/completions/input_tokens", arb.chatBody(model)],
];

endpoints.forEach(([path, body], salt) => {
  test(`POST ${path}: ${RUNS} generated bodies → 200 or 4xx in the envelope`, async () => {
    await fuzz("POST", path, sample(body, salt));
  }, 3_600_000);
});

test("raw bytes (invalid UTF-8, binary) to every POST endpoint → 4xx", async () => {
  const raw = fc.sample(fc.uint8Array({ maxLength: 256 }), { numRuns: RUNS, seed: SEED + 100 });
  for (const [path] of endpoints) {
    const failures: string[] = [];
    for (let i = 0; i < raw.length; i += CONCURRENCY) {
      await Promise.all(raw.slice(i, i + CONCURRENCY).map(async bytes => {
        const res = await fetch(`${server.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: bytes });
        const problem = await judge(res, path);
        if (problem && failures.length < 5) failures.push(`${path} ${Buffer.from(bytes).toString("hex").slice(0, 100)} → ${problem}`);
      }));
    }
    expect(failures).toEqual([]);
  }
}, 3_600_000);

test(`POST generated JSON schemas (ordinary, deep, wide, broken) in every place a schema goes: ${RUNS} requests → 200 or 4xx`, async () => {
  const requests = fc.sample(arb.schemaRequest(model), { numRuns: RUNS, seed: SEED + 500 });
  const statuses = await fuzz("POST", i => requests[i]!.path, requests.map(r => JSON.stringify(r.body)));
  expect(statuses.get(200) ?? 0).toBeGreaterThan(0); // ordinary schemas are served
}, 3_600_000);

/** A 200 to a huge body is only right for a text within /tokenize's limit. */
async function withinLimits(path: string, res: Response): Promise<string | null> {
  const json: any = await res.json();
  if (path === "/tokenize" && json.tokens.length <= MAX_TOKENS) return null;
  return `${path} answered 200 (${JSON.stringify(json).length} bytes)`;
}

test("bodies of many megabytes (token arrays, long texts, schemas past the converter's budget) → 4xx promptly, /health answering throughout", async () => {
  // Sampled a pair at a time: a run's worth of such bodies at once would not fit in memory.
  const count = Math.max(8, Math.ceil(RUNS / 25));
  const failures: string[] = [];
  const statuses = new Map<number, number>();
  let done = false;
  let slowestHealth = 0;
  const health = (async () => {
    while (!done) {
      const t0 = performance.now();
      const res = await fetch(`${server.url}/health`);
      await res.arrayBuffer();
      if (res.status !== 200 && failures.length < 5) failures.push(`/health → ${res.status}`);
      slowestHealth = Math.max(slowestHealth, performance.now() - t0);
      await Bun.sleep(50);
    }
  })();
  for (let start = 0; start < count; start += 2) {
    const batch = fc.sample(arb.hugeBodies(model), { numRuns: Math.min(2, count - start), seed: SEED + 400 + start });
    await Promise.all(batch.map(async ({ path, body }) => {
      const res = await fetch(`${server.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const problem = (await judge(res.clone(), path)) ?? (res.status === 200 ? await withinLimits(path, res) : null);
      if (problem && failures.length < 5) failures.push(`${path} ${JSON.stringify(body).slice(0, 200)}\n  → ${problem}`);
    }));
  }
  done = true;
  await health;
  console.log(`  huge bodies: ${[...statuses].sort().map(([s, n]) => `${s}×${n}`).join(" ")}; slowest /health ${Math.round(slowestHealth)} ms`);
  expect(failures).toEqual([]);
  expect(slowestHealth).toBeLessThan(5000);
}, 3_600_000);

test("DELETE /api/delete with generated names → 4xx (the fuzz server serves no file Hearth pulled); GET /api/tags, /api/ps, /api/version → 200", async () => {
  const statuses = await fuzz("DELETE", "/api/delete", sample(ollama.ollamaNameBody(model), 700));
  expect(statuses.get(200) ?? 0).toBe(0);
  for (const path of ["/api/tags", "/api/ps", "/api/version"]) expect((await fetch(`${server.url}${path}`)).status).toBe(200);
}, 3_600_000);

test("GET /props and /slots with generated queries → 200 or 4xx in llama-server's envelope; POST /props → 501", async () => {
  const queries = fc.sample(native.nativeQuery(model), { numRuns: RUNS, seed: SEED + 900 });
  for (const path of ["/props", "/slots"]) {
    const statuses = await fuzz("GET", i => `${path}?${new URLSearchParams(queries[i]!)}`, null);
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
  }
  expect((await fetch(`${server.url}/props`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).status).toBe(501);
}, 3_600_000);

test("GET /v1/models/{id} with generated ids → 200 or 404", async () => {
  const ids = fc.sample(fc.oneof(fc.string(), fc.constant(model), fc.string({ unit: "binary" })), { numRuns: RUNS, seed: SEED + 200 });
  await fuzz("GET", i => `/v1/models/${encodeURIComponent(ids[i] as string)}`, null);
}, 3_600_000);

test("GET and DELETE /v1/responses/{id} with generated ids → 200 or 404", async () => {
  const stored = await fetch(`${server.url}/v1/responses`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model, input: "Once", max_output_tokens: 2 }) });
  const id = ((await stored.json()) as any).id as string;
  const ids = fc.sample(fc.oneof(fc.string(), fc.constant(id), fc.constant(`${id}/x`), fc.string({ unit: "binary" })), { numRuns: RUNS, seed: SEED + 600 });
  for (const method of ["GET", "DELETE"]) await fuzz(method, i => `/v1/responses/${encodeURIComponent(ids[i] as string)}`, null);
}, 3_600_000);

test("GET /v1/responses/{id}/input_items with generated ids and queries, POST /v1/responses/{id}/cancel → 200, 400 or 404", async () => {
  const stored = await fetch(`${server.url}/v1/responses`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model, input: [{ role: "user", content: "Once" }, { role: "user", content: "upon" }], max_output_tokens: 2 }) });
  const id = ((await stored.json()) as any).id as string;
  const ids = fc.sample(fc.oneof(fc.string(), fc.constant(id), fc.string({ unit: "binary" })), { numRuns: RUNS, seed: SEED + 800 });
  const value = fc.oneof(fc.constantFrom("1", "2", "20", "100", "0", "101", "-1", "1.5", "asc", "desc", "up", "msg_nope", ""), fc.string({ maxLength: 12 }));
  const queries = fc.sample(fc.dictionary(fc.constantFrom("limit", "order", "after", "include", "x"), value, { maxKeys: 4 }), { numRuns: RUNS, seed: SEED + 801 });
  const statuses = await fuzz("GET", i => `/v1/responses/${encodeURIComponent(ids[i] as string)}/input_items?${new URLSearchParams(queries[i]!)}`, null);
  expect(statuses.get(200) ?? 0).toBeGreaterThan(0); // the stored response's items are listed
  await fuzz("POST", i => `/v1/responses/${encodeURIComponent(ids[i] as string)}/cancel`, null);
}, 3_600_000);

test("/models/unload with generated bodies, then the server still answers the known request exactly as before", async () => {
  await fuzz("POST", "/models/unload", sample(arb.modelAdminBody(model), 300));
  expect(server.proc.exitCode).toBeNull();
  const health = await fetch(`${server.url}/health`);
  expect(health.status).toBe(200);
  expect(await completeKnown()).toBe(knownText);
}, 3_600_000);
