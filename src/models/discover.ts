// Finds models: explicit paths and every *.gguf under the models folders, plus Hugging Face
// checkpoint folders (config.json + weights), which are imported on first use (checkpoint-cache.ts).
// Id = file name without .gguf (split files: without -0000K-of-0000N); a stem that collides with
// another gets its sub-folder path as id.
import { readdirSync, statSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { isCheckpointDir } from "./checkpoint-cache.ts";

export interface ModelFile {
  id: string;
  path: string;
  sizeBytes: number;
  mtimeMs: number;
  /** A Hugging Face checkpoint folder, not a GGUF file. */
  checkpoint?: boolean;
}

const SPLIT = /-(\d{5})-of-(\d{5})\.gguf$/i;

function stem(file: string): string {
  return basename(file).replace(SPLIT, "").replace(/\.gguf$/i, "");
}

/** Size of a checkpoint folder's files and its newest change. */
function folderStat(dir: string): { sizeBytes: number; mtimeMs: number } {
  let sizeBytes = 0;
  let mtimeMs = 0;
  for (const n of readdirSync(dir)) {
    const st = statSync(join(dir, n));
    if (!st.isFile()) continue;
    sizeBytes += st.size;
    mtimeMs = Math.max(mtimeMs, st.mtimeMs);
  }
  return { sizeBytes, mtimeMs };
}

function walk(dir: string, out: string[]): void {
  let entries: import("node:fs").Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const full = join(dir, e.name);
    if (e.isDirectory() && !e.name.startsWith(".")) {
      if (isCheckpointDir(full)) out.push(full);
      else walk(full, out);
    }
    else if (e.isFile() && /\.gguf$/i.test(e.name)) {
      // A split model is listed once, by its first part.
      const split = SPLIT.exec(e.name);
      if (!split || Number(split[1]) === 1) out.push(full);
    }
  }
}

export function discoverModels(paths: string[], dirs: string[]): ModelFile[] {
  const found: Array<{ path: string; root: string | null }> = paths.map(p => ({ path: resolve(p), root: null }));
  for (const dir of dirs) {
    const files: string[] = [];
    walk(resolve(dir), files);
    for (const f of files.sort()) found.push({ path: f, root: resolve(dir) });
  }
  const seen = new Set<string>();
  const byStem = new Map<string, number>();
  const unique = found.filter(f => (seen.has(f.path) ? false : (seen.add(f.path), true)));
  for (const f of unique) byStem.set(stem(f.path), (byStem.get(stem(f.path)) ?? 0) + 1);
  return unique.map(f => {
    const s = stem(f.path);
    const collides = (byStem.get(s) ?? 0) > 1 && f.root !== null && relative(f.root, f.path).includes("/");
    const id = collides ? relative(f.root!, f.path).replace(SPLIT, "").replace(/\.gguf$/i, "") : s;
    const st = statSync(f.path);
    if (st.isDirectory()) return { id, ...folderStat(f.path), path: f.path, checkpoint: true };
    return { id, path: f.path, sizeBytes: st.size, mtimeMs: st.mtimeMs };
  });
}
