// Random-weight models from scripts/make-model.py, built on first use and cached in test/.cache.
// Weights are noise, but the tokenizer and chat template are the real ones, so tests can cover
// tokenization, templates and loading of a given model family without shipping its weights.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { repoRoot } from "./paths.ts";

export type GeneratedPreset = "tiny-qwen2" | "tiny-qwen2-head32" | "tiny-llama-spm" | "qwen2.5-0.5b-q4_0" | "tiny-bert" | FamilyModel;

/** One tiny model per chat family: the family's real vocabulary with its template embedded. */
export type FamilyModel = "family-qwen" | "family-gemma" | "family-llama3" | "family-llama-spm" | "family-mistral" | "family-phi3" | "family-glm" | ReasoningModel;

/** Reasoning templates on Qwen's vocabulary, with `<think>` / `</think>` (and Qwen3's tool tokens) where the real models have them. */
export type ReasoningModel = "family-qwen3" | "family-deepseek-r1";

const tiny = ["--arch", "llama", "--n-embd", "64", "--n-layer", "1", "--n-head", "4", "--n-head-kv", "2", "--n-ff", "128", "--type", "f32"];
const tmpl = (name: string) => ["--template", `lib/llama.cpp/models/templates/${name}.jinja`];
/** Qwen3's added tokens, at its ids, in place of Qwen2's user-defined placeholders. */
const qwen3Tokens = ["151657=<tool_call>", "151658=</tool_call>", "151665=<tool_response>", "151666=</tool_response>", "151667=<think>", "151668=</think>"].flatMap(t => ["--token", t]);

const SCRIPT = resolve(repoRoot, "scripts/make-model.py");
const PRESET_ARGS: Record<GeneratedPreset, string[]> = {
  "tiny-qwen2": ["--preset", "tiny-qwen2"],
  // Heads of 32 elements: quantized KV cache types (blocks of 32) fit it (tiny-qwen2's 16 do not).
  "tiny-qwen2-head32": ["--preset", "tiny-qwen2", "--n-head", "2", "--n-head-kv", "2"],
  "tiny-llama-spm": ["--preset", "tiny-llama-spm"],
  "qwen2.5-0.5b-q4_0": ["--preset", "qwen2.5-0.5b", "--quant", "q4_0"],
  // BERT encoder with the BGE WordPiece vocab and mean pooling: an embedding model.
  "tiny-bert": ["--preset", "tiny-bert"],
  "family-qwen": ["--vocab", "qwen2", ...tiny, ...tmpl("Qwen-Qwen2.5-7B-Instruct")],
  "family-gemma": ["--vocab", "gemma-4", ...tiny, ...tmpl("google-gemma-4-31B-it")],
  "family-llama3": ["--vocab", "llama-bpe", ...tiny, ...tmpl("meta-llama-Llama-3.1-8B-Instruct")],
  // SentencePiece (Llama 2 / Mistral style) vocabulary without a template: the ChatML fallback.
  "family-llama-spm": ["--vocab", "llama-spm", ...tiny, "--template", "none"],
  "family-mistral": ["--vocab", "llama-spm", ...tiny, ...tmpl("mistralai-Mistral-Nemo-Instruct-2407")],
  "family-phi3": ["--vocab", "phi-3", ...tiny, ...tmpl("microsoft-Phi-3.5-mini-instruct")],
  "family-glm": ["--vocab", "qwen2", ...tiny, ...tmpl("GLM-4.6")],
  "family-qwen3": ["--vocab", "qwen2", ...tiny, ...qwen3Tokens, ...tmpl("Qwen-Qwen3-0.6B")],
  // DeepSeek-R1-Distill-Qwen: BOS added, <think> at 151648 (the real model's ids).
  "family-deepseek-r1": ["--vocab", "qwen2", ...tiny, "--add-bos", "--token", "151648=<think>", "--token", "151649=</think>", ...tmpl("deepseek-ai-DeepSeek-R1-Distill-Qwen-32B")],
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
