// Issue 23, finding 5: /tokenize and /detokenize are bounded. A 16 MiB body of ~3M ids, or a text
// longer than the limit, is a 400 that names the limit (it used to answer megabytes of JSON
// through both processes, or a 500 from push(...) over a million tokens), /health keeps
// answering meanwhile, and ordinary requests work as before.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { MAX_TEXT_CHARS, MAX_TOKENS } from "../../src/api/tokenize/route.ts";
import { defaultModel } from "../helpers/paths.ts";
import { postJson, startHearth, type Running } from "../helpers/server.ts";

let server: Running;
const model = "stories260K";

beforeAll(async () => {
  server = await startHearth(["--model", defaultModel, "--threads", "1"]);
});
afterAll(async () => {
  await server?.stop();
});

/** Sends the request while polling /health; returns the answer and the slowest /health. */
async function whileHealthPolled(path: string, body: object): Promise<{ status: number; json: any; slowestHealthMs: number }> {
  let done = false;
  let slowest = 0;
  const polling = (async () => {
    while (!done) {
      const t0 = performance.now();
      const res = await fetch(`${server.url}/health`);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      slowest = Math.max(slowest, performance.now() - t0);
      await Bun.sleep(20);
    }
  })();
  const res = await postJson(`${server.url}${path}`, body);
  const json = await res.json();
  done = true;
  await polling;
  return { status: res.status, json, slowestHealthMs: slowest };
}

async function ordinaryRequestsWork(): Promise<void> {
  const tok: any = await (await postJson(`${server.url}/tokenize`, { model, content: "Once upon a time", with_pieces: true })).json();
  expect(tok.tokens.length).toBeGreaterThan(0);
  const detok: any = await (await postJson(`${server.url}/detokenize`, { model, tokens: tok.tokens.map((t: any) => t.id) })).json();
  expect(detok.content.trim()).toBe("Once upon a time");
}

test("/detokenize with 3,000,000 ids: 400 naming the limit, /health answering meanwhile, then business as usual", async () => {
  const { status, json, slowestHealthMs } = await whileHealthPolled("/detokenize", { model, tokens: new Array(3_000_000).fill(300) });
  expect(status).toBe(400);
  expect(json.error).toMatchObject({ type: "invalid_request_error", param: "tokens" });
  expect(json.error.message).toContain(String(MAX_TOKENS));
  expect(slowestHealthMs).toBeLessThan(5000);
  expect(server.proc.exitCode).toBeNull();
  await ordinaryRequestsWork();
});

test("/detokenize with exactly the limit of ids is answered", async () => {
  const res = await postJson(`${server.url}/detokenize`, { model, tokens: new Array(MAX_TOKENS).fill(300) });
  expect(res.status).toBe(200);
  const json: any = await res.json();
  expect(json.content.length).toBeGreaterThan(0);
});

test("/tokenize at the text limit in the tokenizer's worst case (every character 3 byte tokens) is answered, /health answering meanwhile", async () => {
  const content = "中".repeat(MAX_TEXT_CHARS); // outside stories260K's vocabulary
  const { status, json, slowestHealthMs } = await whileHealthPolled("/tokenize", { model, content, with_pieces: true });
  expect(status).toBe(200);
  expect(json.tokens.length).toBeGreaterThanOrEqual(3 * MAX_TEXT_CHARS);
  expect(json.tokens.length).toBeLessThanOrEqual(3 * MAX_TEXT_CHARS + 2); // a leading space, BOS
  expect(slowestHealthMs).toBeLessThan(5000);
});

test("/tokenize with more text than the limit: 400 naming it, before any tokenizing (not a 500 from push(...) over a million tokens)", async () => {
  for (const content of ["a".repeat(MAX_TEXT_CHARS + 1), ["a".repeat(MAX_TEXT_CHARS), 5, "b"], "a".repeat(1_100_000)]) {
    const res = await postJson(`${server.url}/tokenize`, { model, content });
    const json: any = await res.json();
    expect(res.status).toBe(400);
    expect(json.error).toMatchObject({ param: "content" });
    expect(json.error.message).toContain(String(MAX_TEXT_CHARS));
  }
  await ordinaryRequestsWork();
});
