// Random-weight models for the compatibility runs (make compat, make agents): scripts/make-model.py
// with explicit arguments, cached in test/.cache/models like test/helpers/models.ts's presets and
// keyed the same way (the generator's text + its arguments), so an edited generator rebuilds them.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { modelCacheDir } from "../helpers/models.ts";
import { llamaSrc, repoRoot } from "../helpers/paths.ts";

const SCRIPT = resolve(repoRoot, "scripts/make-model.py");

export const template = (name: string) => resolve(llamaSrc, "models/templates", `${name}.jinja`);

/** A tiny Qwen2-shaped model (Qwen vocabulary) with `templateFile` embedded and `nCtx` trained context. */
export function tinyQwenArgs(templateFile: string, nCtx: number): string[] {
  return ["--vocab", "qwen2", "--arch", "qwen2", "--n-embd", "64", "--n-layer", "2", "--n-head", "4",
    "--n-head-kv", "2", "--n-ff", "128", "--type", "f32", "--n-ctx", String(nCtx), "--template", templateFile];
}

/**
 * A tiny gpt-oss-shaped model: Qwen's vocabulary with harmony's control tokens in place of
 * user-defined placeholders (llama.cpp treats them as gpt-oss's by their text: <|call|> and
 * <|return|> end generation) and gpt-oss's own template, `nCtx` trained context.
 */
export function tinyGptOssArgs(nCtx: number): string[] {
  const harmony = ["<|start|>", "<|end|>", "<|message|>", "<|channel|>", "<|constrain|>", "<|return|>", "<|call|>"];
  return ["--vocab", "qwen2", "--arch", "llama", "--n-embd", "64", "--n-layer", "1", "--n-head", "4", "--n-head-kv", "2", "--n-ff", "128",
    "--type", "f32", "--n-ctx", String(nCtx), ...harmony.flatMap((t, i) => ["--token", `${151900 + i}=${t}`]), "--template", template("openai-gpt-oss-120b")];
}

/** Path of the model `stem` made with `args`; its file name without `.gguf` is its model id `stem`
 * (the cache key goes in the folder name, so the id stays stable). */
export async function compatModel(stem: string, args: string[]): Promise<string> {
  const key = Bun.hash(await Bun.file(SCRIPT).text() + "\0" + args.join(" ")).toString(16).slice(0, 12);
  const dir = resolve(modelCacheDir, `compat-${stem}-${key}`);
  const path = resolve(dir, `${stem}.gguf`);
  if (existsSync(path)) return path;
  mkdirSync(dir, { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const run = Bun.spawnSync(["python3", SCRIPT, ...args, "--out", tmp], { cwd: repoRoot, stdout: "pipe", stderr: "pipe" });
  if (!run.success) {
    rmSync(tmp, { force: true });
    throw new Error(`make-model.py ${args.join(" ")} failed:\n${run.stderr.toString()}`);
  }
  renameSync(tmp, path);
  // Drop what an older generator (or other arguments) made under this stem.
  for (const old of readdirSync(modelCacheDir)) {
    if (old.startsWith(`compat-${stem}-`) && resolve(modelCacheDir, old) !== dir) rmSync(resolve(modelCacheDir, old), { recursive: true, force: true });
  }
  return path;
}
