// Reads a GGUF file's header — metadata and tensor shapes — without loading weights, so the
// model list can describe every file (architecture, family, size, quantization, context).
// Format: "GGUF", u32 version, u64 tensor count, u64 key/value count, the key/values, then
// one info record (name, dims, type, offset) per tensor; everything little-endian.
// A header is untrusted input (files come from the internet): every length and count it claims is
// checked against the limits below and against the bytes left in the file before anything is read
// or allocated for it, so a crafted file fails fast with a GgufError naming what is wrong.

import { closeSync, fstatSync, openSync, readSync } from "node:fs";

export type GgufValue = string | number | bigint | boolean | GgufArray;
/** Arrays are summarized (tokenizer arrays hold hundreds of thousands of entries). */
export interface GgufArray {
  type: "array";
  elementType: number;
  length: number;
}

export interface GgufHeader {
  version: number;
  metadata: Record<string, GgufValue>;
  tensors: Array<{ name: string; dims: number[]; type: number }>;
}

export class GgufError extends Error {
  override name = "GgufError";
}

/** Bytes read from the file at a time: a 150k-token vocabulary's header (~7 MiB) streams through. */
const WINDOW = 256 * 1024;
/** Longest string read: chat templates are tens of KiB; 16 MiB bounds the window a string grows. */
export const MAX_GGUF_STRING = 16 * 1024 * 1024;
/** Most dimensions of a tensor (GGML_MAX_DIMS; llama.cpp refuses more too). */
export const MAX_GGUF_DIMS = 4;
/** Fewest bytes one key/value (key length, type, a 1-byte value) and one tensor record take. */
const MIN_KV_BYTES = 8 + 4 + 1;
const MIN_TENSOR_BYTES = 8 + 4 + 4 + 8;

/** Reads the header straight from the file through a small window; skipped bytes are never read. */
class Reader {
  /** File offset of the next byte to parse. */
  private pos = 0;
  private window = new Uint8Array(WINDOW);
  private view = new DataView(this.window.buffer);
  /** File offset of window[0], and how many bytes of the window hold file data. */
  private windowStart = 0;
  private windowLength = 0;
  private readonly decoder = new TextDecoder();
  constructor(
    private readonly fd: number,
    readonly fileSize: number,
  ) {}
  /** Window index of the next n bytes, which are consumed. */
  private need(n: number): number {
    if (this.pos + n > this.windowStart + this.windowLength) this.fill(n);
    const at = this.pos - this.windowStart;
    this.pos += n;
    return at;
  }
  private fill(n: number): void {
    if (this.pos + n > this.fileSize) throw new GgufError("truncated GGUF header");
    if (n > this.window.length) {
      this.window = new Uint8Array(n);
      this.view = new DataView(this.window.buffer);
    }
    this.windowStart = this.pos;
    this.windowLength = readSync(this.fd, this.window, 0, this.window.length, this.pos);
    if (this.windowLength < n) throw new GgufError("truncated GGUF header");
  }
  u8 = () => this.view.getUint8(this.need(1));
  i8 = () => this.view.getInt8(this.need(1));
  u16 = () => this.view.getUint16(this.need(2), true);
  i16 = () => this.view.getInt16(this.need(2), true);
  u32 = () => this.view.getUint32(this.need(4), true);
  i32 = () => this.view.getInt32(this.need(4), true);
  f32 = () => this.view.getFloat32(this.need(4), true);
  f64 = () => this.view.getFloat64(this.need(8), true);
  u64 = () => this.view.getBigUint64(this.need(8), true);
  i64 = () => this.view.getBigInt64(this.need(8), true);
  /** A u64 that must fit a JS number (counts, lengths, dims). */
  count(): number {
    // Two u32 halves, not a BigInt: a vocabulary's header holds hundreds of thousands of lengths.
    const at = this.need(8);
    const high = this.view.getUint32(at + 4, true);
    if (high > 0x1fffff) throw new GgufError("GGUF count out of range");
    return high * 2 ** 32 + this.view.getUint32(at, true);
  }
  string(): string {
    const n = this.stringLength();
    const at = this.need(n);
    return this.decoder.decode(this.window.subarray(at, at + n));
  }
  skip(n: number): void {
    if (this.pos + n > this.fileSize) throw new GgufError("truncated GGUF header");
    this.pos += n;
  }
  skipString(): void {
    this.skip(this.stringLength());
  }
  /** Bytes not yet parsed. */
  remaining(): number {
    return this.fileSize - this.pos;
  }
  /** A string's length, checked before its bytes are read. */
  private stringLength(): number {
    const n = this.count();
    if (n > MAX_GGUF_STRING) throw new GgufError(`GGUF string of ${n} bytes at offset ${this.pos - 8} is longer than the ${MAX_GGUF_STRING >> 20} MiB limit`);
    if (n > this.remaining()) throw new GgufError(`truncated GGUF header: a string of ${n} bytes at offset ${this.pos - 8} runs past the end of the file`);
    return n;
  }
}

