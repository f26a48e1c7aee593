// The prompt cache on disk, in-process: a sequence saved when its scheduler goes away (unload,
// shutdown) comes back in a new scheduler (a restart), and greedy answers equal a cold prefill's,
// on a plain model and a sliding-window one (Gemma 3 shape), for n = 1 and n = 2. Each run asserts
// that a restore happened. Bad files (corrupt, truncated, another model's) and a full disk are
// ignored: the answer is the cold one and nothing throws. A vision model's sequence with an image
// is restored only under the projector that encoded it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PromptCache } from "../../src/engine/prompt-cache/prompt-cache.ts";
import { Scheduler, type SchedulerOptions } from "../../src/engine/scheduler.ts";
import type { GenerateEvent, GenerateRequest, PromptSegment } from "../../src/engine/types.ts";
import { Vision } from "../../src/engine/vision.ts";
import { importCheckpoint } from "../../src/import/import.ts";
import { LlamaModel } from "../../src/llama/index.ts";
import { Projector } from "../../src/llama/mtmd.ts";
import type { KvCacheSettings } from "../../src/llama/kv-cache-types.ts";
import { checkpoint, cleanup, tempRoot } from "../import/checkpoints.ts";
import { png } from "../helpers/images.ts";
import { generatedModel } from "../helpers/models.ts";
import { visionModelDir } from "../helpers/vision-models.ts";
import { greedyRequest } from "./scheduler-driver.ts";

const KV: KvCacheSettings = { typeK: "f16", typeV: "f16", flashAttn: "auto" };
const options: SchedulerOptions = { nCtx: 1024, parallel: 2, nBatch: 64, threads: 1, queueSize: 4 };

let root: string;
let plain: { model: LlamaModel; path: string };
let swa: { model: LlamaModel; path: string };
let other: { model: LlamaModel; path: string };

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "hearth-prompt-cache-"));
  const plainPath = await generatedModel("tiny-qwen2");
  plain = { model: LlamaModel.load(plainPath), path: plainPath };
  // Same vocabulary and shape family, other weights: "another model file".
  const otherPath = await generatedModel("family-qwen");
  other = { model: LlamaModel.load(otherPath), path: otherPath };
  const dir = checkpoint("gemma3", ["--sliding-window", "8"], "gemma3-swa");
  const swaPath = join(tempRoot(), "gemma3-swa-cache.gguf");
  importCheckpoint({ src: dir, out: swaPath, quant: "f32" });
  swa = { model: LlamaModel.load(swaPath), path: swaPath };
});
afterAll(() => {
  for (const m of [plain, swa, other]) m?.model.dispose();
  cleanup();
  rmSync(root, { recursive: true, force: true });
});

let dirs = 0;
const newDir = () => join(root, `cache-${++dirs}`);

/** `n` token ids, different for each seed (all inside both vocabularies). */
const ids = (n: number, seed: number) => Array.from({ length: n }, (_, i) => 1000 + ((i * 7919 + seed * 104729) % 30000));

function request(prompt: number[], maxTokens: number, n = 1): GenerateRequest {
  return { ...greedyRequest("", maxTokens), prompt, addSpecial: false, n };
}

interface Answer {
  /** Text per choice index. */
  texts: string[];
  /** Choice 0's sampled token ids. */
  tokens: number[];
  cachedTokens: number;
  error?: string;
}

/** Runs one request to its end on the scheduler (letting a restore's background read finish). */
async function run(s: Scheduler, r: GenerateRequest): Promise<Answer> {
  const out: Answer = { texts: [], tokens: [], cachedTokens: 0 };
  s.submit("r", r, (ev: GenerateEvent) => {
    if (ev.kind === "text" || ev.kind === "done") {
      const i = ev.index ?? 0;
      out.texts[i] = (out.texts[i] ?? "") + ev.text;
      if (i === 0) out.tokens.push(...ev.tokens);
    }
    if (ev.kind === "done" && (ev.index ?? 0) === 0) out.cachedTokens = ev.usage.cachedTokens;
    if (ev.kind === "error") out.error = ev.message;
  });
  for (let steps = 0; s.hasWork(); steps++) {
    if (!s.step()) await Bun.sleep(1);
    if (steps > 10_000) throw new Error("scheduler did not finish");
  }
  return out;
}

