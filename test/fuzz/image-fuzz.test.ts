// Fuzzing image input on real vision models (tiny random Qwen2.5-VL and Gemma 3 projectors, one
// server): generated image parts in OpenAI chat, Anthropic (also inside tool_result) and Responses
// bodies — valid images of any shape, cut and hostile files, broken URLs — are answered 200 or 4xx
// in the dialect's envelope, never 5xx and never an error after a stream began (a runner that died
// on an image would fail its requests), and afterwards both models still give their known answer.
// FUZZ_RUNS scales it as in http-fuzz.test.ts (a third of it per dialect and model).
import { afterAll, beforeAll, expect, test } from "bun:test";
import fc from "fast-check";
import { mkdirSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dataUrl, jpegFixture, png } from "../helpers/images.ts";
import { startHearth, type Running } from "../helpers/server.ts";
import { visionModelDir } from "../helpers/vision-models.ts";
import * as arb from "./image-arbitraries.ts";

const RUNS = Math.max(10, Math.ceil(Number(process.env.FUZZ_RUNS ?? 150) / 3));
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const MODELS = ["qwen-vl", "gemma-vl"];
const CONCURRENCY = 4;

let server: Running;
let jpeg: Uint8Array;
const knownImage = png(24, 24, (x, y) => [x * 10, y * 10, 99]);
const known = (model: string) => ({
  model,
  messages: [{ role: "user", content: [{ type: "text", text: "What?" }, { type: "image_url", image_url: { url: dataUrl(knownImage) } }] }],
  max_tokens: 6,
  temperature: 0,
});
const before = new Map<string, string>();

async function knownAnswer(model: string): Promise<string> {
  const res = await fetch(`${server.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(known(model)) });
  expect(res.status).toBe(200);
  return ((await res.json()) as any).choices[0].message.content;
}

beforeAll(async () => {
  jpeg = await jpegFixture();
  // Each model beside its projector under its own name (pairing finds mmproj*.gguf in the folder).
  const root = mkdtempSync(join(tmpdir(), "hearth-image-fuzz-"));
  const args: string[] = [];
  for (const [name, type] of [["qwen-vl", "qwen2.5vl"], ["gemma-vl", "gemma3"]] as const) {
    const dir = await visionModelDir(type);
    mkdirSync(join(root, name));
    symlinkSync(join(dir, "model.gguf"), join(root, name, `${name}.gguf`));
    symlinkSync(join(dir, "mmproj-model.gguf"), join(root, name, "mmproj-model.gguf"));
    args.push("--model", join(root, name, `${name}.gguf`));
  }
  server = await startHearth([...args, "--threads", "1", "-np", "2", "-c", "2048", "--queue-size", "1024"]);
  for (const m of MODELS) before.set(m, await knownAnswer(m));
  console.log(`image fuzz: ${RUNS} bodies per dialect and model, FUZZ_SEED=${SEED}`);
}, 120_000);
afterAll(() => server?.stop());

/** What is wrong with one answer, or null when it is acceptable. */
async function judge(res: Response, path: string): Promise<string | null> {
  const text = await res.text();
  if (res.status >= 500) return `status ${res.status}: ${text.slice(0, 300)}`;
  if (res.status !== 200 && res.status < 400) return `unexpected status ${res.status}`;
  const anthropic = path === "/v1/messages";
  if (res.status === 200) {
    // Streams: no failure after the first byte.
    if (anthropic && /^event: error$/m.test(text)) return `stream error event: ${text.slice(0, 300)}`;
    if (path === "/v1/responses" && /^event: (response\.failed|error)$/m.test(text)) return `stream failure event: ${text.slice(0, 300)}`;
    if (path === "/v1/chat/completions" && /^data: \{"error"/m.test(text)) return `stream error event: ${text.slice(0, 300)}`;
    return null;
  }
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    return `error body is not JSON: ${text.slice(0, 200)}`;
  }
  const message = anthropic ? json?.error?.message : json?.error?.message;
  if (anthropic && json?.type !== "error") return `not Anthropic's envelope: ${text.slice(0, 300)}`;
  if (typeof message !== "string") return `not an error envelope: ${text.slice(0, 300)}`;
  if (/\n\s+at |node_modules|\.ts:\d+/.test(message)) return `internal detail leaked: ${message.slice(0, 300)}`;
  return null;
}

/** Answers by status, per path: the fuzz must reach the engine (200s), not only the validators. */
const statuses = new Map<string, Map<number, number>>();

async function fuzz(path: string, bodies: unknown[]): Promise<void> {
  const problems: string[] = [];
  const counts = statuses.get(path) ?? statuses.set(path, new Map()).get(path)!;
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++];
        const res = await fetch(`${server.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
        counts.set(res.status, (counts.get(res.status) ?? 0) + 1);
        const problem = await judge(res, path);
        if (problem) problems.push(`${problem}\n  body: ${JSON.stringify(body).slice(0, 400)}`);
      }
    }),
  );
  expect(problems).toEqual([]);
}

const dialects: Array<[string, (model: string) => fc.Arbitrary<unknown>]> = [
  ["/v1/chat/completions", m => arb.chatImageBody(m, jpeg)],
  ["/v1/messages", m => arb.anthropicImageBody(m, jpeg)],
  ["/v1/responses", m => arb.responsesImageBody(m, jpeg)],
];

dialects.forEach(([path, bodies], i) => {
  test(`POST ${path} with generated image parts → 200 or 4xx, on both vision models`, async () => {
    for (const [j, model] of MODELS.entries()) await fuzz(path, fc.sample(bodies(model), { numRuns: RUNS, seed: SEED + i * 10 + j }));
    console.log(`${path}: ${JSON.stringify(Object.fromEntries(statuses.get(path)!))}`);
    expect(statuses.get(path)!.get(200) ?? 0).toBeGreaterThan(0);
  }, 600_000);
});

test("after the fuzz, both models give their known answer and are still loaded", async () => {
  for (const m of MODELS) expect(await knownAnswer(m)).toBe(before.get(m)!);
  const health: any = await (await fetch(`${server.url}/health`)).json();
  for (const m of MODELS) expect(health.models.find((x: any) => x.id === m).state).toBe("loaded");
});
