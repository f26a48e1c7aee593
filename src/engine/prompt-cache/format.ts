// One stored sequence per file: a fixed header, the sequence's token ids, then the KV state as
// llama_state_seq_get_data wrote it. Everything is checked before a state goes back to llama.cpp
// (its reader trusts positions and sizes): the namespace key (model, llama.cpp, KV layout), the
// exact file size (a truncated file), and wyhash checksums of the tokens and of the state (a
// corrupt one). A file that fails any check is a CacheFileError, never a crash. The state's
// checksum is chained over 8 MiB pieces, so a writer and a reader can hash a piece at a time
// between their I/O waits instead of stalling the token loop over hundreds of MB at once.
//
//   0  "HEARTHKV"            8 bytes
//   8  format version        u32
//  12  token count n         u32
//  16  namespace key         u64
//  24  state length          u64
//  32  state checksum        u64 (wyhash chained over 8 MiB pieces; written last)
//  40  tokens checksum       u64 (wyhash)
//  48  tokens                n × i32
//  48 + 4n  state            (state length) bytes
import { closeSync, fstatSync, openSync, read, readSync } from "node:fs";
import { promisify } from "node:util";
import { FORMAT_VERSION } from "./identity.ts";

const MAGIC = "HEARTHKV";
export const HEADER_BYTES = 48;
/** Where the state checksum sits in the header (a writer fills it in once the state is written). */
export const STATE_HASH_OFFSET = 32;
/** The pieces the state checksum is chained over. */
export const STATE_PIECE = 8 << 20;

/** The state checksum, piece by piece: start from 0n, then `h = nextStateHash(piece, h)` in order. */
export const nextStateHash = (piece: Uint8Array, h: bigint): bigint => Bun.hash.wyhash(piece, h);

function stateHash(state: Uint8Array): bigint {
  let h = 0n;
  for (let at = 0; at < state.length; at += STATE_PIECE) h = nextStateHash(state.subarray(at, Math.min(state.length, at + STATE_PIECE)), h);
  return h;
}

const readAt = promisify(read);

export class CacheFileError extends Error {
  override name = "CacheFileError";
}

/** The header and token ids of a file holding `tokens` and a state of `stateLength` bytes (its checksum still 0). */
export function encodeHead(key: bigint, tokens: ArrayLike<number>, stateLength: number): Uint8Array {
  const ids = Int32Array.from(tokens);
  const head = new Uint8Array(HEADER_BYTES + ids.byteLength);
  const view = new DataView(head.buffer);
  head.set(new TextEncoder().encode(MAGIC), 0);
  view.setUint32(8, FORMAT_VERSION, true);
  view.setUint32(12, ids.length, true);
  view.setBigUint64(16, key, true);
  view.setBigUint64(24, BigInt(stateLength), true);
  view.setBigUint64(40, Bun.hash.wyhash(new Uint8Array(ids.buffer), 0n), true);
  head.set(new Uint8Array(ids.buffer), HEADER_BYTES);
  return head;
}

interface Head {
  tokens: Int32Array;
  stateLength: number;
  stateHash: bigint;
}

/** Reads and checks the header and tokens of an open file (its size must match exactly). */
function readHead(fd: number, key: bigint): Head {
  const fixed = new Uint8Array(HEADER_BYTES);
  if (readSync(fd, fixed, 0, HEADER_BYTES, 0) !== HEADER_BYTES) throw new CacheFileError("shorter than its header");
  if (new TextDecoder().decode(fixed.subarray(0, 8)) !== MAGIC) throw new CacheFileError("not a Hearth KV cache file");
  const view = new DataView(fixed.buffer);
  const version = view.getUint32(8, true);
  if (version !== FORMAT_VERSION) throw new CacheFileError(`format version ${version}, expected ${FORMAT_VERSION}`);
  if (view.getBigUint64(16, true) !== key) throw new CacheFileError("written for another model, llama.cpp or KV cache layout");
  const n = view.getUint32(12, true);
  const stateLength = Number(view.getBigUint64(24, true));
  const expected = HEADER_BYTES + 4 * n + stateLength;
  const size = fstatSync(fd).size;
  if (size !== expected) throw new CacheFileError(`${size} bytes where its header promises ${expected} (truncated?)`);
  const tokens = new Int32Array(n);
  const tokenBytes = new Uint8Array(tokens.buffer);
  if (readSync(fd, tokenBytes, 0, tokenBytes.length, HEADER_BYTES) !== tokenBytes.length) throw new CacheFileError("tokens cut short");
  if (Bun.hash.wyhash(tokenBytes, 0n) !== view.getBigUint64(40, true)) throw new CacheFileError("token checksum mismatch (corrupt)");
  return { tokens, stateLength, stateHash: view.getBigUint64(32, true) };
}

/** The tokens of a stored sequence and its state size, checking all but the state's checksum (cheap: for the index). */
export function readTokens(path: string, key: bigint): { tokens: Int32Array; stateLength: number } {
  const fd = openSync(path, "r");
  try {
    const { tokens, stateLength } = readHead(fd, key);
    return { tokens, stateLength };
  } finally {
    closeSync(fd);
  }
}

/**
 * A stored sequence, fully checked: its tokens and the state to give llama_state_seq_set_data, read
 * into `alloc`'s buffer (which may be longer: `state` is the part that holds it).
 */
export function readEntry(path: string, key: bigint, alloc: (size: number) => Uint8Array = n => new Uint8Array(n)): { tokens: Int32Array; state: Uint8Array; buffer: Uint8Array } {
  const fd = openSync(path, "r");
  try {
    const { tokens, stateLength, stateHash: expected } = readHead(fd, key);
    const buffer = alloc(stateLength);
    const state = buffer.subarray(0, stateLength);
    let at = 0;
    while (at < stateLength) {
      const n = readSync(fd, state, at, stateLength - at, HEADER_BYTES + 4 * tokens.length + at);
      if (n <= 0) throw new CacheFileError("state cut short");
      at += n;
    }
    if (stateHash(state) !== expected) throw new CacheFileError("state checksum mismatch (corrupt)");
    return { tokens, state, buffer };
  } finally {
    closeSync(fd);
  }
}

/** readEntry in the background: the state is read and hashed a piece at a time. */
export async function readEntryAsync(path: string, key: bigint, alloc: (size: number) => Uint8Array = n => new Uint8Array(n)): Promise<{ tokens: Int32Array; state: Uint8Array; buffer: Uint8Array }> {
  const fd = openSync(path, "r");
  try {
    const { tokens, stateLength, stateHash: expected } = readHead(fd, key);
    const buffer = alloc(stateLength);
    const state = buffer.subarray(0, stateLength);
    const base = HEADER_BYTES + 4 * tokens.length;
    let h = 0n;
    for (let at = 0; at < stateLength; ) {
      const end = Math.min(stateLength, at + STATE_PIECE);
      for (let got = at; got < end; ) {
        const { bytesRead } = await readAt(fd, state, got, end - got, base + got);
        if (bytesRead <= 0) throw new CacheFileError("state cut short");
        got += bytesRead;
      }
      h = nextStateHash(state.subarray(at, end), h);
      at = end;
    }
    if (h !== expected) throw new CacheFileError("state checksum mismatch (corrupt)");
    return { tokens, state, buffer };
  } finally {
    closeSync(fd);
  }
}
