// Tiny random-weight vision models from scripts/make-vision-model.py (a text model and its
// projector side by side, as model.gguf and mmproj-model.gguf), built on first use and cached in
// test/.cache/models. Keyed by the generator's text (and make-model.py's, which it builds on).
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { modelCacheDir } from "./models.ts";
import { repoRoot } from "./paths.ts";

export type ProjectorType = "qwen2.5vl" | "gemma3";

const SCRIPT = resolve(repoRoot, "scripts/make-vision-model.py");
const BASE = resolve(repoRoot, "scripts/make-model.py");

/** The folder holding model.gguf and mmproj-model.gguf for `projector`. */
export async function visionModelDir(projector: ProjectorType): Promise<string> {
  const text = (await Bun.file(SCRIPT).text()) + "\0" + (await Bun.file(BASE).text()) + "\0" + projector;
  const key = Bun.hash(text).toString(16).slice(0, 12);
  const name = `vision-${projector}`;
  const dir = resolve(modelCacheDir, `${name}.${key}`);
  if (existsSync(resolve(dir, "mmproj-model.gguf"))) return dir;
  mkdirSync(modelCacheDir, { recursive: true });
  const tmp = `${dir}.${process.pid}.tmp`;
  const run = Bun.spawnSync(["python3", SCRIPT, "--projector", projector, "--out", tmp], { cwd: repoRoot, stdout: "pipe", stderr: "pipe" });
  if (!run.success) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`make-vision-model.py --projector ${projector} failed:\n${run.stderr.toString()}`);
  }
  renameSync(tmp, dir);
  for (const f of readdirSync(modelCacheDir)) {
    if (f.startsWith(`${name}.`) && resolve(modelCacheDir, f) !== dir && !f.endsWith(".tmp")) rmSync(resolve(modelCacheDir, f), { recursive: true, force: true });
  }
  return dir;
}
