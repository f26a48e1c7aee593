// Where tests find the pinned llama.cpp source (vocab files, templates) and its reference tools.
import { resolve } from "node:path";

export const repoRoot = resolve(import.meta.dir, "../..");
export const llamaSrc = resolve(repoRoot, process.env.LLAMA_CPP_DIR ?? "lib/llama.cpp");
export const refBin = (tool: string) => resolve(repoRoot, "lib/bin", tool);
export const defaultModel = resolve(repoRoot, "models/stories260K.gguf");
export const vocabFile = (name: string) => resolve(llamaSrc, "models", `ggml-vocab-${name}.gguf`);
