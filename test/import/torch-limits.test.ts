// torch.save files whose pickle gives a tensor a bad storage offset, shape or stride (negative,
// NaN, fractional, outside its storage): a clear ImportError naming the tensor, never a read
// outside the storage. The files are built here byte by byte: a stored zip around a protocol-2
// pickle of {"w": _rebuild_tensor_v2(storage, offset, shape, stride, False)}.
import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImportError } from "../../src/import/errors.ts";
import { readTorchZip } from "../../src/import/torch/torch-zip.ts";

const dir = mkdtempSync(join(tmpdir(), "hearth-torch-limits-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A pickled number: BININT (i32) for integers, BINFLOAT (big-endian f64) for anything else. */
function num(n: number): Buffer {
  if (Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31) {
    const b = Buffer.alloc(5);
    b[0] = 0x4a;
    b.writeInt32LE(n, 1);
    return b;
  }
  const b = Buffer.alloc(9);
  b[0] = 0x47;
  b.writeDoubleBE(n, 1);
  return b;
}
const unicode = (s: string) => { const b = Buffer.from(s); const h = Buffer.alloc(5); h[0] = 0x58; h.writeUInt32LE(b.length, 1); return Buffer.concat([h, b]); };
const tuple = (items: Buffer[]) => Buffer.concat([Buffer.from([0x28]), ...items, Buffer.from([0x74])]); // MARK … TUPLE
const global = (module: string, name: string) => Buffer.from(`c${module}\n${name}\n`);

/** data.pkl: {"w": tensor over FloatStorage "0" of `numel` elements}. */
function statePickle(offset: number, shape: number[], stride: number[], numel: number): Buffer {
  const storage = Buffer.concat([tuple([unicode("storage"), global("torch", "FloatStorage"), unicode("0"), unicode("cpu"), num(numel)]), Buffer.from([0x51])]);
  const args = tuple([storage, num(offset), tuple(shape.map(num)), tuple(stride.map(num)), Buffer.from([0x89])]);
  return Buffer.concat([
    Buffer.from([0x80, 0x02, 0x7d, 0x28]), // PROTO 2, EMPTY_DICT, MARK
    unicode("w"),
    global("torch._utils", "_rebuild_tensor_v2"),
    args,
    Buffer.from([0x52, 0x75, 0x2e]), // REDUCE, SETITEMS, STOP
  ]);
}

/** A zip with stored (uncompressed) entries, as torch.save writes them (CRCs left 0: not read). */
function storedZip(files: Array<[string, Buffer]>): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let at = 0;
  for (const [name, data] of files) {
    const n = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(n.length, 26);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(20, 4);
    c.writeUInt16LE(20, 6);
    c.writeUInt32LE(data.length, 20);
    c.writeUInt32LE(data.length, 24);
    c.writeUInt16LE(n.length, 28);
    c.writeUInt32LE(at, 42);
    locals.push(local, n, data);
    central.push(c, n);
    at += 30 + n.length + data.length;
  }
  const dir = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(at, 16);
  return Buffer.concat([...locals, dir, end]);
}

/** A torch.save-shaped file whose one tensor has these numbers, over 6 floats 0..5. */
function craft(name: string, offset: number, shape: number[], stride: number[]): string {
  const floats = Buffer.from(new Float32Array([0, 1, 2, 3, 4, 5]).buffer);
  const path = join(dir, `${name}.bin`);
  writeFileSync(path, storedZip([["archive/data.pkl", statePickle(offset, shape, stride, 6)], ["archive/data/0", floats]]));
  return path;
}

function importError(path: string): string {
  try {
    readTorchZip(path);
  } catch (err) {
    expect(err).toBeInstanceOf(ImportError);
    return (err as Error).message;
  }
  throw new Error(`${path} was read without an error`);
}

describe("torch.save tensor numbers are range-checked", () => {
  test("a well-formed crafted file reads (the builder is right)", () => {
    const [t] = readTorchZip(craft("ok", 2, [2, 2], [2, 1]));
    expect(t!.shape).toEqual([2, 2]);
    expect(Array.from(new Float32Array(t!.read().slice().buffer))).toEqual([2, 3, 4, 5]);
  });

  test.each([
    ["negative-offset", -1, [2], [1], "storage offset -1 is not a non-negative integer"],
    ["nan-offset", NaN, [2], [1], "storage offset NaN is not a non-negative integer"],
    ["fractional-offset", 0.5, [2], [1], "storage offset 0.5 is not a non-negative integer"],
    ["infinite-offset", Infinity, [2], [1], "storage offset Infinity is not a non-negative integer"],
    ["negative-dim", 0, [2, -2], [2, 1], "shape [2, -2] is not a list of non-negative integers"],
    ["nan-dim", 0, [NaN], [1], "shape [NaN] is not a list of non-negative integers"],
    ["negative-stride", 0, [2, 2], [-2, 1], "stride [-2, 1] is not a list of 2 non-negative integers"],
    ["short-stride", 0, [2, 2], [1], "stride [1] is not a list of 2 non-negative integers"],
    ["past-storage", 4, [2, 2], [2, 1], "offset 4 + shape [2, 2] reaches past its storage (6 elements)"],
    ["huge-shape", 0, [2 ** 26, 2 ** 26, 2 ** 26], [2 ** 52, 2 ** 26, 1], "offset 0 + shape [67108864, 67108864, 67108864] reaches past its storage (6 elements)"],
  ])("%s: a clear import error", (name, offset, shape, stride, message) => {
    expect(importError(craft(name, offset, shape, stride))).toBe(`${name}.bin: tensor w: ${message}`);
  });
});

test("a zip directory offset that would make the reader load most of the file is refused before reading it", () => {
  // 80 MiB on paper (a sparse hole): a local header's magic first, an end record last that puts
  // the directory at offset 0.
  const path = join(dir, "far-directory.bin");
  const size = 80 << 20;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  const fd = openSync(path, "w");
  try {
    writeSync(fd, Buffer.from([0x50, 0x4b, 3, 4]), 0, 4, 0);
    ftruncateSync(fd, size);
    writeSync(fd, end, 0, end.length, size - end.length);
  } finally {
    closeSync(fd);
  }
  expect(importError(path)).toBe(`far-directory.bin: zip directory at offset 0 would span ${size} bytes, more than the 64 MiB limit (corrupt?)`);
});
