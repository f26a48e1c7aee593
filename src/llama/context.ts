// An inference context over a model: KV cache, batch decode, logits. One owner, dispose() frees.
//
// Every limit that would make llama.cpp abort the process (GGML_ASSERT) is checked here first:
// batch size, sequence ids, token ids. See ../../ARCHITECTURE.md.
import { type Pointer, toArrayBuffer } from "bun:ffi";
import { native } from "./library.ts";
import { drainNativeLog } from "./native-log.ts";
import { cString } from "./cstring.ts";
import type { LlamaModel } from "./model.ts";
import { ggmlTypeId, type KvCacheType } from "./kv-cache-types.ts";

export interface ContextOptions {
  nCtx: number;
  nBatch: number;
  nUbatch?: number;
  nSeqMax: number;
  threads: number;
  threadsBatch?: number;
  /** One KV stream shared by all sequences: makes partial seq_cp legal (prefix sharing, n > 1). */
  kvUnified?: boolean;
  /** -1 auto, 0 off, 1 on. */
  flashAttn?: number;
  embeddings?: boolean;
  /** f32 K/V cache instead of f16 (exact logits for reference comparisons; twice the memory). */
  kvF32?: boolean;
  /** -ctk / -ctv: the K and V cache types (default f16); override kvF32. */
  typeK?: KvCacheType;
  typeV?: KvCacheType;
  /** Memory another thread or process sets non-zero to abort a running decode. */
  abortFlag?: Int32Array;
}

export class DecodeError extends Error {
  override name = "DecodeError";
  constructor(readonly code: number) {
    super(
      code === 1
        ? "no KV cache slot for the batch (context full)"
        : code === 2
          ? "decode aborted"
          : `llama_decode failed with code ${code}`,
    );
  }
}

/** A reusable batch in TypeScript-owned flat arrays; the shim copies it into a llama_batch. */
export class Batch {
  readonly tokens: Int32Array;
  readonly pos: Int32Array;
  readonly seqIds: Int32Array;
  readonly logits: Int8Array;
  size = 0;

  constructor(readonly capacity: number) {
    this.tokens = new Int32Array(capacity);
    this.pos = new Int32Array(capacity);
    this.seqIds = new Int32Array(capacity);
    this.logits = new Int8Array(capacity);
  }

  clear(): void {
    this.size = 0;
  }

  /** Adds one token; returns its index in the batch (the index to read logits from). */
  add(token: number, pos: number, seqId: number, wantLogits: boolean): number {
    if (this.size >= this.capacity) throw new RangeError(`batch full (${this.capacity})`);
    const i = this.size++;
    this.tokens[i] = token;
    this.pos[i] = pos;
    this.seqIds[i] = seqId;
    this.logits[i] = wantLogits ? 1 : 0;
    return i;
  }
}

/** Most sequence ids one context may have (LLAMA_MAX_SEQ). */
export function maxSequences(): number {
  return Number(native().llama.llama_max_parallel_sequences());
}

export class LlamaContext {
  private handle: Pointer | null;
  private nativeBatch: Pointer;
  readonly memory: Pointer;
  readonly nCtx: number;
  readonly nBatch: number;
  readonly nSeqMax: number;
  readonly nVocab: number;

  constructor(
    readonly model: LlamaModel,
    options: ContextOptions,
  ) {
    const { shim, llama } = native();
    const handle = shim.hearth_context_new(
      model.ptr,
      options.nCtx,
      options.nBatch,
      options.nUbatch ?? options.nBatch,
      options.nSeqMax,
      options.threads,
      options.threadsBatch ?? options.threads,
      options.kvUnified === false ? 0 : 1,
      options.flashAttn ?? -1,
      options.embeddings ? 1 : 0,
      options.kvF32 ? 1 : 0,
      options.abortFlag ?? null,
      options.typeK ? ggmlTypeId(options.typeK) : -1,
      options.typeV ? ggmlTypeId(options.typeV) : -1,
    );
    const errors = drainNativeLog();
    // llama.cpp says why only in its log (an unusable cache type, no memory): pass its words on.
    if (!handle) throw new Error(`llama.cpp could not create a context: ${errors.length ? errors.join("; ") : "out of memory?"}`);
    this.handle = handle as Pointer;
    this.nCtx = llama.llama_n_ctx(handle);
    this.nBatch = llama.llama_n_batch(handle);
    this.nSeqMax = llama.llama_n_seq_max(handle);
    this.nVocab = model.vocab.nTokens;
    this.memory = llama.llama_get_memory(handle) as Pointer;
    this.nativeBatch = shim.hearth_batch_new(this.nBatch) as Pointer;
    // The abort flag array must outlive the context: keep a reference.
    this.abortFlag = options.abortFlag;
  }

  private readonly abortFlag: Int32Array | undefined;

  get ptr(): Pointer {
    if (!this.handle) throw new Error("context used after dispose()");
    return this.handle;
  }

  /** Decodes the batch. Throws DecodeError on failure; validates what would abort llama.cpp. */
  decode(batch: Batch): void {
    const n = batch.size;
    if (n === 0) return;
    if (n > this.nBatch) throw new RangeError(`batch of ${n} exceeds n_batch ${this.nBatch}`);
    for (let i = 0; i < n; i++) {
      const tok = batch.tokens[i]!;
      const seq = batch.seqIds[i]!;
      const pos = batch.pos[i]!;
      if (tok < 0 || tok >= this.nVocab) throw new RangeError(`token ${tok} outside vocabulary`);
      if (seq < 0 || seq >= this.nSeqMax) throw new RangeError(`sequence ${seq} outside 0..${this.nSeqMax - 1}`);
      if (pos < 0 || pos >= this.nCtx) throw new RangeError(`position ${pos} outside context ${this.nCtx}`);
    }
    const rc = native().shim.hearth_decode(
      this.ptr, this.nativeBatch, batch.tokens, batch.pos, batch.seqIds, batch.logits, n,
    );
    if (rc !== 0) {
      drainNativeLog();
      throw new DecodeError(rc);
    }
  }

