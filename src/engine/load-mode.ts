// How a model's weights reach memory, when the user leaves it to us ("auto").
//
// Mapping the file keeps resident every page the loader touched, even where the CPU backend
// repacked a matrix into a buffer of its own for faster kernels: then the process holds the
// weights twice (measured, Qwen2.5-0.5B Q4_0: 330 MiB mapped plus 192 MiB repacked). Reading
// them in with direct I/O holds them once and leaves the page cache alone. A mapping still wins
// when the file does not fit comfortably (the kernel can page it in and out) and on macOS, where
// Metal uses the mapped pages directly.
import { statSync } from "node:fs";
import { freemem } from "node:os";
import type { LoadMode } from "../llama/model.ts";

export type LoadModeSetting = "auto" | LoadMode;
export const LOAD_MODES: readonly LoadModeSetting[] = ["auto", "mmap", "read"];

export function chooseLoadMode(setting: LoadModeSetting, fileBytes: number, availableBytes: number, platform: string): LoadMode {
  if (setting !== "auto") return setting;
  if (platform === "darwin") return "mmap";
  return fileBytes <= availableBytes / 2 ? "read" : "mmap";
}

/**
 * Bytes of a GGUF model on disk: all of its parts for a split file (…-00001-of-00003.gguf). A
 * missing file counts 0: the loader then reports it in its own words.
 */
export function modelFileBytes(path: string): number {
  const size = (file: string) => statSync(file, { throwIfNoEntry: false })?.size ?? 0;
  const split = /^(.*)-(\d{5})-of-(\d{5})\.gguf$/.exec(path);
  if (!split) return size(path);
  let bytes = 0;
  for (let i = 1; i <= Number(split[3]); i++) bytes += size(`${split[1]}-${String(i).padStart(5, "0")}-of-${split[3]}.gguf`);
  return bytes;
}

/** The load mode for `path` now, given what memory is free. */
export function loadModeFor(path: string, setting: LoadModeSetting = "auto"): LoadMode {
  return chooseLoadMode(setting, setting === "auto" ? modelFileBytes(path) : 0, freemem(), process.platform);
}
