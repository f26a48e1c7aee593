// Fuzzing llama-server's POST /slots/{id}?action=… on a server with --slot-save-path: generated slot
// ids, actions, file names and bodies (valid, near-valid, hostile: path walks, control characters,
// long names, wrong types, not JSON), some while a generation holds a slot. Every answer is 200 or
// 4xx in llama-server's envelope, no file appears outside the folder, and the server then answers
// a known request exactly as before. FUZZ_RUNS bodies (CI: 150; `make fuzz`: more). FUZZ_SEED
// reproduces a run.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fc from "fast-check";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultModel } from "../helpers/paths.ts";
import { postJson, startHearth, type Running } from "../helpers/server.ts";
import { judgeNative } from "./llama-server-bodies.ts";

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);

let root: string;
let server: Running;
const known = { prompt: "Once upon a time", n_predict: 12, temperature: 0 };
let knownText = "";

async function completeKnown(): Promise<string> {
  const res = await postJson(`${server.url}/completion`, known);
  expect(res.status).toBe(200);
  return ((await res.json()) as any).content;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "hearth-slot-fuzz-"));
  server = await startHearth(["--model", defaultModel, "--threads", "1", "-np", "2", "-c", "512", "--slot-save-path", join(root, "slots"), "--prompt-cache-size", "0"]);
  knownText = await completeKnown();
  console.log(`slot fuzz: ${RUNS} requests, FUZZ_SEED=${SEED}`);
});
afterAll(async () => {
  await server?.stop();
  rmSync(root, { recursive: true, force: true });
});

const slotId = fc.oneof(fc.constantFrom("0", "1", "2", "-1", "01", "1e3", "99999999999999999999", "abc", "%00", "0x1"), fc.nat(4).map(String));
const action = fc.oneof(
  { arbitrary: fc.constantFrom("save", "restore", "erase"), weight: 6 },
  { arbitrary: fc.constantFrom("SAVE", "", "save&action=erase"), weight: 1 },
  { arbitrary: fc.string({ maxLength: 12 }), weight: 1 },
);
const filename = fc.oneof(
  { arbitrary: fc.constantFrom("a.bin", "b.bin", "c.bin"), weight: 4 },
  fc.constantFrom( "../escape.bin", "..", ".", "a/b.bin", "/etc/passwd", "x\u0000y", "name ", "C:\\x", "é.bin", "x".repeat(300)),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
);
const body = fc.oneof(
  { arbitrary: fc.record({ filename }), weight: 4 },
  fc.record({ filename }, { requiredKeys: [] }),
  fc.record({ filename, model: fc.oneof(fc.constant("stories260K"), fc.string({ maxLength: 20 })) }, { requiredKeys: [] }),
  fc.constant(undefined),
  fc.jsonValue({ maxDepth: 2 }),
  fc.record({ filename: fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 })) }),
);

test("POST /slots/{id}?action=… with generated ids, actions and bodies → 200 or 4xx in llama-server's envelope", async () => {
  const cases = fc.sample(fc.tuple(slotId, action, body, fc.boolean()), { numRuns: RUNS, seed: SEED });
  const statuses = new Map<number, number>();
  // A generation holds a slot for part of the run: actions on it are refused, not raced.
  const busy = postJson(`${server.url}/completion`, { prompt: "Far away", n_predict: 100, id_slot: 1, stream: false });
  for (const [id, act, b, raw] of cases) {
    const url = `${server.url}/slots/${id}?action=${encodeURIComponent(act)}`;
    const init: RequestInit = b === undefined ? { method: "POST" } : { method: "POST", headers: { "content-type": "application/json" }, body: raw ? `${JSON.stringify(b)}}` : JSON.stringify(b) };
    const res = await fetch(url, init);
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    const problem = judgeNative(res.status, res.headers.get("content-type") ?? "", await res.text());
    if (res.status >= 500 || (res.status !== 200 && res.status < 400)) throw new Error(`${url} ${JSON.stringify(b)}: status ${res.status}`);
    if (problem) throw new Error(`${url} ${JSON.stringify(b)}: ${problem}`);
  }
  expect((await busy).status).toBe(200);
  // Which generated actions succeed depends on timing (slot 1 is busy for part of the run, an empty
  // slot has nothing to save): one known save and one known refusal make the checks below certain.
  for (const [b, expected] of [[{ filename: "known.bin" }, 200], [{ filename: "../escape.bin" }, 400]] as const) {
    const res = await postJson(`${server.url}/slots/1?action=save`, b);
    expect(res.status).toBe(expected);
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    expect(judgeNative(res.status, res.headers.get("content-type") ?? "", await res.text())).toBeFalsy();
  }
  console.log(`slot fuzz statuses: ${JSON.stringify(Object.fromEntries(statuses))}`);
  expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
  expect(statuses.get(400) ?? 0).toBeGreaterThan(0);
  // Nothing was written outside the folder (every file name it holds is a bare name).
  expect(readdirSync(root)).toEqual(["slots"]);
  expect(readdirSync(join(root, "slots")).length).toBeGreaterThan(0);
  expect(await completeKnown()).toBe(knownText);
}, 600_000);
