// The files of one namespace (one model under one KV layout) in the prompt cache directory, and the
// directory's byte budget. An index in memory maps every block-chain hash of every stored sequence
// to its file, so the longest stored prefix of a prompt is one pass over the prompt's blocks.
//
// Several runners (one per model) and several servers may share the directory: each indexes only
// its own namespace's files, the budget counts every file there, and a file another process
// removed is simply a miss. Least recently used goes first, by file mtime (touched on every hit).
// Writes go to a private temporary name and are renamed into place, so a reader never sees half a
// file. A write that fails for lack of space (or permission) stops saving for a while; serving
// never depends on the cache.
import { mkdirSync, readdirSync, renameSync, statSync, unlinkSync, utimesSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { log } from "../../util/log.ts";
import { BLOCK_TOKENS, blockChain } from "./block-chain.ts";
import { CacheFileError, STATE_HASH_OFFSET, STATE_PIECE, encodeHead, nextStateHash, readEntry, readEntryAsync, readTokens } from "./format.ts";
import type { CacheNamespace } from "./identity.ts";

export interface StoredSequence {
  name: string;
  /** Tokens it holds. */
  length: number;
  /** Chain hashes of its full blocks. */
  chain: bigint[];
  bytes: number;
}

/** Saving pauses this long after a write failed for lack of space or permission. */
const SAVE_PAUSE_MS = 60_000;
/** States copied out of llama.cpp but not yet on disk: past this, further saves are skipped. */
const MAX_PENDING_BYTES = 2 * 2 ** 30;
const isSpaceError = (code: string | undefined) => code === "ENOSPC" || code === "EDQUOT" || code === "EROFS" || code === "EACCES" || code === "EPERM";

export class DiskStore {
  private readonly files = new Map<string, StoredSequence>();
  private readonly byHash = new Map<bigint, StoredSequence>();
  private pausedUntil = 0;
  private pendingBytes = 0;
  private readonly pending = new Set<Promise<void>>();
  private tmpCount = 0;

  constructor(
    readonly dir: string,
    readonly maxBytes: number,
    readonly ns: CacheNamespace,
    private readonly now: () => number = Date.now,
  ) {
    mkdirSync(dir, { recursive: true });
    this.scan();
    // A budget lowered since the last run applies at once.
    this.enforceBudget();
  }

  /** Files that failed their checks and were removed (scan included). */
  discarded = 0;
  /** Called after each such removal. */
  onDiscard: () => void = () => {};

  get size(): number {
    return this.files.size;
  }

  /** Indexes this namespace's files; ones that fail their checks are removed with a warning. */
  private scan(): void {
    for (const name of readdirSync(this.dir)) {
      if (!name.startsWith(`${this.ns.hex}-`)) continue;
      const path = join(this.dir, name);
      if (name.endsWith(".tmp")) {
        // A write cut short by a crash; a live writer's file is younger than this.
        if (this.mtimeOf(path) < this.now() - 10 * 60_000) this.remove(path);
        continue;
      }
      if (!name.endsWith(".kv")) continue;
      try {
        const { tokens } = readTokens(path, this.ns.key);
        this.add({ name, length: tokens.length, chain: blockChain(this.ns.key, tokens), bytes: statSync(path).size });
      } catch (err) {
        this.discard(name, err as Error);
      }
    }
  }

  private mtimeOf(path: string): number {
    try {
      return statSync(path).mtimeMs;
    } catch {
      return Infinity;
    }
  }

  private add(entry: StoredSequence): void {
    this.files.set(entry.name, entry);
    for (const h of entry.chain) this.byHash.set(h, entry);
  }

  private forget(entry: StoredSequence): void {
    if (!this.files.delete(entry.name)) return;
    const orphaned = entry.chain.filter(h => this.byHash.get(h) === entry);
    for (const h of orphaned) this.byHash.delete(h);
    // Another file may hold the same prefix blocks: point them there.
    if (orphaned.length) for (const other of this.files.values()) for (const h of other.chain) if (!this.byHash.has(h)) this.byHash.set(h, other);
  }

  private remove(path: string): void {
    try {
      unlinkSync(path);
    } catch {
      // Gone already (another process's budget), or not ours to remove: either way not indexed.
    }
  }

  /** A file that failed its checks: one warning, removed, never read again. */
  private discard(name: string, err: Error): void {
    const known = this.files.get(name);
    if (known) this.forget(known);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return; // removed by another process: just a miss
    log("warn", `prompt cache: ignoring and removing ${name}: ${err instanceof CacheFileError ? err.message : (code ?? err.message)}`);
    this.remove(join(this.dir, name));
    this.discarded++;
    this.onDiscard();
  }

  /** The stored sequence sharing the most full blocks with `tokens`, and how many tokens those blocks hold. */
  lookup(tokens: ArrayLike<number>): { entry: StoredSequence; blocks: number } | null {
    let found: { entry: StoredSequence; blocks: number } | null = null;
    const chain = blockChain(this.ns.key, tokens);
    for (let b = 0; b < chain.length; b++) {
      const entry = this.byHash.get(chain[b]!);
      if (!entry) break;
      found = { entry, blocks: b + 1 };
    }
    return found;
  }

  /** Whether a stored sequence already holds every full block of `tokens` (and at least as many tokens). */
  covers(tokens: ArrayLike<number>): boolean {
    const blocks = Math.floor(tokens.length / BLOCK_TOKENS);
    if (blocks === 0) return true;
    const last = blockChain(this.ns.key, tokens, blocks)[blocks - 1]!;
    const entry = this.byHash.get(last);
    return entry !== undefined && entry.length >= tokens.length;
  }

  /**
   * Reads a stored sequence fully checked, or null (a bad file is discarded). Counts as a use. The
   * state is read into `alloc`'s buffer (`buffer`, which `state` is the start of).
   */
  read(entry: StoredSequence, alloc?: (size: number) => Uint8Array): { tokens: Int32Array; state: Uint8Array; buffer: Uint8Array } | null {
    const path = join(this.dir, entry.name);
    try {
      const got = readEntry(path, this.ns.key, alloc);
      const t = new Date(this.now());
      utimesSync(path, t, t);
      return got;
    } catch (err) {
      this.discard(entry.name, err as Error);
      return null;
    }
  }

  /** read(), in the background (restores prefetch the file while the prompt waits in the queue). */
  async readAsync(entry: StoredSequence, alloc?: (size: number) => Uint8Array): Promise<{ tokens: Int32Array; state: Uint8Array; buffer: Uint8Array } | null> {
    const path = join(this.dir, entry.name);
    try {
      const got = await readEntryAsync(path, this.ns.key, alloc);
      const t = new Date(this.now());
      utimesSync(path, t, t);
      return got;
    } catch (err) {
      this.discard(entry.name, err as Error);
      return null;
    }
  }

  /** Whether a save of `bytes` would be written now (not paused after a full disk, not too much in flight). */
  accepts(bytes: number): boolean {
    return this.now() >= this.pausedUntil && this.pendingBytes + bytes <= MAX_PENDING_BYTES && bytes <= this.maxBytes;
  }

  /**
   * Writes a sequence in the background (the caller has copied its state already); resolves when it
   * is on disk or given up. Files it makes redundant (shorter prefixes of it) are removed after.
   */
  save(tokens: ArrayLike<number>, state: Uint8Array): Promise<boolean> {
    const chain = blockChain(this.ns.key, tokens);
    const name = `${this.ns.hex}-${(chain.at(-1) ?? 0n).toString(16).padStart(16, "0")}-${tokens.length}.kv`;
    const tmp = join(this.dir, `${this.ns.hex}-${process.pid}-${++this.tmpCount}.tmp`);
    const head = encodeHead(this.ns.key, tokens, state.length);
    this.pendingBytes += state.length;
    const done = this.write(tmp, head, state)
      .then(() => {
        renameSync(tmp, join(this.dir, name));
        const entry: StoredSequence = { name, length: tokens.length, chain, bytes: head.length + state.length };
        const old = this.files.get(name);
        if (old) this.forget(old);
        for (const other of [...this.files.values()]) {
          // A stored prefix of this sequence is redundant now.
          if (other.length <= entry.length && other.chain.length > 0 && chain[other.chain.length - 1] === other.chain.at(-1)) {
            this.forget(other);
            this.remove(join(this.dir, other.name));
          }
        }
        this.add(entry);
        this.enforceBudget();
        return true;
      })
      .catch((err: NodeJS.ErrnoException) => {
        this.remove(tmp);
        if (isSpaceError(err.code)) {
          if (this.now() >= this.pausedUntil) log("warn", `prompt cache: cannot write to ${this.dir} (${err.code}); saving paused for ${SAVE_PAUSE_MS / 1000} s, serving goes on`);
          this.pausedUntil = this.now() + SAVE_PAUSE_MS;
        } else {
          log("warn", `prompt cache: saving failed: ${err.code ?? err.message}`);
        }
        return false;
      });
    const tracked = done.then(() => {}).finally(() => {
      this.pendingBytes -= state.length;
      this.pending.delete(tracked);
    });
    this.pending.add(tracked);
    return done;
  }

  private async write(path: string, head: Uint8Array, state: Uint8Array): Promise<void> {
    const file = await open(path, "wx");
    try {
      // write(2) may write part of a buffer (a disk filling up does): go on until all is written,
      // so that a full disk surfaces as ENOSPC on the next call rather than as a short file.
      const writeAll = async (part: Uint8Array, at: number) => {
        for (let done = 0; done < part.length; ) {
          const { bytesWritten } = await file.write(part, done, part.length - done, at + done);
          done += bytesWritten;
        }
      };
      await writeAll(head, 0);
      // The state goes a piece at a time, each hashed just before it is written.
      let h = 0n;
      for (let at = 0; at < state.length; at += STATE_PIECE) {
        const piece = state.subarray(at, Math.min(state.length, at + STATE_PIECE));
        h = nextStateHash(piece, h);
        await writeAll(piece, head.length + at);
      }
      const sum = new Uint8Array(8);
      new DataView(sum.buffer).setBigUint64(0, h, true);
      await writeAll(sum, STATE_HASH_OFFSET);
    } finally {
      await file.close();
    }
  }

  /** Resolves once every save in flight has ended (before a runner exits). */
  async drain(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  /** Removes the least recently used files of the whole directory until it fits the budget. */
  enforceBudget(): void {
    const all: Array<{ name: string; bytes: number; mtime: number }> = [];
    for (const name of readdirSync(this.dir)) {
      if (!name.endsWith(".kv")) continue;
      try {
        const st = statSync(join(this.dir, name));
        all.push({ name, bytes: st.size, mtime: st.mtimeMs });
      } catch {
        // removed meanwhile
      }
    }
    let total = all.reduce((n, f) => n + f.bytes, 0);
    all.sort((a, b) => a.mtime - b.mtime);
    for (const f of all) {
      if (total <= this.maxBytes) break;
      total -= f.bytes;
      const mine = this.files.get(f.name);
      if (mine) this.forget(mine);
      this.remove(join(this.dir, f.name));
    }
    this.diskBytes = total;
  }

  /** Bytes of cache files in the directory after the last budget pass. */
  diskBytes = 0;
}
