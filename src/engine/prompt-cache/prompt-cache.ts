// The prompt cache on disk, as the scheduler uses it: save a slot's sequence before its KV is lost,
// and put a stored sequence back into a slot when it holds more of a new prompt than the KV cache
// does. Runs in the runner; the copy out of (and into) llama.cpp is synchronous, the file write is
// not (store.ts), so a save costs the token loop one state copy (a memcpy of the sequence's cells).
import type { LlamaContext } from "../../llama/index.ts";
import type { KvCacheSettings } from "../../llama/kv-cache-types.ts";
import { log } from "../../util/log.ts";
import type { Slot } from "../jobs.ts";
import { commonPrefix } from "../prefix-sharing.ts";
import { BLOCK_TOKENS } from "./block-chain.ts";
import { cacheNamespace, modelFileIdentity } from "./identity.ts";
import { DiskStore, type StoredSequence } from "./store.ts";
import { BufferPool } from "./buffer-pool.ts";

/** Sequences shorter than this are not worth a file (their prefill is short too). */
export const MIN_SAVE_TOKENS = 64;
/** A stored prefix must hold this many more tokens than the KV cache offers to be read back. */
export const MIN_RESTORE_GAIN = 32;

export interface PromptCacheConfig {
  dir: string;
  /** Byte budget of the whole directory; 0 turns the cache off. */
  maxBytes: number;
}

/** Counters since the runner started (the supervisor adds them up across runners for /metrics). */
export interface PromptCacheStats {
  /** Prompts looked up, and those a stored sequence served (restored). */
  lookups: number;
  hits: number;
  restoredTokens: number;
  /** Sequences written, and their bytes. */
  saves: number;
  savedBytes: number;
  /** Files that failed their checks and were removed. */
  discarded: number;
}

export const emptyStats = (): PromptCacheStats => ({ lookups: 0, hits: 0, restoredTokens: 0, saves: 0, savedBytes: 0, discarded: 0 });

/** A stored sequence being read for the queue's first prompt (PromptCache.readyFor). */
interface Prefetch {
  prompt: readonly number[];
  entry: StoredSequence;
  done: boolean;
  got: { tokens: Int32Array; state: Uint8Array; buffer: Uint8Array } | null;
}

/** The files a runner serves: the model's path, and its vision projector's when one is loaded. */
export interface ServedPaths {
  model: string;
  projector?: string;
}

export class PromptCache {
  readonly stats = emptyStats();
  private prefetch: Prefetch | null = null;
  /** Buffers for states in flight (buffer-pool.ts): the copies in the token loop then touch no fresh memory. */
  private readonly buffers = new BufferPool();

  constructor(
    readonly store: DiskStore,
    /** Called after the counters change (the runner tells its supervisor). */
    private readonly onChange: () => void = () => {},
  ) {
    // Bad files found by the store's first scan count too.
    this.stats.discarded = store.discarded;
    store.onDiscard = () => this.count("discarded");
  }

  /**
   * The cache for a model file (and the vision projector loaded with it) under these KV settings;
   * null when off or when the directory cannot be used (warned).
   */
  static open(config: PromptCacheConfig, files: ServedPaths, kv: KvCacheSettings, onChange?: () => void): PromptCache | null {
    if (config.maxBytes <= 0) return null;
    try {
      const projector = files.projector === undefined ? undefined : modelFileIdentity(files.projector);
      const ns = cacheNamespace({ model: modelFileIdentity(files.model), projector }, kv);
      log("debug", `prompt cache: ${config.dir}, namespace ${ns.hex} (${ns.text})`);
      return new PromptCache(new DiskStore(config.dir, config.maxBytes, ns), onChange);
    } catch (err) {
      log("warn", `prompt cache off: ${(err as Error).message}`);
      return null;
    }
  }

  private count(key: keyof PromptCacheStats, by = 1): void {
    this.stats[key] += by;
    this.onChange();
  }

  /**
   * Writes the slot's sequence unless a stored one already holds it (or it is too short). Call
   * before the slot's KV is dropped or cut; the slot itself is left as it is.
   */
  saveSlot(ctx: LlamaContext, slot: Slot): void {
    const tokens = slot.cached;
    if (tokens.length < MIN_SAVE_TOKENS || !this.store.accepts(0) || this.store.covers(tokens)) return;
    const held: { buffer?: Uint8Array } = {};
    const state = ctx.seqStateSave(slot.seq, size => (held.buffer = this.buffers.take(size)));
    const release = (): void => {
      if (held.buffer) this.buffers.give(held.buffer);
    };
    if (state.length === 0 || !this.store.accepts(state.length)) return release();
    void this.store.save(tokens.slice(), state).then(ok => {
      release();
      if (!ok) return;
      this.stats.savedBytes += state.length;
      this.count("saves");
    });
  }

  /**
   * Cutting a slot back from `from` to `to` tokens loses the rest: worth a save when that is a good
   * part of it (a conversation switched, or edited far back), not for a turn's last few tokens.
   */
  worthSaving(from: number, to: number): boolean {
    const lost = from - to;
    return lost >= MIN_SAVE_TOKENS && lost >= from / 4;
  }