  /** Zero-copy view of the logits of batch index i; valid only until the next decode. */
  logitsView(i: number): Float32Array {
    const p = native().llama.llama_get_logits_ith(this.ptr, i);
    if (!p) throw new RangeError(`no logits for batch index ${i}`);
    return new Float32Array(toArrayBuffer(p, 0, this.nVocab * 4));
  }

  /** A copy of the pooled embedding of a sequence after a decode (embeddings contexts only), or null. */
  sequenceEmbedding(seq: number, width: number): Float32Array | null {
    const p = native().llama.llama_get_embeddings_seq(this.ptr, seq);
    if (!p) return null;
    return new Float32Array(toArrayBuffer(p, 0, width * 4)).slice();
  }

  private lpIds = new Int32Array(0);
  private lpValues = new Float32Array(0);
  private readonly lpToken = new Float32Array(1);

  /**
   * Log-softmax of the raw logits of batch index i (the model's distribution): `token`'s
   * log-probability and the k most likely tokens, most likely first. Computed in the shim.
   */
  logprobs(i: number, token: number, k: number): { logprob: number; top: Array<[number, number]> } {
    if (this.lpIds.length < k) [this.lpIds, this.lpValues] = [new Int32Array(k), new Float32Array(k)];
    const n = native().shim.hearth_logprobs(this.ptr, i, this.nVocab, token, k, this.lpIds, this.lpValues, this.lpToken);
    if (n < 0) throw new RangeError(`no logits for batch index ${i}`);
    const top: Array<[number, number]> = [];
    for (let j = 0; j < n; j++) top.push([this.lpIds[j]!, this.lpValues[j]!]);
    return { logprob: this.lpToken[0]!, top };
  }

  /** Removes positions [p0, p1) of a sequence (-1 = open end). */
  seqRemove(seq: number, p0: number, p1 = -1): boolean {
    return native().llama.llama_memory_seq_rm(this.memory, seq, p0, p1);
  }

  /** Copies positions [p0, p1) of src into dst; cheap and legal with a unified KV cache. */
  seqCopy(src: number, dst: number, p0: number, p1: number): void {
    native().llama.llama_memory_seq_cp(this.memory, src, dst, p0, p1);
  }

  /**
   * The lowest position the sequence still holds; -1 if none. It rises when a sliding-window
   * cache reuses the cells of positions outside the window (llama.cpp keeps what is left contiguous).
   */
  seqPosMin(seq: number): number {
    return native().llama.llama_memory_seq_pos_min(this.memory, seq);
  }

  /** The highest position the sequence holds; -1 if none. */
  seqPosMax(seq: number): number {
    return native().llama.llama_memory_seq_pos_max(this.memory, seq);
  }

  /** Writes one sequence's state and `tokens` to a file in llama.cpp's own layout; bytes written, 0 on failure. */
  seqSaveFile(seq: number, path: string, tokens: Int32Array): number {
    const n = Number(native().llama.llama_state_seq_save_file(this.ptr, cString(path), seq, tokens, tokens.length));
    drainNativeLog();
    return n;
  }

  /** Loads a file seqSaveFile (or llama-server) wrote into `seq`: bytes read and its tokens, or null (unreadable, or no room). */
  seqLoadFile(seq: number, path: string): { bytes: number; words: Int32Array } | null {
    const { llama } = native();
    const file = cString(path);
    const count = new BigUint64Array(1);
    // A first call with no buffer only reports how many tokens the file holds.
    if (Number(llama.llama_state_seq_load_file(this.ptr, file, seq, null, 0, count)) === 0) return this.loadFailed();
    const words = new Int32Array(Math.max(1, Number(count[0])));
    const bytes = Number(llama.llama_state_seq_load_file(this.ptr, file, seq, words, words.length, count));
    if (bytes === 0) return this.loadFailed();
    drainNativeLog();
    return { bytes, words: words.subarray(0, Number(count[0])) };
  }

  private loadFailed(): null {
    drainNativeLog();
    return null;
  }

  clearMemory(): void {
    // Encoder-only models (BERT) have no KV memory at all.
    if (this.memory) native().llama.llama_memory_clear(this.memory, true);
  }

  /** Serializes one sequence's KV state (for saving/restoring a slot), into `alloc`'s buffer when given. */
  seqStateSave(seq: number, alloc: (size: number) => Uint8Array = size => new Uint8Array(size)): Uint8Array {
    const { llama } = native();
    const size = Number(llama.llama_state_seq_get_size(this.ptr, seq));
    const out = alloc(size);
    const written = Number(llama.llama_state_seq_get_data(this.ptr, out, size, seq));
    return out.subarray(0, written);
  }

  seqStateLoad(seq: number, data: Uint8Array): boolean {
    return Number(native().llama.llama_state_seq_set_data(this.ptr, data, data.length, seq)) > 0;
  }

  dispose(): void {
    if (!this.handle) return;
    const { shim, llama } = native();
    shim.hearth_batch_free(this.nativeBatch);
    llama.llama_free(this.handle);
    this.handle = null;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
