// What every checkpoint reader (safetensors, torch zip) yields: named tensors whose bytes are
// read only when asked for, from a memory map, so a checkpoint is never held in memory whole.
import type { SourceDtype } from "./dtype.ts";

export interface SourceTensor {
  name: string;
  dtype: SourceDtype;
  /** Row-major shape as the checkpoint stores it (PyTorch order). */
  shape: number[];
  /** The file it lives in (for messages). */
  file: string;
  /** Raw little-endian, contiguous element bytes; a view into a memory map. */
  bytes(): Uint8Array;
}

export function elementCount(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
