// Finds and opens libllama and the Hearth shim. Only this folder touches pointers.
//
// Lookup order: $HEARTH_LIB_DIR, the folder of a compiled `hearth` binary, then the source
// checkout's `lib/`. ggml's libraries are found by the loader through RUNPATH $ORIGIN.
import { dlopen, suffix } from "bun:ffi";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { llamaSymbols, shimSymbols } from "./symbols.ts";

export class NativeLibraryError extends Error {
  override name = "NativeLibraryError";
}

export function libraryDirCandidates(): string[] {
  const dirs: string[] = [];
  if (process.env.HEARTH_LIB_DIR) dirs.push(resolve(process.env.HEARTH_LIB_DIR));
  dirs.push(dirname(process.execPath));
  dirs.push(resolve(import.meta.dir, "../../lib"));
  return dirs;
}

export function findLibraryDir(): string {
  const wanted = `libllama.${suffix}`;
  const dir = libraryDirCandidates().find(d => existsSync(join(d, wanted)) && existsSync(join(d, `libhearth_shim.${suffix}`)));
  if (!dir) {
    throw new NativeLibraryError(
      `libllama not found (looked in ${libraryDirCandidates().join(", ")}): run \`make lib\` or set HEARTH_LIB_DIR`,
    );
  }
  return dir;
}

/** llama.cpp's RPC worker binary: next to a compiled `hearth`, in $HEARTH_LIB_DIR, or lib/bin. */
export function findWorkerBinary(): string | null {
  const names = ["ggml-rpc-server", "bin/ggml-rpc-server"];
  for (const dir of libraryDirCandidates()) {
    for (const name of names) if (existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

function open() {
  const dir = findLibraryDir();
  try {
    const llama = dlopen(join(dir, `libllama.${suffix}`), llamaSymbols);
    const shim = dlopen(join(dir, `libhearth_shim.${suffix}`), shimSymbols);
    return { dir, llama: llama.symbols, shim: shim.symbols };
  } catch (err) {
    throw new NativeLibraryError(`cannot load libllama from ${dir}: ${(err as Error).message}; run \`make lib\``);
  }
}

let opened: ReturnType<typeof open> | undefined;

/** The native symbols, opened once per process on first use. */
export function native(): ReturnType<typeof open> {
  opened ??= open();
  return opened;
}
