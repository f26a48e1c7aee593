// The prompt cache across a real server's restart and a model swap: the runner saves its slots
// when it stops (SIGTERM's graceful shutdown, --max-loaded's unload), and the next run's first
// turn reads them back: usage reports the restored tokens as cached, /metrics counts the hit, and
// the greedy answer equals a server without the cache.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generatedModel } from "../helpers/models.ts";
import { postJson, startHearth } from "../helpers/server.ts";

let root: string;
let modelA: string;
let modelB: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "hearth-kv-server-"));
  modelA = await generatedModel("tiny-qwen2");
  modelB = await generatedModel("tiny-llama-spm");
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const turn1 = "The history of the lighthouse keeper and the long winter storms. ".repeat(12);
const turn2 = `${turn1} And then the keeper wrote a letter home.`;

async function complete(url: string, prompt: string, model?: string): Promise<{ text: string; cached: number; prompt: number }> {
  const res = await postJson(`${url}/v1/completions`, { model, prompt, max_tokens: 8, temperature: 0 });
  expect(res.status).toBe(200);
  const body: any = await res.json();
  return { text: body.choices[0].text, cached: body.usage.prompt_tokens_details?.cached_tokens ?? 0, prompt: body.usage.prompt_tokens };
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split("\n").find(l => l.startsWith(`${name} `));
  return Number(line?.split(" ")[1]);
}

test("after a restart, the next turn starts from the saved sequence and answers as a cold server does", async () => {
  const dir = join(root, "restart");
  // (A size given here: the tests' environment turns the cache off, test/setup.ts.)
  const args = ["--model", modelA, "--parallel", "1", "--prompt-cache-dir", dir, "--prompt-cache-size", String(1 << 30)];
  const first = await startHearth(args);
  try {
    const t1 = await complete(first.url, turn1);
    expect(t1.cached).toBe(0);
  } finally {
    await first.stop();
  }
  expect(readdirSync(dir).filter(f => f.endsWith(".kv"))).toHaveLength(1);

  const second = await startHearth(args);
  let t2;
  try {
    t2 = await complete(second.url, turn2);
    expect(await metric(second.url, "hearth_prompt_cache_hits_total")).toBe(1);
    expect(await metric(second.url, "hearth_prompt_cache_restored_tokens_total")).toBe(t2.cached);
    expect(await metric(second.url, "hearth_prompt_cache_bytes")).toBeGreaterThan(0);
  } finally {
    await second.stop();
  }
  // Every token of turn 1 is shared (its prompt tokenizes the same at the front of turn 2's).
  expect(t2.cached).toBeGreaterThan(100);
  expect(t2.cached).toBeLessThan(t2.prompt);

  const cold = await startHearth(["--model", modelA, "--parallel", "1", "--prompt-cache-size", "0"]);
  try {
    const want = await complete(cold.url, turn2);
    expect(want.cached).toBe(0);
    expect(t2.text).toBe(want.text);
  } finally {
    await cold.stop();
  }
});

test("under --max-loaded 1, two models alternating each resume from disk", async () => {
  const dir = join(root, "swap");
  const server = await startHearth(["--model", modelA, "--model", modelB, "--max-loaded", "1", "--parallel", "1", "--prompt-cache-dir", dir, "--prompt-cache-size", String(1 << 30)]);
  const idA = "tiny-qwen2", idB = "tiny-llama-spm";
  try {
    const ids = (await (await fetch(`${server.url}/v1/models`)).json() as any).data.map((m: any) => m.id as string);
    const a = ids.find((id: string) => id.startsWith(idA))!;
    const b = ids.find((id: string) => id.startsWith(idB))!;
    await complete(server.url, turn1, a);
    await complete(server.url, turn1, b); // A is unloaded: its slot goes to disk
    const a2 = await complete(server.url, turn2, a); // B is unloaded, A resumes
    const b2 = await complete(server.url, turn2, b);
    expect(a2.cached).toBeGreaterThan(100);
    expect(b2.cached).toBeGreaterThan(100);
    expect(await metric(server.url, "hearth_prompt_cache_hits_total")).toBe(2);
  } finally {
    await server.stop();
  }
});
