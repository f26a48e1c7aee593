// Element types of checkpoint tensors and their conversion to the f32/f16 the GGUF writer emits.
import { ImportError } from "./errors.ts";

export type SourceDtype = "F32" | "F16" | "BF16";

export const DTYPE_SIZE: Record<SourceDtype, number> = { F32: 4, F16: 2, BF16: 2 };

export function parseDtype(name: string, where: string): SourceDtype {
  if (name === "F32" || name === "F16" || name === "BF16") return name;
  throw new ImportError(`${where}: unsupported tensor dtype ${name} (supported: F32, F16, BF16)`);
}

/** Decodes little-endian raw elements into f32 (exact for every supported dtype), into `out` if given. */
export function toF32(bytes: Uint8Array, dtype: SourceDtype, out?: Float32Array): Float32Array {
  const n = bytes.byteLength / DTYPE_SIZE[dtype];
  out ??= new Float32Array(n);
  // Typed views need aligned offsets; a fresh read is aligned, a sub-view may not be.
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  if (dtype === "F32") {
    out.set(new Float32Array(aligned.buffer, aligned.byteOffset, n));
  } else if (dtype === "BF16") {
    // bf16 is the high half of an f32.
    const src = new Uint16Array(aligned.buffer, aligned.byteOffset, n);
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) bits[i] = src[i]! << 16;
  } else {
    const src = new Uint16Array(aligned.buffer, aligned.byteOffset, n);
    for (let i = 0; i < n; i++) out[i] = f16ToF32(src[i]!);
  }
  return out;
}

const f16Table = (() => {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) t[h] = sign * frac * 2 ** -24;
    else if (exp === 31) t[h] = frac ? NaN : sign * Infinity;
    else t[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return t;
})();

export function f16ToF32(h: number): number {
  return f16Table[h]!;
}
