// llama_model_quantize through the shim (its default params are a struct returned by value).
import { cString } from "./cstring.ts";
import { native } from "./library.ts";
import { drainNativeLog } from "./native-log.ts";
import { initBackend } from "./model.ts";

/** llama.h's llama_ftype values for the types Hearth offers. */
export const LLAMA_FTYPE = { f32: 0, f16: 1, q4_0: 2, q8_0: 7, bf16: 32 } as const;
export type QuantType = keyof typeof LLAMA_FTYPE;

export class QuantizeError extends Error {
  override name = "QuantizeError";
}

/** Blocks the calling thread until the output file is written (llama.cpp uses `threads` workers). */
export function quantizeModel(input: string, output: string, type: QuantType, threads = 0): void {
  initBackend();
  const rc = native().shim.hearth_model_quantize(cString(input), cString(output), LLAMA_FTYPE[type], threads);
  drainNativeLog();
  if (rc !== 0) throw new QuantizeError(`llama_model_quantize failed (${rc}) quantizing ${input} to ${type}`);
}
