// Random-weight models from scripts/make-model.py, built on first use and cached in test/.cache.
// Weights are noise, but the tokenizer and chat template are the real ones, so tests can cover
// tokenization, templates and loading of a given model family without shipping its weights.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { repoRoot } from "./paths.ts";

export type GeneratedPreset = "tiny-qwen2" | "tiny-llama-spm" | "qwen2.5-0.5b-q4_0";

const SCRIPT = resolve(repoRoot, "scripts/make-model.py");
const PRESET_ARGS: Record<GeneratedPreset, string[]> = {
  "tiny-qwen2": ["--preset", "tiny-qwen2"],
  "tiny-llama-spm": ["--preset", "tiny-llama-spm"],
  "qwen2.5-0.5b-q4_0": ["--preset", "qwen2.5-0.5b", "--quant", "q4_0"],
};

export const modelCacheDir = resolve(repoRoot, "test/.cache/models");

/** Path of the cached model for `preset`, generating it first if needed. */
export async function generatedModel(preset: GeneratedPreset): Promise<string> {
  const args = PRESET_ARGS[preset];
  // The script is deterministic, so its own text (plus the args) names the output: editing the
  // generator invalidates old files instead of letting tests run against stale ones.
  const key = Bun.hash(await Bun.file(SCRIPT).text() + "\0" + args.join(" ")).toString(16).slice(0, 12);
  const path = resolve(modelCacheDir, `${preset}.${key}.gguf`);
  if (existsSync(path)) return path;

  mkdirSync(modelCacheDir, { recursive: true });
  // Write under a private name and rename, so a killed run or a concurrent one never leaves
  // (or reads) a half-written file under the final name.
  const tmp = `${path}.${process.pid}.tmp`;
  const run = Bun.spawnSync(["python3", SCRIPT, ...args, "--out", tmp], {
    cwd: repoRoot,
    stdout: "pipe",
    stderr: "pipe",
  });
  if (!run.success) {
    rmSync(tmp, { force: true });
    throw new Error(
      `make-model.py ${args.join(" ")} failed (exit ${run.exitCode ?? run.signalCode}):\n${run.stderr.toString()}`,
    );
  }
  renameSync(tmp, path);

  // Drop files an older version of the script generated for this preset.
  for (const f of readdirSync(modelCacheDir)) {
    if (f.startsWith(`${preset}.`) && f.endsWith(".gguf") && resolve(modelCacheDir, f) !== path) {
      rmSync(resolve(modelCacheDir, f), { force: true });
    }
  }
  return path;
}