async function cold(model: LlamaModel, r: GenerateRequest): Promise<Answer> {
  const s = new Scheduler(model, options);
  try {
    return await run(s, r);
  } finally {
    s.dispose();
  }
}

const open = (m: { path: string }, dir: string, maxBytes = 1 << 30) => PromptCache.open({ dir, maxBytes }, { model: m.path }, KV)!;

/** A "server run": a scheduler with the cache in `dir` runs the requests, then goes away (its slots are saved). */
async function session(m: { model: LlamaModel; path: string }, dir: string, requests: GenerateRequest[]): Promise<{ answers: Answer[]; cache: PromptCache }> {
  const cache = open(m, dir);
  const s = new Scheduler(m.model, { ...options, promptCache: cache });
  const answers: Answer[] = [];
  for (const r of requests) answers.push(await run(s, r));
  s.dispose();
  await cache.drain();
  return { answers, cache };
}

const kvFiles = (dir: string) => readdirSync(dir).filter(f => f.endsWith(".kv"));

// Turn 2 resends turn 1 with its answer and a new message (an agent's next turn), or branches off
// inside turn 1's answer (an edited conversation): the stored sequence is then cut back first.
describe.each([
  ["a plain model", () => plain, ["answer", "branch"] as const],
  ["a sliding-window model (Gemma 3 shape, window 8)", () => swa, ["answer"] as const],
])("after a restart, %s", (_name, pick, shapes) => {
  for (const shape of shapes) {
    for (const n of [1, 2]) {
      test(`answers as a cold prefill does, n = ${n}, turn 2 ${shape === "answer" ? "continuing turn 1's answer" : "branching off turn 1"}`, async () => {
        const m = pick();
        const dir = newDir();
        const turn1 = ids(200, 1);
        const first = await session(m, dir, [request(turn1, 6, n)]);
        expect(first.answers[0]!.error).toBeUndefined();
        expect(first.cache.stats.saves).toBe(1);
        expect(kvFiles(dir)).toHaveLength(1);
        // The slot holds the prompt and every sampled token but the last (never decoded).
        const answer = first.answers[0]!.tokens;
        expect(answer).toHaveLength(6);
        const turn2 = shape === "answer" ? [...turn1, ...answer, ...ids(24, 2)] : [...turn1, ...ids(24, 2)];
        const shared = shape === "answer" ? 205 : 200;

        const second = await session(m, dir, [request(turn2, 12, n)]);
        const got = second.answers[0]!;
        expect(got.error).toBeUndefined();
        expect(second.cache.stats.hits).toBe(1);
        expect(second.cache.stats.restoredTokens).toBe(shared);
        expect(got.cachedTokens).toBe(shared);
        const want = await cold(m.model, request(turn2, 12, n));
        expect(want.cachedTokens).toBe(0);
        expect(got.texts).toHaveLength(n);
        expect(got.texts).toEqual(want.texts);
      });
    }
  }
});

test("on a sliding-window model, a stored sequence cut back past its window is prefilled instead", async () => {
  const dir = newDir();
  const turn1 = ids(200, 1);
  await session(swa, dir, [request(turn1, 6)]);
  // Branches at 200: the stored state holds only the last 8 positions' window (197..204).
  const turn2 = [...turn1, ...ids(24, 2)];
  const second = await session(swa, dir, [request(turn2, 12)]);
  expect(second.answers[0]!.cachedTokens).toBe(0);
  expect(second.cache.stats.hits).toBe(0);
  expect(second.answers[0]!.texts).toEqual((await cold(swa.model, request(turn2, 12))).texts);
});

