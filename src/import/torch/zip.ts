// Reads the central directory of a zip file (with zip64) and locates each stored entry's bytes.
// torch.save writes entries uncompressed; a compressed entry is refused.
import { ImportError } from "../errors.ts";
import { readAt } from "../tensor-source.ts";

export interface ZipEntry { name: string; offset: number; size: number }

/** Most bytes read for the directory: ~150 bytes an entry, so room for hundreds of thousands. */
const MAX_DIRECTORY = 64 * 1024 * 1024;

/**
 * The entries of the zip file at `path` (`size` bytes). Reads the tail (end records) and the
 * central directory; each entry's local header is read when located.
 */
export function zipEntries(path: string, size: number, where: string): Map<string, ZipEntry> {
  const fail = (m: string): never => { throw new ImportError(`${where}: ${m}`); };
  // The end records and the directory are read into one buffer `map` that covers [base, size).
  const tailLen = Math.min(size, 22 + 65535 + 20);
  let base = size - tailLen;
  let map = readAt(path, base, tailLen);
  let v = new DataView(map.buffer);
  let eocd = -1;
  for (let i = map.length - 22; i >= 0; i--) {
    if (v.getUint32(i, true) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) fail("zip directory not found (truncated file?)");
  let count = v.getUint16(eocd + 10, true);
  let dirOffset = v.getUint32(eocd + 16, true);
  if (eocd >= 20 && v.getUint32(eocd - 20, true) === 0x07064b50) {
    const z64 = Number(v.getBigUint64(eocd - 20 + 8, true));
    if (z64 + 56 > size) fail("bad zip64 directory");
    const rec = new DataView(readAt(path, z64, 56).buffer);
    if (rec.getUint32(0, true) !== 0x06064b50) fail("bad zip64 directory");
    count = Number(rec.getBigUint64(32, true));
    dirOffset = Number(rec.getBigUint64(48, true));
  }
  if (dirOffset > size) fail("zip directory outside the file (truncated?)");
  if (size - dirOffset > MAX_DIRECTORY) fail(`zip directory at offset ${dirOffset} would span ${size - dirOffset} bytes, more than the ${MAX_DIRECTORY >> 20} MiB limit (corrupt?)`);
  // Re-read from the directory's start to the end of the file: the directory and end records.
  base = dirOffset;
  map = readAt(path, base, size - base);
  v = new DataView(map.buffer);
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let n = 0; n < count; n++) {
    if (p + 46 > map.length || v.getUint32(p, true) !== 0x02014b50) fail("corrupt zip directory");
    const method = v.getUint16(p + 10, true);
    let entrySize = v.getUint32(p + 24, true);
    const nameLen = v.getUint16(p + 28, true);
    const extraLen = v.getUint16(p + 30, true);
    const commentLen = v.getUint16(p + 32, true);
    let local = v.getUint32(p + 42, true);
    const name = new TextDecoder().decode(map.subarray(p + 46, p + 46 + nameLen));
    // zip64 extra field: the 64-bit values of whichever 32-bit fields are saturated, in order.
    for (let e = p + 46 + nameLen; e + 4 <= p + 46 + nameLen + extraLen;) {
      const id = v.getUint16(e, true);
      const len = v.getUint16(e + 2, true);
      if (id === 1) {
        let q = e + 4;
        if (entrySize === 0xffffffff) { entrySize = Number(v.getBigUint64(q, true)); q += 8; }
        if (v.getUint32(p + 20, true) === 0xffffffff) q += 8;
        if (local === 0xffffffff) local = Number(v.getBigUint64(q, true));
      }
      e += 4 + len;
    }
    if (method !== 0) fail(`zip entry ${name} is compressed (method ${method}); torch.save files are stored uncompressed`);
    if (local + 30 > base) fail(`bad local header for ${name}`);
    const lh = new DataView(readAt(path, local, 30).buffer);
    if (lh.getUint32(0, true) !== 0x04034b50) fail(`bad local header for ${name}`);
    const offset = local + 30 + lh.getUint16(26, true) + lh.getUint16(28, true);
    if (offset + entrySize > base) fail(`zip entry ${name} reaches past its place in the file (truncated?)`);
    entries.set(name, { name, offset, size: entrySize });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}
