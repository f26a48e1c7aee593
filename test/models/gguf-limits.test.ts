// Crafted GGUF headers: a claimed length or count that is absurd, or larger than the file can hold,
// is refused with a GgufError naming it before anything is read or allocated for it. Large claims
// sit in sparse files (ftruncate), so the files are big on paper and cost no disk.
import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GgufError, MAX_GGUF_STRING, readGgufHeader } from "../../src/models/gguf.ts";

const dir = mkdtempSync(join(tmpdir(), "hearth-gguf-limits-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Little-endian GGUF pieces. */
const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
const u64 = (n: number | bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(n)); return b; };
const str = (s: string) => Buffer.concat([u64(Buffer.byteLength(s)), Buffer.from(s)]);
const header = (tensors: number, kvs: number) => Buffer.concat([Buffer.from("GGUF"), u32(3), u64(tensors), u64(kvs)]);
/** key/value of type string (8) */
const kvString = (key: string, value: string) => Buffer.concat([str(key), u32(8), str(value)]);

/** Writes `bytes` at the start of a file of `size` bytes (the rest a sparse hole of zeros). */
function craft(name: string, bytes: Buffer, size = bytes.length): string {
  const path = join(dir, name);
  const fd = openSync(path, "w");
  try {
    writeSync(fd, bytes, 0, bytes.length, 0);
    if (size > bytes.length) ftruncateSync(fd, size);
  } finally {
    closeSync(fd);
  }
  return path;
}

async function errorOf(path: string): Promise<Error> {
  try {
    await readGgufHeader(path);
  } catch (err) {
    return err as Error;
  }
  throw new Error(`${path} was read without an error`);
}

describe("GGUF header limits", () => {
  test("a well-formed crafted header still reads (the builder is right)", async () => {
    const tensor = Buffer.concat([str("w"), u32(2), u64(3), u64(4), u32(0), u64(0)]);
    const path = craft("ok.gguf", Buffer.concat([header(1, 1), kvString("general.architecture", "llama"), tensor]));
    const h = await readGgufHeader(path);
    expect(h.metadata["general.architecture"]).toBe("llama");
    expect(h.tensors).toEqual([{ name: "w", dims: [3, 4], type: 0 }]);
  });

  test("a string longer than the limit, in a file large enough to hold it, is refused before it is read", async () => {
    const claimed = MAX_GGUF_STRING * 2;
    const bytes = Buffer.concat([header(0, 1), u64(claimed)]);
    const err = await errorOf(craft("long-string.gguf", bytes, bytes.length + claimed + 64));
    expect(err).toBeInstanceOf(GgufError);
    expect(err.message).toBe(`GGUF string of ${claimed} bytes at offset 24 is longer than the 16 MiB limit`);
  });

  test("a string length past the end of the file is refused as truncated", async () => {
    const err = await errorOf(craft("past-end.gguf", Buffer.concat([header(0, 1), u64(1000), Buffer.alloc(100)])));
    expect(err.message).toMatch(/^truncated GGUF header: a string of 1000 bytes/);
  });

  test.each([5, 0xffffffff])("a tensor with %d dimensions is refused before its dims are read", async nDims => {
    // 32 MiB of zeros after the record: room for millions of "dims" if they were believed.
    const bytes = Buffer.concat([header(1, 0), str("blk.0.attn_q.weight"), u32(nDims)]);
    const err = await errorOf(craft(`dims-${nDims}.gguf`, bytes, 32 << 20));
    expect(err).toBeInstanceOf(GgufError);
    expect(err.message).toBe(`GGUF tensor "blk.0.attn_q.weight" has ${nDims} dimensions (at most 4)`);
  });

  test.each([
    ["strings", 8, 1 << 24],
    ["u32s", 4, 1 << 24],
    ["strings (2^40)", 8, 2 ** 40],
  ])("an array of more %s than the file holds is refused before it is walked", async (_, elementType, length) => {
    // 32 MiB of zeros: 4M empty "strings" to walk one by one if the count were believed.
    const bytes = Buffer.concat([header(0, 1), str("tokenizer.ggml.tokens"), u32(9), u32(elementType), u64(length)]);
    const err = await errorOf(craft(`array-${elementType}-${length}.gguf`, bytes, 32 << 20));
    expect(err).toBeInstanceOf(GgufError);
    expect(err.message).toMatch(new RegExp(`^truncated or corrupt GGUF header: an array of ${length} elements \\(type ${elementType}\\) cannot fit in the \\d+ bytes left`));
  });

  test("more key/values or tensors than the file can hold are refused before the first is read", async () => {
    const err = await errorOf(craft("counts.gguf", header(2 ** 40, 2 ** 40), 32 << 20));
    expect(err.message).toMatch(/^truncated or corrupt GGUF header: 1099511627776 key\/values and 1099511627776 tensors cannot fit/);
  });
});
