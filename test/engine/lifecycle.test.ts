// The model lifecycle's table (src/engine/lifecycle.ts): which moves it allows, that the
// supervisor's every other move throws, that ARCHITECTURE.md shows the same table, and the
// supervisor's own moves through a checkpoint's import and an unload, with a fake runner.
import { afterEach, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { checkTransition, IllegalTransition, LIFECYCLE, type StateName } from "../../src/engine/lifecycle.ts";
import { RunnerEngine } from "../../src/engine/runner-engine.ts";
import type { RunnerConfig } from "../../src/engine/runner-protocol.ts";
import { EngineError } from "../../src/engine/types.ts";
import { fakeRunnerCommand } from "../helpers/fake-runner.ts";
import { repoRoot } from "../helpers/paths.ts";

const states = Object.keys(LIFECYCLE) as StateName[];

test("every move in the table is allowed and every other one throws IllegalTransition", () => {
  for (const from of states) {
    for (const to of states) {
      const allowed = (LIFECYCLE[from].next as readonly StateName[]).includes(to);
      if (allowed) expect(() => checkTransition(from, to)).not.toThrow();
      else expect(() => checkTransition(from, to)).toThrow(IllegalTransition);
    }
  }
  expect(() => checkTransition("loaded", "loading")).toThrow("illegal model state transition loaded → loading");
});

test("from every state a model can be unloaded for good, and every state is reachable from the first ones", () => {
  const reach = (from: StateName[]) => {
    const seen = new Set(from);
    for (const s of seen) for (const n of LIFECYCLE[s].next) seen.add(n);
    return seen;
  };
  for (const s of states) expect(reach([s]).has("closed")).toBe(true);
  expect([...reach(["needs-import", "unloaded"])].sort()).toEqual([...states].sort());
  expect(LIFECYCLE.closed.next).toEqual([]);
});

test("ARCHITECTURE.md's lifecycle table is the code's table", () => {
  const doc = readFileSync(`${repoRoot}/ARCHITECTURE.md`, "utf8");
  const rows = new Map<string, string[]>();
  for (const line of doc.split("\n")) {
    const cells = line.match(/^\| `([a-z-]+)` \|(.*)\|$/)?.slice(1);
    if (!cells) continue;
    rows.set(cells[0]!, cells[1]!.split("|").map(c => c.trim()));
  }
  for (const s of states) {
    const [means, next, listed, health] = rows.get(s) ?? [];
    const names = (cell?: string) => [...(cell ?? "").matchAll(/`([a-z-]+)`/g)].map(m => m[1]).sort();
    expect({ s, means, next: names(next), listed: names(listed), health: names(health) })
      .toEqual({ s, means: LIFECYCLE[s].means, next: [...LIFECYCLE[s].next].sort(), listed: [LIFECYCLE[s].listed], health: [LIFECYCLE[s].health] });
  }
  expect([...rows.keys()].filter(k => k in LIFECYCLE).length).toBe(states.length);
});

// ---- the supervisor's moves, with a fake runner ----

const config: RunnerConfig = { modelPath: "/nowhere/fake.gguf", nCtx: 256, parallel: 1, nBatch: 64, threads: 1, gpuLayers: 0, queueSize: 4, verbose: false };
let engines: RunnerEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.map(e => e.close()));
  engines = [];
});

function engine(options: ConstructorParameters<typeof RunnerEngine>[1] = {}): RunnerEngine {
  const e = new RunnerEngine({ ...config }, { command: fakeRunnerCommand, ...options });
  engines.push(e);
  return e;
}
const state = (e: RunnerEngine) => e.health().state;

test("a checkpoint: needs-import → importing → loading → loaded; a failed import is failed and tried again on the next start", async () => {
  let imports = 0;
  let failNext = true;
  const e = engine({
    needsImport: true,
    prepare: async () => {
      imports++;
      if (failNext) throw new Error("import of /ckpt failed: no weights");
      return "/cache/fake.gguf";
    },
  });
  expect(state(e)).toEqual({ state: "needs-import" });
  const first = e.start();
  expect(state(e).state).toBe("importing");
  // Concurrent starts share one import.
  const second = e.start();
  await expect(first).rejects.toThrow("import of /ckpt failed: no weights");
  await expect(second).rejects.toBeInstanceOf(EngineError);
  expect(imports).toBe(1);
  expect(state(e)).toEqual({ state: "failed", error: "import of /ckpt failed: no weights", retryAt: null });

  failNext = false;
  const info = await e.start();
  expect(imports).toBe(2);
  expect(info.description).toBe("fake runner");
  expect(state(e)).toMatchObject({ state: "loaded", info: { description: "fake runner" } });
});

test("unloaded while importing: closed, the import's result is dropped and later starts are refused", async () => {
  let finish!: (path: string) => void;
  const e = engine({ prepare: () => new Promise<string>(resolve => (finish = resolve)) });
  const start = e.start();
  expect(state(e).state).toBe("importing");
  await e.close();
  expect(state(e)).toEqual({ state: "closed" });
  finish("/cache/fake.gguf");
  await expect(start).rejects.toThrow("the model was unloaded");
  await expect(e.start()).rejects.toThrow("the model was unloaded");
});

test("a load that fails is failed with the runner's reason; the next start loads again", async () => {
  const e = new RunnerEngine({ ...config, modelPath: "/nowhere/broken.gguf" }, { command: fakeRunnerCommand });
  engines.push(e);
  await expect(e.start()).rejects.toThrow("not a model the fake runner loads");
  expect(state(e)).toMatchObject({ state: "failed", retryAt: null });
  await expect(e.start()).rejects.toThrow("not a model the fake runner loads");
});

test("unload while loading: stopping → closed, the load is refused", async () => {
  const e = engine();
  const start = e.start();
  expect(state(e).state).toBe("loading");
  await e.close();
  expect(state(e)).toEqual({ state: "closed" });
  await expect(start).rejects.toThrow(EngineError);
});

test("onIdle is called when a load ends and when the last request in flight ends, not while one runs", async () => {
  let idle = 0;
  const e = engine({ onIdle: () => idle++ });
  await e.start();
  expect(idle).toBe(1);
  const request = { prompt: [{ text: "hold", parseSpecial: false }], addSpecial: false, maxTokens: null, stop: [], ignoreEos: false, cachePrompt: false,
    sampling: { temperature: 0, topK: 0, topP: 1, minP: 0, seed: null, repeatPenalty: 1, presencePenalty: 0, frequencyPenalty: 0, penaltyLastN: 0, logitBias: [] } };
  const abort = new AbortController();
  const stream = e.generate(request, abort.signal)[Symbol.asyncIterator]();
  expect((await stream.next()).value).toMatchObject({ kind: "accepted" });
  expect((await stream.next()).value).toMatchObject({ kind: "text", text: "held" });
  expect(e.health()).toMatchObject({ inFlight: 1, slotsBusy: 1 });
  await e.tokenize("abc", false, false);
  expect(idle).toBe(1); // a call that ends while a generation runs leaves the model busy
  abort.abort();
  expect((await stream.next()).value).toMatchObject({ kind: "error", code: "cancelled" });
  expect(idle).toBe(2);
  expect(e.health()).toMatchObject({ inFlight: 0, slotsBusy: 0 });
});
