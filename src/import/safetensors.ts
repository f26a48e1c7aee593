// Reads a .safetensors file: an 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}}, then the tensor bytes. Everything the header
// claims is checked against the file before any tensor is touched: offsets inside the data area,
// byte range = shape × dtype size, no two tensors overlapping.
import { statSync } from "node:fs";
import { basename } from "node:path";
import { DTYPE_SIZE, parseDtype } from "./dtype.ts";
import { ImportError } from "./errors.ts";
import { elementCount, fileTensor, readAt, type SourceTensor } from "./tensor-source.ts";

const MAX_HEADER = 100 * 1024 * 1024;

export function readSafetensors(path: string): SourceTensor[] {
  const name = basename(path);
  const size = statSync(path).size;
  if (size < 8) throw new ImportError(`${name}: truncated safetensors file (${size} bytes, no header)`);
  const head = readAt(path, 0, 8);
  const headerLen = Number(new DataView(head.buffer).getBigUint64(0, true));
  if (headerLen > MAX_HEADER || 8 + headerLen > size) {
    throw new ImportError(`${name}: header length ${headerLen} does not fit in the file (${size} bytes): truncated or not safetensors`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(readAt(path, 8, headerLen)));
  } catch (err) {
    throw new ImportError(`${name}: header is not valid JSON (${(err as Error).message})`);
  }
  if (!header || typeof header !== "object" || Array.isArray(header)) throw new ImportError(`${name}: header is not a JSON object`);

  const dataStart = 8 + headerLen;
  const dataLen = size - dataStart;
  const tensors: SourceTensor[] = [];
  const ranges: { name: string; begin: number; end: number }[] = [];
  for (const [tname, raw] of Object.entries(header)) {
    if (tname === "__metadata__") continue;
    const where = `${name}: tensor ${tname}`;
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!info || typeof info !== "object") throw new ImportError(`${where}: entry is not an object`);
    const dtype = parseDtype(String(info.dtype), where);
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every(d => Number.isSafeInteger(d) && d >= 0)) {
      throw new ImportError(`${where}: shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    }
    const offs = info.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every(o => Number.isSafeInteger(o) && o >= 0) || offs[0] > offs[1]) {
      throw new ImportError(`${where}: data_offsets ${JSON.stringify(offs)} is not [begin, end]`);
    }
    const [begin, end] = offs as [number, number];
    if (end > dataLen) {
      throw new ImportError(`${where}: data_offsets [${begin}, ${end}] reach past the end of the file (data area is ${dataLen} bytes): truncated or lying header`);
    }
    const want = elementCount(shape) * DTYPE_SIZE[dtype];
    if (end - begin !== want) {
      throw new ImportError(`${where}: shape [${shape.join(", ")}] × ${dtype} needs ${want} bytes but data_offsets span ${end - begin}`);
    }
    tensors.push(fileTensor({ name: tname, dtype, shape: shape as number[], file: name, byteLength: want }, path, dataStart + begin));
    ranges.push({ name: tname, begin, end });
  }
  const sorted = ranges.sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.begin < sorted[i - 1]!.end) {
      throw new ImportError(`${name}: tensors ${sorted[i - 1]!.name} and ${sorted[i]!.name} overlap in the file`);
    }
  }
  return tensors;
}