  /**
   * Puts back the stored sequence sharing the most with `prompt` when it gives at least
   * MIN_RESTORE_GAIN more than `have` tokens (what the KV cache offers), cut back to the shared
   * prefix (at least the prompt's last token is decoded again). Returns null when nothing was
   * tried (the slot is untouched), else the tokens the slot now holds: the restored prefix, or 0
   * when the state could not be loaded (the slot was emptied first; its tokens were a prefix of
   * the stored ones anyway, or the state lacks what a continuation from the cut needs: `holds`,
   * for sliding-window caches).
   */
  restoreInto(ctx: LlamaContext, slot: Slot, prompt: readonly number[], have: number, holds: (len: number) => boolean = () => true): number | null {
    this.stats.lookups++;
    const hit = this.usableHit(prompt, have);
    if (!hit) return null;
    const got = this.takePrefetched(prompt, hit.entry) ?? this.store.read(hit.entry, size => this.buffers.take(size));
    if (!got) return null;
    try {
      return this.load(ctx, slot, prompt, got, holds);
    } finally {
      this.buffers.give(got.buffer);
    }
  }

  /** The stored sequence worth restoring for `prompt` when the KV cache offers `have` tokens of it. */
  private usableHit(prompt: readonly number[], have: number): { entry: StoredSequence } | null {
    const hit = this.store.lookup(prompt);
    return hit && Math.min(hit.blocks * BLOCK_TOKENS, prompt.length - 1) >= have + MIN_RESTORE_GAIN ? hit : null;
  }

  /**
   * Whether a queued prompt may be admitted now. When a stored sequence would serve it, its file is
   * first read (and checked) in the background, so the token loop then only loads the state:
   * false until that read has ended. One read at a time, for the queue's first prompt.
   */
  readyFor(prompt: readonly number[], have: number): boolean {
    const p = this.prefetch;
    if (p?.prompt === prompt) return p.done;
    const hit = this.usableHit(prompt, have);
    if (!hit) return true;
    this.dropPrefetch();
    const next: Prefetch = { prompt, entry: hit.entry, done: false, got: null };
    this.prefetch = next;
    void this.store.readAsync(hit.entry, size => this.buffers.take(size)).then(got => {
      next.got = got;
      next.done = true;
      // A prefetch nobody will take (replaced meanwhile) gives its buffer back.
      if (this.prefetch !== next && got) this.buffers.give(got.buffer);
    });
    return false;
  }

  private takePrefetched(prompt: readonly number[], entry: StoredSequence): { tokens: Int32Array; state: Uint8Array; buffer: Uint8Array } | null {
    const p = this.prefetch;
    if (!p || p.prompt !== prompt || !p.done) return null;
    this.prefetch = null;
    if (p.entry === entry) return p.got;
    if (p.got) this.buffers.give(p.got.buffer);
    return null;
  }

  private dropPrefetch(): void {
    const p = this.prefetch;
    this.prefetch = null;
    if (p?.done && p.got) this.buffers.give(p.got.buffer);
  }

  private load(ctx: LlamaContext, slot: Slot, prompt: readonly number[], got: { tokens: Int32Array; state: Uint8Array }, holds: (len: number) => boolean): number {
    const len = Math.min(commonPrefix(Array.from(got.tokens), prompt), prompt.length - 1);
    ctx.seqRemove(slot.seq, 0, -1);
    slot.cached = [];
    // llama.cpp needs free cells for the whole stored sequence (a full KV cache refuses it: a miss).
    if (!ctx.seqStateLoad(slot.seq, got.state) || (len < got.tokens.length && !ctx.seqRemove(slot.seq, len, -1)) || !holds(len)) {
      ctx.seqRemove(slot.seq, 0, -1);
      return 0;
    }
    slot.cached = prompt.slice(0, len);
    this.stats.restoredTokens += len;
    this.count("hits");
    return len;
  }

  /** Resolves when every write in flight has ended. */
  drain(): Promise<void> {
    return this.store.drain();
  }
}

/**
 * The runner's prompt cache, reporting its counters to the supervisor after each change (null when
 * the cache is off). `send` is the runner's IPC send; `projectorPath` the vision projector loaded
 * (named or paired), if any.
 */
export function openRunnerCache(
  config: { modelPath: string; promptCache?: PromptCacheConfig },
  kv: KvCacheSettings,
  send: (message: { type: "prompt-cache"; stats: PromptCacheStats; diskBytes: number }) => void,
  projectorPath?: string,
): PromptCache | null {
  if (!config.promptCache) return null;
  const report = () => cache && send({ type: "prompt-cache", stats: { ...cache.stats }, diskBytes: cache.store.diskBytes });
  const cache: PromptCache | null = PromptCache.open(config.promptCache, { model: config.modelPath, projector: projectorPath }, kv, report);
  report();
  return cache;
}
