// The registry's model lookups without a model loaded: requests for unknown ids do not walk the
// model folders each time (a scan per id at most once per interval, unless a folder changed), yet
// a file added later is found; the list shows symlinked models under their link's name, and a
// file whose header is refused is listed without metadata, with one warning.
import { afterAll, beforeEach, expect, spyOn, test } from "bun:test";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as discover from "../../src/models/discover.ts";
import { ModelRegistry } from "../../src/models/registry.ts";
import { defaultModel, repoRoot } from "../helpers/paths.ts";

const defaults = { nCtx: 0, parallel: 1, nBatch: 512, threads: 1, gpuLayers: 0, queueSize: 0, verbose: false };
const roots: string[] = [];
afterAll(() => roots.forEach(r => rmSync(r, { recursive: true, force: true })));

let clock = 0;
const INTERVAL = 60_000;

/** A whole second an hour ago: a folder mtime that round-trips exactly and that any change moves. */
const PAST = new Date(Math.floor(Date.now() / 1000) * 1000 - 3600_000);

/** A models folder with one model, its mtime set to PAST. */
function modelsDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "hearth-rescan-"));
  roots.push(dir);
  copyFileSync(defaultModel, join(dir, "alpha.gguf"));
  utimesSync(dir, PAST, PAST);
  return dir;
}

/** Adds a file while the folder's mtime stays PAST: a change the mtime cannot show (coarse clocks). */
function addUnseen(dir: string, name: string): void {
  copyFileSync(defaultModel, join(dir, name));
  utimesSync(dir, PAST, PAST);
}

beforeEach(() => {
  clock = 0;
});

function registry(dir: string): ModelRegistry {
  return new ModelRegistry([], [dir], defaults, undefined, undefined, undefined, { minIntervalMs: INTERVAL, now: () => clock });
}

test("many requests for unknown ids scan the folders at most once per interval while nothing changes", () => {
  const dir = modelsDir();
  const reg = registry(dir);
  const scans = spyOn(discover, "discoverModels");
  try {
    for (let i = 0; i < 200; i++) expect(reg.find(`no-such-model-${i}`)).toBeUndefined();
    expect(scans).toHaveBeenCalledTimes(0);
    clock += INTERVAL; // the interval is over: the next miss scans once, the ones after it do not
    for (let i = 0; i < 200; i++) expect(reg.find(`still-not-here-${i}`)).toBeUndefined();
    expect(scans).toHaveBeenCalledTimes(1);
    expect(reg.find("alpha")?.id).toBe("alpha"); // known ids never scan
    expect(scans).toHaveBeenCalledTimes(1);
  } finally {
    scans.mockRestore();
  }
});

test("a file added later is found at once when its folder's mtime changed, else after the interval or a refresh", async () => {
  const dir = modelsDir();
  const reg = registry(dir);
  expect(reg.find("beta")).toBeUndefined();
  // `hearth pull` or a copy into the folder: the folder's mtime moves, the next miss rescans.
  copyFileSync(defaultModel, join(dir, "beta.gguf"));
  expect(reg.find("beta")?.path).toBe(join(dir, "beta.gguf"));

  utimesSync(dir, PAST, PAST);
  reg.rescan(); // an explicit refresh: the last scan saw the folder at PAST
  addUnseen(dir, "gamma.gguf");
  expect(reg.find("gamma")).toBeUndefined(); // within the interval, and no folder changed
  clock += INTERVAL;
  expect(reg.find("gamma")?.path).toBe(join(dir, "gamma.gguf"));

  addUnseen(dir, "delta.gguf");
  expect((await reg.list()).map(m => m.id)).toContain("delta"); // the list always rescans
  expect(reg.find("delta")?.id).toBe("delta");
});

test("a file in a new sub-folder, or a folder that did not exist, is found at once", () => {
  const dir = modelsDir();
  const missing = join(dir, "not-yet");
  const reg = new ModelRegistry([], [dir, missing], defaults, undefined, undefined, undefined, { minIntervalMs: INTERVAL, now: () => clock });
  expect(reg.find("later")).toBeUndefined();
  mkdirSync(missing);
  copyFileSync(defaultModel, join(missing, "later.gguf"));
  expect(reg.find("later")?.path).toBe(join(missing, "later.gguf"));
});

test("the list shows symlinked models by their link's name, and a refused header once as a warning", async () => {
  const dir = modelsDir();
  symlinkSync(defaultModel, join(dir, "linked.gguf"));
  symlinkSync(join(dir, "gone.gguf"), join(dir, "dangling.gguf"));
  // A header that claims a 1 TiB string: refused before it is read.
  const crafted = Buffer.alloc(32);
  crafted.write("GGUF", 0);
  crafted.writeUInt32LE(3, 4);
  crafted.writeBigUInt64LE(1n, 16); // one key/value, whose key length follows
  writeFileSync(join(dir, "crafted.gguf"), Buffer.concat([crafted.subarray(0, 24), Buffer.from(new BigUint64Array([1n << 40n]).buffer), Buffer.alloc(64)]));
  const reg = registry(dir);
  const stderr = spyOn(process.stderr, "write").mockImplementation(() => true);
  try {
    const listed = await reg.list();
    expect(listed.map(m => m.id).sort()).toEqual(["alpha", "crafted", "linked"]);
    expect(listed.find(m => m.id === "linked")!.architecture).toBe("llama");
    expect(listed.find(m => m.id === "crafted")!.architecture).toBeNull();
    await reg.list();
    const warnings = stderr.mock.calls.map(c => String(c[0])).filter(line => line.includes("crafted.gguf"));
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toContain("warn");
    expect(warnings[0]).toContain("is longer than the 16 MiB limit");
  } finally {
    stderr.mockRestore();
  }
  // The same through `hearth list`.
  const run = Bun.spawnSync([process.execPath, `${repoRoot}/src/cli.ts`, "list", "--models-dir", dir], { stdout: "pipe", stderr: "pipe" });
  expect(run.exitCode).toBe(0);
  expect(run.stdout.toString()).toMatch(/^linked\s+\S+\s+[\d.]+ MiB/m);
  expect(run.stderr.toString()).toContain("crafted.gguf: not a readable GGUF header");
});
