// Hugging Face checkpoint folders served like GGUF files: imported on first use, in a child process
// (`hearth import`, so the HTTP process never loads libllama), into $HEARTH_HOME/cache/import/,
// named by the checkpoint's content hash so a restart (or a copy of the folder) reuses the import.
// The hash of a file is remembered by path, size and mtime, so unchanged checkpoints are read once.
import { closeSync, existsSync, mkdirSync, openSync, readSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { runnerCommand } from "../engine/runner-engine.ts";
import { hearthHome } from "../util/home.ts";

export const IMPORT_QUANT = "q4_0";

export function importCacheDir(): string {
  return join(hearthHome(), "cache", "import");
}

/** The files of a checkpoint that decide what its import contains. */
function checkpointFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter(n => /\.(json|safetensors|bin|pt|pth|model|jinja)$/.test(n))
    .sort()
    .map(n => join(dir, n));
}

type Memo = Record<string, { size: number; mtimeMs: number; sha256: string }>;
const memoPath = () => join(importCacheDir(), "file-hashes.json");
function readMemo(): Memo {
  try {
    return JSON.parse(readFileSync(memoPath(), "utf8"));
  } catch {
    return {};
  }
}

function fileHash(path: string, memo: Memo): string {
  const st = statSync(path);
  const known = memo[path];
  if (known && known.size === st.size && known.mtimeMs === st.mtimeMs) return known.sha256;
  const hasher = new Bun.CryptoHasher("sha256");
  const buf = new Uint8Array(4 << 20);
  const fd = openSync(path, "r");
  try {
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) hasher.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  const sha256 = hasher.digest("hex");
  memo[path] = { size: st.size, mtimeMs: st.mtimeMs, sha256 };
  return sha256;
}

/** The content hash when every file's hash is remembered and current; null otherwise (cheap). */
function knownHash(dir: string): string | null {
  const memo = readMemo();
  const parts: string[] = [];
  for (const f of checkpointFiles(dir)) {
    const st = statSync(f);
    const m = memo[f];
    if (!m || m.size !== st.size || m.mtimeMs !== st.mtimeMs) return null;
    parts.push(`${f.slice(dir.length)}\0${m.sha256}`);
  }
  return new Bun.CryptoHasher("sha256").update(parts.join("\n")).digest("hex").slice(0, 24);
}

async function contentHash(dir: string): Promise<string> {
  const memo = readMemo();
  const parts: string[] = [];
  for (const f of checkpointFiles(dir)) parts.push(`${f.slice(dir.length)}\0${fileHash(f, memo)}`);
  mkdirSync(importCacheDir(), { recursive: true });
  writeFileSync(memoPath(), JSON.stringify(memo));
  return new Bun.CryptoHasher("sha256").update(parts.join("\n")).digest("hex").slice(0, 24);
}

const cachedPath = (hash: string) => join(importCacheDir(), `${hash}-${IMPORT_QUANT}.gguf`);

/** The imported GGUF of a checkpoint if it is already in the cache (no hashing). */
export function cachedImport(dir: string): string | null {
  const hash = knownHash(resolve(dir));
  return hash && existsSync(cachedPath(hash)) ? cachedPath(hash) : null;
}

/** Imports the checkpoint unless the cache has it; returns the GGUF path. */
export async function ensureImported(dir: string): Promise<string> {
  const out = cachedPath(await contentHash(resolve(dir)));
  if (existsSync(out)) return out;
  const cmd = runnerCommand().slice(0, -1); // the same program, without "__runner"
  const child = Bun.spawn([...cmd, "import", resolve(dir), "--out", out, "--quant", IMPORT_QUANT], { stdout: "ignore", stderr: "pipe" });
  const [code, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()]);
  if (code !== 0 || !existsSync(out)) {
    const last = stderr.trim().split("\n").pop()?.replace(/^hearth import: /, "");
    throw new Error(`import of ${dir} failed: ${last || `exit code ${code}`}`);
  }
  return out;
}

/** A folder that looks like a Hugging Face checkpoint: config.json and weights. */
export function isCheckpointDir(dir: string): boolean {
  if (!existsSync(join(dir, "config.json"))) return false;
  return readdirSync(dir).some(n => /\.(safetensors|pt|pth)$/.test(n) || n === "pytorch_model.bin" || /^pytorch_model-.*\.bin$/.test(n));
}
