// Writes a GGUF v3 file: header, metadata, tensor infos, then tensor data streamed one chunk at a
// time (each tensor aligned to general.alignment). Tensor shapes are given in PyTorch order and
// written reversed, as ggml's ne[] counts the fastest-moving dimension first.
import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import { ImportError } from "./errors.ts";

export const GGML_TYPE = { F32: 0, F16: 1, BF16: 30 } as const;
export type OutType = (typeof GGML_TYPE)[keyof typeof GGML_TYPE];
const TYPE_SIZE: Record<OutType, number> = { 0: 4, 1: 2, 30: 2 };

const ALIGN = 32;

// GGUF value type codes (gguf.h: enum gguf_type).
const T = { u32: 4, i32: 5, f32: 6, bool: 7, str: 8, arr: 9, u64: 10 } as const;

export type MetaValue =
  | { type: "u32" | "i32" | "f32"; value: number }
  | { type: "bool"; value: boolean }
  | { type: "str"; value: string }
  | { type: "arr-str"; value: string[] }
  | { type: "arr-i32" | "arr-f32"; value: ArrayLike<number> };

export interface TensorPlan {
  name: string;
  /** PyTorch-order shape of the tensor as written. */
  shape: number[];
  type: OutType;
  /** Yields the tensor's elements in row-major order, any chunk size; total must match shape. */
  data(): Iterable<Float32Array>;
}

/** Buffered writer on a file descriptor; flushes every megabyte. */
class Sink {
  private buf = new Uint8Array(1 << 20);
  private view = new DataView(this.buf.buffer);
  private len = 0;
  written = 0;
  constructor(private fd: number) {}

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) {
      this.buf = new Uint8Array(n);
      this.view = new DataView(this.buf.buffer);
    }
  }
  flush(): void {
    let off = 0;
    while (off < this.len) off += writeSync(this.fd, this.buf, off, this.len - off);
    this.len = 0;
  }
  u32(v: number) { this.room(4); this.view.setUint32(this.len, v, true); this.len += 4; this.written += 4; }
  i32(v: number) { this.room(4); this.view.setInt32(this.len, v, true); this.len += 4; this.written += 4; }
  f32(v: number) { this.room(4); this.view.setFloat32(this.len, v, true); this.len += 4; this.written += 4; }
  u64(v: number) { this.room(8); this.view.setBigUint64(this.len, BigInt(v), true); this.len += 8; this.written += 8; }
  u8(v: number) { this.room(1); this.buf[this.len++] = v; this.written += 1; }
  bytes(b: Uint8Array) {
    if (b.length > this.buf.length) {
      this.flush();
      let off = 0;
      while (off < b.length) off += writeSync(this.fd, b, off, b.length - off);
    } else {
      this.room(b.length);
      this.buf.set(b, this.len);
      this.len += b.length;
    }
    this.written += b.length;
  }
  str(s: string) { const b = new TextEncoder().encode(s); this.u64(b.length); this.bytes(b); }
  pad() { while (this.written % ALIGN) this.u8(0); }
}

function writeMeta(s: Sink, key: string, v: MetaValue): void {
  s.str(key);
  switch (v.type) {
    case "u32": s.u32(T.u32); s.u32(v.value); break;
    case "i32": s.u32(T.i32); s.i32(v.value); break;
    case "f32": s.u32(T.f32); s.f32(v.value); break;
    case "bool": s.u32(T.bool); s.u8(v.value ? 1 : 0); break;
    case "str": s.u32(T.str); s.str(v.value); break;
    case "arr-str": s.u32(T.arr); s.u32(T.str); s.u64(v.value.length); for (const x of v.value) s.str(x); break;
    case "arr-i32": s.u32(T.arr); s.u32(T.i32); s.u64(v.value.length); for (let i = 0; i < v.value.length; i++) s.i32(v.value[i]!); break;
    case "arr-f32": s.u32(T.arr); s.u32(T.f32); s.u64(v.value.length); for (let i = 0; i < v.value.length; i++) s.f32(v.value[i]!); break;
  }
}

function byteSize(t: TensorPlan): number {
  return t.shape.reduce((a, b) => a * b, 1) * TYPE_SIZE[t.type];
}

/**
 * Writes the whole file to `path` (which the caller renames when this returns). `onTensor` is
 * called after each tensor for progress.
 */
export function writeGguf(
  path: string,
  meta: Map<string, MetaValue>,
  tensors: TensorPlan[],
  onTensor?: (done: number, total: number) => void,
): void {
  const fd = openSync(path, "w");
  try {
    const s = new Sink(fd);
    s.bytes(new TextEncoder().encode("GGUF"));
    s.u32(3);
    s.u64(tensors.length);
    s.u64(meta.size + 1);
    writeMeta(s, "general.alignment", { type: "u32", value: ALIGN });
    for (const [k, v] of meta) writeMeta(s, k, v);
    let offset = 0;
    for (const t of tensors) {
      s.str(t.name);
      s.u32(t.shape.length);
      for (let i = t.shape.length - 1; i >= 0; i--) s.u64(t.shape[i]!);
      s.u32(t.type);
      s.u64(offset);
      offset += Math.ceil(byteSize(t) / ALIGN) * ALIGN;
    }
    s.pad();
    tensors.forEach((t, i) => {
      const want = byteSize(t);
      const start = s.written;
      for (const chunk of t.data()) {
        if (t.type === GGML_TYPE.F32) s.bytes(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        else {
          const half = halfScratch(chunk.length);
          (t.type === GGML_TYPE.F16 ? f32ToF16 : f32ToBf16)(chunk, half);
          s.bytes(new Uint8Array(half.buffer, 0, half.byteLength));
        }
      }
      if (s.written - start !== want) {
        throw new ImportError(`internal: tensor ${t.name} produced ${s.written - start} bytes, expected ${want}`);
      }
      s.pad();
      onTensor?.(i + 1, tensors.length);
    });
    s.flush();
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

let halfBuf: Uint16Array = new Uint16Array(0);
/** A reused buffer for 16-bit conversions (one chunk at a time). */
function halfScratch(n: number): Uint16Array {
  if (halfBuf.length < n) halfBuf = new Uint16Array(n);
  return halfBuf.subarray(0, n);
}

/** The upper halves of f32 values that came from bf16 (so exact: the lower halves are zero). */
function f32ToBf16(src: Float32Array, out: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < src.length; i++) out[i] = bits[i]! >>> 16;
  return out;
}

/** Round-to-nearest-even f32 → f16 (only used where the source was f16, so it is exact). */
export function f32ToF16(src: Float32Array, out: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < src.length; i++) {
    const x = bits[i]!;
    const sign = (x >>> 16) & 0x8000;
    let exp = ((x >>> 23) & 0xff) - 127 + 15;
    let mant = x & 0x7fffff;
    if (((x >>> 23) & 0xff) === 0xff) { out[i] = sign | 0x7c00 | (mant ? 0x200 : 0); continue; }
    if (exp >= 31) { out[i] = sign | 0x7c00; continue; }
    if (exp <= 0) {
      if (exp < -10) { out[i] = sign; continue; }
      mant |= 0x800000;
      const shift = 14 - exp;
      let h = mant >>> shift;
      const rem = mant & ((1 << shift) - 1);
      const half = 1 << (shift - 1);
      if (rem > half || (rem === half && (h & 1))) h++;
      out[i] = sign | h;
      continue;
    }
    let h = (exp << 10) | (mant >>> 13);
    const rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;
    out[i] = sign | h;
  }
  return out;
}