test("a restore's file is read in the background while the prompt waits in the queue, not in the token loop", async () => {
  const dir = newDir();
  const turn1 = ids(200, 30);
  await session(plain, dir, [request(turn1, 4)]);
  const cache = open(plain, dir);
  // The token loop's own (synchronous) read is the fallback: it must not be needed.
  cache.store.read = () => {
    throw new Error("read in the token loop");
  };
  const s = new Scheduler(plain.model, { ...options, promptCache: cache });
  const got = await run(s, request([...turn1, ...ids(20, 31)], 4));
  expect(got.error).toBeUndefined();
  expect(got.cachedTokens).toBe(200);
  s.dispose();
  await cache.drain();
});

test("a slot reused for another prompt saves the sequence it held first", async () => {
  const dir = newDir();
  const cache = open(plain, dir);
  const s = new Scheduler(plain.model, { ...options, parallel: 1, promptCache: cache });
  const a = ids(150, 3);
  const b = ids(150, 4);
  await run(s, request(a, 4));
  await run(s, request(b, 4)); // the one slot is cut back to nothing: A is written first
  await cache.drain();
  expect(cache.stats.saves).toBe(1);
  // A again: B goes to disk, A comes back from it.
  const again = await run(s, request([...a, ...ids(10, 5)], 4));
  await cache.drain();
  expect(again.cachedTokens).toBe(150);
  expect(cache.stats.hits).toBe(1);
  expect(cache.stats.saves).toBe(2);
  s.dispose();
  await cache.drain();
});

test("an idle cache dropped at break-even is saved first, and comes back from disk", async () => {
  const dir = newDir();
  const cache = open(plain, dir);
  // Idle caches age by the tokens processed for others: 100 here.
  const s = new Scheduler(plain.model, { ...options, idleCacheTokens: 100, promptCache: cache });
  const a = ids(150, 10);
  await run(s, request(a, 4));
  await run(s, request(ids(150, 11), 4)); // 150 tokens for another slot: A's cache is stale
  await run(s, request(ids(80, 12), 4)); // the next step drops it
  await cache.drain();
  expect(cache.stats.saves).toBe(1);
  const again = await run(s, request([...a, ...ids(10, 13)], 4));
  expect(again.cachedTokens).toBe(150);
  expect(cache.stats.hits).toBe(1);
  s.dispose();
  await cache.drain();
});

test("a sequence already stored is not written again, and a longer one replaces its stored prefix", async () => {
  const dir = newDir();
  const turn1 = ids(120, 6);
  await session(plain, dir, [request(turn1, 4)]);
  const [file1] = kvFiles(dir);
  // Restored and extended: the longer sequence replaces the first file.
  const second = await session(plain, dir, [request([...turn1, ...ids(40, 7)], 4)]);
  expect(second.cache.stats.hits).toBe(1);
  expect(kvFiles(dir)).toHaveLength(1);
  expect(kvFiles(dir)[0]).not.toBe(file1);
  // Restored and left as it was: nothing new to write.
  const third = await session(plain, dir, [request(turn1, 4)]);
  expect(third.cache.stats.hits).toBe(1);
  expect(third.cache.stats.saves).toBe(0);
});

test("the directory keeps to its byte budget, least recently used first (a restore counts as a use)", async () => {
  const dir = newDir();
  // Room for two of these sequences, not three.
  const probe = await session(plain, dir, [request(ids(150, 20), 4)]);
  const fileBytes = probe.cache.store.diskBytes;
  rmSync(dir, { recursive: true, force: true });
  const budget = Math.floor(fileBytes * 2.5);
  const a = ids(150, 21), b = ids(150, 22), c = ids(150, 23);
  const runIn = async (prompt: number[]) => {
    const cache = PromptCache.open({ dir, maxBytes: budget }, { model: plain.path }, KV)!;
    const s = new Scheduler(plain.model, { ...options, promptCache: cache });
    const out = await run(s, request(prompt, 4));
    s.dispose();
    await cache.drain();
    return { out, cache };
  };
  await runIn(a);
  await Bun.sleep(20); // distinct mtimes
  await runIn(b);
  await Bun.sleep(20);
  // A is used again (restored): B is now the least recently used.
  expect((await runIn([...a, ...ids(8, 24)])).out.cachedTokens).toBe(150);
  await Bun.sleep(20);
  const third = await runIn(c);
  expect(third.cache.store.diskBytes).toBeLessThanOrEqual(budget);
  expect(kvFiles(dir)).toHaveLength(2);
  // (Each run saves its own sequence at the end, which makes room by the same rule: A first.)
  expect((await runIn([...a, ...ids(8, 26)])).out.cachedTokens).toBe(150);
  expect((await runIn([...b, ...ids(8, 25)])).out.cachedTokens).toBe(0);
});