const SCALAR_SIZE: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

function readValue(r: Reader, type: number): GgufValue {
  switch (type) {
    case 0: return r.u8();
    case 1: return r.i8();
    case 2: return r.u16();
    case 3: return r.i16();
    case 4: return r.u32();
    case 5: return r.i32();
    case 6: return r.f32();
    case 7: return r.u8() !== 0;
    case 8: return r.string();
    case 10: return r.u64();
    case 11: return r.i64();
    case 12: return r.f64();
    case 9: {
      const elementType = r.u32();
      const length = r.count();
      const size = elementType === 8 ? 8 : SCALAR_SIZE[elementType]; // a string takes 8 bytes at least
      if (size === undefined) throw new GgufError(`unsupported GGUF array element type ${elementType}`);
      if (length * size > r.remaining()) {
        throw new GgufError(`truncated or corrupt GGUF header: an array of ${length} elements (type ${elementType}) cannot fit in the ${r.remaining()} bytes left in the file`);
      }
      // (Not decoded: a vocabulary's strings would be hundreds of thousands of short-lived objects.)
      if (elementType === 8) for (let i = 0; i < length; i++) r.skipString();
      else r.skip(size * length);
      return { type: "array", elementType, length };
    }
    default:
      throw new GgufError(`unsupported GGUF value type ${type}`);
  }
}

function parse(r: Reader): GgufHeader {
  if (r.fileSize < 4 || r.u32() !== GGUF_MAGIC) throw new GgufError("not a GGUF file");
  const version = r.u32();
  if (version < 2 || version > 3) throw new GgufError(`unsupported GGUF version ${version}`);
  const tensorCount = r.count();
  const kvCount = r.count();
  if (kvCount * MIN_KV_BYTES + tensorCount * MIN_TENSOR_BYTES > r.remaining()) {
    throw new GgufError(`truncated or corrupt GGUF header: ${kvCount} key/values and ${tensorCount} tensors cannot fit in the ${r.remaining()} bytes left in the file`);
  }
  const metadata: Record<string, GgufValue> = {};
  for (let i = 0; i < kvCount; i++) {
    const key = r.string();
    metadata[key] = readValue(r, r.u32());
  }
  const tensors: GgufHeader["tensors"] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = r.string();
    const nDims = r.u32();
    if (nDims > MAX_GGUF_DIMS) throw new GgufError(`GGUF tensor ${JSON.stringify(name.slice(0, 80))} has ${nDims} dimensions (at most ${MAX_GGUF_DIMS})`);
    const dims = Array.from({ length: nDims }, () => r.count());
    const type = r.u32();
    r.u64(); // offset
    tensors.push({ name, dims, type });
  }
  return { version, metadata, tensors };
}

/** "GGUF" read as a little-endian u32. */
const GGUF_MAGIC = 0x46554747;

/** Reads the header, and only the header, of a GGUF file. */
export async function readGgufHeader(path: string): Promise<GgufHeader> {
  const fd = openSync(path, "r");
  try {
    return parse(new Reader(fd, fstatSync(fd).size));
  } finally {
    closeSync(fd);
  }
}

/** Total parameter count: the product of each tensor's dims, summed. */
export function parameterCount(header: GgufHeader): number {
  return header.tensors.reduce((n, t) => n + t.dims.reduce((a, b) => a * b, 1), 0);
}

/** Metadata as plain strings (arrays summarized), the shape family detection reads. */
export function metadataStrings(header: GgufHeader): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(header.metadata)) {
    out[k] = typeof v === "object" ? `arr[${v.elementType},${v.length}]` : String(v);
  }
  return out;
}

const FTYPE_NAMES: Record<number, string> = {
  0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K", 11: "Q3_K_S", 12: "Q3_K_M",
  13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS",
  21: "Q2_K_S", 22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S",
  29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0", 37: "TQ2_0", 38: "MXFP4_MOE",
};

/** What the model list shows for a file, read from its header alone. */
export interface GgufSummary {
  architecture: string | null;
  parameters: number;
  quantization: string | null;
  contextLength: number | null;
  hasChatTemplate: boolean;
  metadata: Record<string, string>;
}

export function summarize(header: GgufHeader): GgufSummary {
  const md = header.metadata;
  const arch = typeof md["general.architecture"] === "string" ? (md["general.architecture"] as string) : null;
  const ctx = arch ? md[`${arch}.context_length`] : undefined;
  const ftype = md["general.file_type"];
  return {
    architecture: arch,
    parameters: parameterCount(header),
    quantization: typeof ftype === "number" ? (FTYPE_NAMES[ftype] ?? `ftype ${ftype}`) : null,
    contextLength: typeof ctx === "number" ? ctx : typeof ctx === "bigint" ? Number(ctx) : null,
    hasChatTemplate: typeof md["tokenizer.chat_template"] === "string",
    metadata: metadataStrings(header),
  };
}
