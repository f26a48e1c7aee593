// What every checkpoint reader (safetensors, torch zip) yields: named tensors whose bytes are
// read only when asked for, with positioned reads (pread), so a checkpoint is never held in
// memory whole and its pages do not count against the importer's resident memory.
import { closeSync, openSync, readSync } from "node:fs";
import type { SourceDtype } from "./dtype.ts";

export interface SourceTensor {
  name: string;
  dtype: SourceDtype;
  /** Row-major shape as the checkpoint stores it (PyTorch order). */
  shape: number[];
  /** The file it lives in (for messages). */
  file: string;
  byteLength: number;
  /** Raw little-endian, contiguous element bytes [start, end) of this tensor (fresh memory). */
  read(start?: number, end?: number): Uint8Array;
}

export function elementCount(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Reads `length` bytes at `position` of a file; short files are reported by the caller's checks. */
export function readAt(path: string, position: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const fd = openSync(path, "r");
  try {
    let done = 0;
    while (done < length) {
      const n = readSync(fd, out, done, length - done, position + done);
      if (n === 0) throw new Error(`${path}: unexpected end of file`);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

/** A tensor stored as one contiguous byte range of a file. */
export function fileTensor(t: Omit<SourceTensor, "read">, path: string, offset: number): SourceTensor {
  return { ...t, read: (start = 0, end = t.byteLength) => readAt(path, offset + start, end - start) };
}