describe("bad files are ignored with a warning and removed; the answer is the cold one", () => {
  const turn1 = ids(200, 8);
  const turn2 = [...turn1, ...ids(20, 9)];

  async function stored(): Promise<{ dir: string; file: string }> {
    const dir = newDir();
    await session(plain, dir, [request(turn1, 4)]);
    return { dir, file: join(dir, kvFiles(dir)[0]!) };
  }

  async function expectCold(dir: string, m = plain): Promise<PromptCache> {
    const after = await session(m, dir, [request(turn2, 8)]);
    expect(after.answers[0]!.error).toBeUndefined();
    expect(after.answers[0]!.cachedTokens).toBe(0);
    expect(after.cache.stats.hits).toBe(0);
    expect(after.answers[0]!.texts).toEqual((await cold(m.model, request(turn2, 8))).texts);
    return after.cache;
  }

  test("a corrupt file (one byte of the state flipped)", async () => {
    const { dir, file } = await stored();
    const bytes = readFileSync(file);
    bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0xff;
    writeFileSync(file, bytes);
    const cache = await expectCold(dir);
    expect(cache.stats.discarded).toBe(1);
    // The cold run saved its own sequence in place of the bad one.
    expect(readFileSync(join(dir, kvFiles(dir)[0]!)).equals(bytes)).toBe(false);
  });

  test("a truncated file", async () => {
    const { dir, file } = await stored();
    truncateSync(file, readFileSync(file).length - 1000);
    const cache = await expectCold(dir);
    expect(cache.stats.discarded).toBe(1);
  });

  test("another model file's cache, even under this model's name", async () => {
    const { dir, file } = await stored();
    // The other model never sees it (another namespace)...
    const foreign = await session(other, dir, [request(turn2, 8)]);
    expect(foreign.cache.stats.hits).toBe(0);
    expect(foreign.answers[0]!.texts).toEqual((await cold(other.model, request(turn2, 8))).texts);
    // ...and a copy renamed into the other model's namespace fails the header's check.
    const otherNs = kvFiles(dir).find(f => join(dir, f) !== file)!;
    copyFileSync(file, join(dir, otherNs));
    const cache = await expectCold(dir, other);
    expect(cache.stats.discarded).toBe(1);
  });

  test.skipIf(!canFill)("a full disk stops saving, never serving", async () => {
    const dir = newDir();
    const full = fillableDir(dir)!;
    try {
      const first = await session(plain, dir, [request(turn1, 4)]);
      expect(first.answers[0]!.error).toBeUndefined();
      expect(first.cache.stats.saves).toBe(0);
      expect(kvFiles(dir)).toHaveLength(0);
      await expectCold(dir);
    } finally {
      full.release();
    }
  });
});

