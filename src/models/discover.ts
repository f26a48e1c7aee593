// Finds models: explicit paths and every *.gguf under the models folders, plus Hugging Face
// checkpoint folders (config.json + weights), which are imported on first use (checkpoint-cache.ts).
// Id = file name without .gguf (split files: without -0000K-of-0000N); a stem that collides with
// another gets its sub-folder path as id. Symbolic links are followed — to files and to folders,
// as in Hugging Face's cache (snapshots/<rev>/x.gguf → ../../blobs/<sha>) — and a model keeps its
// link's name and path; a dangling link is skipped, and a folder already walked (by its real
// path) is not walked again, so link loops end.
import { type Dirent, readdirSync, realpathSync, statSync } from "node:fs";
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

/** llama.cpp's and Hugging Face's name for vision projector files: mmproj-….gguf, …-mmproj-….gguf. */
export const isProjectorName = (name: string) => /mmproj/i.test(name) && /\.gguf$/i.test(name);

function stem(file: string): string {
  return basename(file).replace(SPLIT, "").replace(/\.gguf$/i, "");
}

/** Size of a checkpoint folder's files and its newest change. */
function folderStat(dir: string): { sizeBytes: number; mtimeMs: number } {
  let sizeBytes = 0;
  let mtimeMs = 0;
  for (const n of readdirSync(dir)) {
    const st = statSync(join(dir, n), { throwIfNoEntry: false }); // undefined: a dangling link
    if (!st?.isFile()) continue;
    sizeBytes += st.size;
    mtimeMs = Math.max(mtimeMs, st.mtimeMs);
  }
  return { sizeBytes, mtimeMs };
}

/** What an entry is, through a symbolic link; null for a dangling link or anything else. */
function kindOf(e: Dirent, full: string): "dir" | "file" | null {
  if (e.isDirectory()) return "dir";
  if (e.isFile()) return "file";
  if (!e.isSymbolicLink()) return null;
  try {
    const st = statSync(full);
    return st.isDirectory() ? "dir" : st.isFile() ? "file" : null;
  } catch {
    return null; // dangling, or a loop of links to links
  }
}

/** True the first time a folder is reached (by its real path); false after, or if it is gone. */
function firstVisit(dir: string, visited: Set<string>): boolean {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    return false;
  }
  if (visited.has(real)) return false;
  visited.add(real);
  return true;
}

/**
 * Each folder a scan read, with its mtime just before (-1: missing). Adding, removing or renaming an
 * entry changes a folder's mtime, so a scan whose folders all keep theirs would find the same files.
 */
export type FolderStamps = Map<string, number>;

function mtimeOf(dir: string): number {
  try {
    return statSync(dir).mtimeMs;
  } catch {
    return -1;
  }
}

/** Whether any folder of a scan has changed since (or appeared, or gone). */
export function foldersChanged(stamps: FolderStamps): boolean {
  for (const [dir, mtimeMs] of stamps) if (mtimeOf(dir) !== mtimeMs) return true;
  return false;
}

/** `visited`: real paths of the folders reached so far. */
function walk(dir: string, out: string[], visited: Set<string>, stamps: FolderStamps): void {
  let entries: Dirent[];
  stamps.set(dir, mtimeOf(dir));
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const full = join(dir, e.name);
    const kind = kindOf(e, full);
    if (kind === "dir" && !e.name.startsWith(".") && firstVisit(full, visited)) {
      if (isCheckpointDir(full)) out.push(full);
      else walk(full, out, visited, stamps);
    }
    // A vision projector (mmproj*.gguf) is no model: it is paired with the model beside it (projector-pairing.ts).
    else if (kind === "file" && /\.gguf$/i.test(e.name) && !isProjectorName(e.name)) {
      // A split model is listed once, by its first part.
      const split = SPLIT.exec(e.name);
      if (!split || Number(split[1]) === 1) out.push(full);
    }
  }
}

/** The models under `paths` and `dirs`; `stamps` (optional) receives the folders read. */
export function discoverModels(paths: string[], dirs: string[], stamps: FolderStamps = new Map()): ModelFile[] {
  const found: Array<{ path: string; root: string | null }> = paths.map(p => ({ path: resolve(p), root: null }));
  const visited = new Set<string>();
  for (const dir of dirs) {
    const files: string[] = [];
    if (firstVisit(resolve(dir), visited)) walk(resolve(dir), files, visited, stamps);
    else if (!stamps.has(resolve(dir))) stamps.set(resolve(dir), mtimeOf(resolve(dir))); // missing: watch for it
    for (const f of files.sort()) found.push({ path: f, root: resolve(dir) });
  }
  const seen = new Set<string>();
  const byStem = new Map<string, number>();
  const unique = found.filter(f => (seen.has(f.path) ? false : (seen.add(f.path), true)));
  for (const f of unique) byStem.set(stem(f.path), (byStem.get(stem(f.path)) ?? 0) + 1);
  return unique.flatMap((f): ModelFile[] => {
    const s = stem(f.path);
    const collides = (byStem.get(s) ?? 0) > 1 && f.root !== null && relative(f.root, f.path).includes("/");
    const id = collides ? relative(f.root!, f.path).replace(SPLIT, "").replace(/\.gguf$/i, "") : s;
    // A walked file removed since the walk is skipped; a missing --model path still throws.
    const st = f.root === null ? statSync(f.path) : statSync(f.path, { throwIfNoEntry: false });
    if (!st) return [];
    if (st.isDirectory()) return [{ id, ...folderStat(f.path), path: f.path, checkpoint: true }];
    return [{ id, path: f.path, sizeBytes: st.size, mtimeMs: st.mtimeMs }];
  });
}
