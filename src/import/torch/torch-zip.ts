// Reads a torch.save file (zip format since PyTorch 1.6): `<root>/data.pkl` is a pickled state dict
// whose tensors point, through persistent ids, at raw storages `<root>/data/<key>`. The pickle is
// read by the restricted reader with only the globals a state dict needs. Legacy (pre-zip) files
// are refused: their format interleaves pickles with raw data and offers nothing safe to parse.
// Every number the pickle gives a tensor (storage offset, shape, stride) is checked to be a
// non-negative integer, and its bytes to lie inside its storage, before the tensor is yielded.
import { statSync } from "node:fs";
import { basename } from "node:path";
import { DTYPE_SIZE, type SourceDtype } from "../dtype.ts";
import { ImportError } from "../errors.ts";
import { elementCount, fileTensor, readAt, type SourceTensor } from "../tensor-source.ts";
import { type Callables, type Global, type PyValue, unpickle } from "./pickle.ts";
import { zipEntries } from "./zip.ts";

const STORAGE_DTYPES: Record<string, SourceDtype | null> = {
  FloatStorage: "F32", HalfStorage: "F16", BFloat16Storage: "BF16",
  DoubleStorage: null, LongStorage: null, IntStorage: null, ShortStorage: null, CharStorage: null, ByteStorage: null, BoolStorage: null,
};

interface StorageRef { kind: "storage"; key: string; dtype: SourceDtype | null; type: string }
interface TensorRef { kind: "tensor"; storage: StorageRef; offset: number; shape: number[]; stride: number[] }

function rebuildTensor(args: PyValue[]): TensorRef {
  const [storage, offset, shape, stride] = args as [StorageRef, number, number[], number[]];
  if ((storage as StorageRef)?.kind !== "storage") throw new ImportError("_rebuild_tensor_v2 without a storage");
  return { kind: "tensor", storage, offset, shape, stride };
}

const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;
/** A pickled value for a message: scalars as Python shows them, lists one level deep and short. */
const scalar = (v: unknown): string => (Array.isArray(v) ? "[…]" : typeof v === "string" ? JSON.stringify(v.slice(0, 40)) : String(v));
const show = (v: unknown): string => (Array.isArray(v) ? `[${v.slice(0, 8).map(scalar).join(", ")}${v.length > 8 ? ", …" : ""}]` : scalar(v));

/** Throws unless a tensor's offset, shape and stride are non-negative integers of matching ranks. */
function checkNumbers(t: TensorRef, where: string): void {
  if (!isCount(t.offset)) throw new ImportError(`${where}: storage offset ${show(t.offset)} is not a non-negative integer`);
  if (!Array.isArray(t.shape) || !t.shape.every(isCount)) throw new ImportError(`${where}: shape ${show(t.shape)} is not a list of non-negative integers`);
  if (!Array.isArray(t.stride) || t.stride.length !== t.shape.length || !t.stride.every(isCount)) {
    throw new ImportError(`${where}: stride ${show(t.stride)} is not a list of ${t.shape.length} non-negative integers`);
  }
}

const allowed: Callables = {
  "collections.OrderedDict": () => new Map(),
  "torch._utils._rebuild_tensor_v2": rebuildTensor,
  "torch._utils._rebuild_parameter": args => args[0],
  "torch._utils._rebuild_parameter_with_state": args => args[0],
  ...Object.fromEntries(Object.keys(STORAGE_DTYPES).map(s => [`torch.${s}`, () => { throw new ImportError(`torch.${s} cannot be called`); }])),
};

export function readTorchZip(path: string): SourceTensor[] {
  const name = basename(path);
  const size = statSync(path).size;
  const magic = size >= 4 ? readAt(path, 0, 4) : new Uint8Array(4);
  if (magic[0] !== 0x50 || magic[1] !== 0x4b || magic[2] !== 3 || magic[3] !== 4) {
    throw new ImportError(`${name}: legacy (non-zip) torch file; only the zip format torch.save has written since PyTorch 1.6 is read (re-save it, or convert it to safetensors)`);
  }
  const entries = zipEntries(path, size, name);
  const pkl = [...entries.values()].find(e => e.name.endsWith("/data.pkl") && e.name.split("/").length === 2);
  if (!pkl) throw new ImportError(`${name}: no data.pkl (not a torch.save file)`);
  const root = pkl.name.slice(0, -"data.pkl".length);

  const persistentLoad = (pid: PyValue): StorageRef => {
    // ('storage', torch.<Type>Storage, key, location, numel)
    const [tag, type, key] = pid as [string, Global, string];
    if (tag !== "storage" || type?.kind !== "global") throw new ImportError(`${name}: unexpected persistent id`);
    return { kind: "storage", key: String(key), dtype: STORAGE_DTYPES[type.name] ?? null, type: type.name };
  };
  let obj = unpickle(readAt(path, pkl.offset, pkl.size), allowed, persistentLoad, name);
  if (obj instanceof Map && obj.get("state_dict") instanceof Map) obj = obj.get("state_dict");
  if (!(obj instanceof Map)) throw new ImportError(`${name}: the pickle holds no state dict`);

  const out: SourceTensor[] = [];
  for (const [key, value] of obj as Map<string, PyValue>) {
    const t = value as TensorRef;
    if (t?.kind !== "tensor") continue;
    const where = `${name}: tensor ${key}`;
    if (!t.storage.dtype) throw new ImportError(`${where}: unsupported storage type ${t.storage.type} (supported: FloatStorage, HalfStorage, BFloat16Storage)`);
    checkNumbers(t, where);
    // Only contiguous row-major views are read (what a saved state dict holds).
    let expect = 1;
    for (let i = t.shape.length - 1; i >= 0; i--) {
      if (t.shape[i]! > 1 && t.stride[i] !== expect) throw new ImportError(`${where}: non-contiguous tensor (stride ${t.stride})`);
      expect *= t.shape[i]!;
    }
    const entry = entries.get(`${root}data/${t.storage.key}`);
    if (!entry) throw new ImportError(`${where}: storage ${t.storage.key} missing from the archive`);
    const esize = DTYPE_SIZE[t.storage.dtype];
    const begin = entry.offset + t.offset * esize;
    const end = begin + elementCount(t.shape) * esize;
    if (!Number.isSafeInteger(end) || end > entry.offset + entry.size) {
      throw new ImportError(`${where}: offset ${t.offset} + shape [${t.shape.join(", ")}] reaches past its storage (${Math.floor(entry.size / esize)} elements)`);
    }
    out.push(fileTensor({ name: key, dtype: t.storage.dtype, shape: t.shape, file: name, byteLength: end - begin }, path, begin));
  }
  return out;
}