// An image enters the prompt's ids only as its pixel hash, so the KV the projector made of it is
// valid only under that projector: the namespace covers the projector file's content.
describe("a vision model's stored sequence with an image", () => {
  let model: LlamaModel;
  let modelFile: string;
  let dir: string;
  const projectors: Record<"same" | "other", { path: string; vision: Vision }> = {} as never;

  beforeAll(async () => {
    const vdir = await visionModelDir("gemma3");
    const path = join(vdir, "mmproj-model.gguf");
    modelFile = join(vdir, "model.gguf");
    model = LlamaModel.load(modelFile);
    // Another projector for the same model: the same file with the last 1,024 weights of its
    // last tensor negated (f32, little-endian: every 4th byte from the end holds a sign bit).
    const otherPath = join(root, "mmproj-other.gguf");
    const bytes = readFileSync(path);
    for (let i = bytes.length - 1; i >= bytes.length - 4096; i -= 4) bytes[i] = bytes[i]! ^ 0x80;
    writeFileSync(otherPath, bytes);
    for (const [name, p] of [["same", path], ["other", otherPath]] as const) {
      projectors[name] = { path: p, vision: new Vision(Projector.load(p, model, { useGpu: false, threads: 1 }), model.vocab) };
    }
    dir = newDir();
  });
  afterAll(() => {
    for (const p of Object.values(projectors)) p.vision.projector.dispose();
    model?.dispose();
  });

  const image = png(48, 40, (x, y) => [x * 5, y * 6, (x * y) % 256]);
  const words = (n: number, from: number) => Array.from({ length: n }, (_, i) => `word${from + i}`).join(" ");
  function imageRequest(extra: string, maxTokens: number): GenerateRequest {
    const prompt: PromptSegment[] = [
      { text: `Look at this: ${words(60, 0)}`, parseSpecial: false },
      { text: "", parseSpecial: false, image: 0 },
      { text: ` and describe it. ${words(40, 100)}${extra}`, parseSpecial: false },
    ];
    return { ...greedyRequest("", maxTokens), prompt, addSpecial: false, images: [{ data: Buffer.from(image).toString("base64"), name: "image 0" }] };
  }
  const turn1 = imageRequest("", 4);
  const turn2 = imageRequest(` Then ${words(20, 500)}`, 8);

  async function served(which: "same" | "other", r: GenerateRequest, cacheDir: string | null): Promise<{ answer: Answer; cache: PromptCache | null }> {
    const { path, vision } = projectors[which];
    const cache = cacheDir === null ? null : PromptCache.open({ dir: cacheDir, maxBytes: 1 << 30 }, { model: modelFile, projector: path }, KV)!;
    const s = new Scheduler(model, { ...options, promptCache: cache, vision });
    try {
      return { answer: await run(s, r), cache };
    } finally {
      s.dispose();
      await cache?.drain();
    }
  }

  test("is not restored under another projector, and is under the same one", async () => {
    const first = await served("same", turn1, dir);
    expect(first.answer.error).toBeUndefined();
    expect(first.cache!.stats.saves).toBe(1);

    // Served with the other projector: a miss, and the answer is that projector's cold one.
    const other = await served("other", turn2, dir);
    expect(other.answer.error).toBeUndefined();
    expect(other.cache!.stats.hits).toBe(0);
    expect(other.answer.cachedTokens).toBe(0);
    expect(other.answer.texts).toEqual((await served("other", turn2, null)).answer.texts);

    // Served with the first projector again: the stored image KV comes back.
    const same = await served("same", turn2, dir);
    expect(same.answer.error).toBeUndefined();
    expect(same.cache!.stats.hits).toBe(1);
    expect(same.answer.cachedTokens).toBeGreaterThan(100);
    expect(same.answer.texts).toEqual((await served("same", turn2, null)).answer.texts);
  });
});

/**
 * A cache directory with no room: a 16 KiB tmpfs where mounting is allowed (root), else a
 * directory without write permission (same outcome for the cache: every write fails). Null where
 * neither works (root without the right to mount ignores permissions).
 */
function fillableDir(dir: string): { release(): void } | null {
  mkdirSync(dir, { recursive: true });
  const mount = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", dir], { stderr: "pipe" });
  if (mount.success) return { release: () => void Bun.spawnSync(["umount", dir]) };
  chmodSync(dir, 0o500);
  try {
    writeFileSync(join(dir, "probe"), "x");
  } catch {
    return { release: () => chmodSync(dir, 0o700) };
  }
  return null;
}

const canFill = (() => {
  const probe = join(tmpdir(), `hearth-fill-probe-${process.pid}`);
  const full = fillableDir(probe);
  full?.release();
  rmSync(probe, { recursive: true, force: true });
  if (!full) console.warn("prompt-cache.test: neither a tmpfs mount nor a read-only directory is possible here; the full-disk test is skipped");
  return full !== null;
})();
