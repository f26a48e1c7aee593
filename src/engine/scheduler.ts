// Continuous batching over one llama context: the token loop.
//
// P slots share one unified KV cache; each slot is one llama sequence id. Every step packs the
// next token of each generating slot plus chunks of pending prompts (bounded by n_batch) into
// one llama_decode, then samples per slot. Jobs beyond the free slots wait in a bounded FIFO.
// A slot keeps its tokens after a job ends, so the next job with the same prefix skips them.
// A request for n > 1 choices prefills its prompt once in its slot, then forks: the prompt's KV
// is copied (seq_cp) into one extra "choice" sequence per further choice, each with its own sampler.
//
// Which KV a new prompt starts from is prefix-sharing.ts; whether a request can run at all,
// check-request.ts; a job's state and events, jobs.ts; what a sampled token does, choice-token.ts.
// Runs inside the runner process (see runner.ts); knows nothing of HTTP or IPC.
// (Past 350 lines on purpose: admission, KV sharing between slots, batching and recovery from a
// failed decode all change the same slots, queue and KV cache within one step, and are checked
// against each other when read in one place; the decisions that need none of that state are the
// files named above.)
import { Batch, DecodeError, LlamaContext, maxSequences, type LlamaModel } from "../llama/index.ts";
import { checkRequest } from "./check-request.ts";
import { decodeImagesAt, emitFreeingImages, imagePromptFor, imagePromptIds } from "./image-prefill.ts";
import { textRunEnd } from "./image-prompt.ts";
import type { Vision } from "./vision.ts";
import { takeToken } from "./choice-token.ts";
import { idleCacheLifetime } from "./idle-cache.ts";
import { activate, doneEvent, emptySlot, reservation, takeTextEvent, type ActiveJob, type Emit, type Group, type Job, type Slot } from "./jobs.ts";
import { commonPrefix, lender, pickSlot, prefillDonor, sharedWithRunning } from "./prefix-sharing.ts";
import { promptTokens } from "./prompt-tokens.ts";
import { kvCacheContextOptions } from "./kv-cache-settings.ts";
import type { KvCacheSettings } from "../llama/kv-cache-types.ts";
import type { PromptCache } from "./prompt-cache/prompt-cache.ts";
import { runSlotAction, SlotActionError, type SlotAction, type SlotActionResult } from "./slot-files.ts";
import type { EngineErrorCode, GenerateEvent, GenerateRequest } from "./types.ts";

export interface SchedulerOptions {
  nCtx: number;
  parallel: number;
  nBatch: number;
  threads: number;
  queueSize: number;
  /** Output limit of a request that sets none: it stops there or at the context's end, whichever comes first (-1 or absent: no limit). */
  nPredict?: number;
  /** Extra sequences for the further choices of n > 1 requests (a request may ask n ≤ this + 1). */
  choiceSeqs?: number;
  abortFlag?: Int32Array;
  /** Tokens processed for others after which an idle slot's cache is dropped (default: from the model, see idle-cache.ts). */
  idleCacheTokens?: number;
  /** -ctk / -ctv / -fa (default f16, f16, auto); settings llama.cpp cannot use throw here. */
  kvCache?: KvCacheSettings;
  /** Where sequences go before their KV is lost, and come back from (prompt-cache/). */
  promptCache?: PromptCache | null;
  /** The model's vision projector and encoded-image cache (vision.ts); absent: images are refused. */
  vision?: Vision | null;
}

/** Default number of choice sequences: n up to 16 per request. */
export const DEFAULT_CHOICE_SEQS = 15;

export class Scheduler {
  readonly ctx: LlamaContext;
  private readonly slots: Slot[];
  /** Sequences that only forked choices use (never picked for a new prompt). */
  private readonly choiceSlots: Slot[];
  private readonly queue: Job[] = [];
  private readonly batch: Batch;
  private readonly eogTokens: number[] = [];
  /** Counts slot uses (a job taking or leaving a slot); Slot.lastUseTick orders slots by it. */
  private useTicks = 0;
  /** Tokens decoded so far, all sequences together: the clock idle caches age by. */
  private processedTokens = 0;
  private readonly idleCacheTokens: number;
  /** Set when the KV cache had no room for a new prompt: admit nothing until a job ends. */
  private holdAdmission = false;
  /**
   * Tokens one request may hold: the KV cache size, capped by the model's training context
   * (as llama-server caps its slots: text past it degrades).
   */
  readonly slotCtx: number;
  /**
   * Partial seq_cp needs a KV cache all through: a recurrent state (also a hybrid model's) is
   * copied whole, whatever range is asked.
   */
  private readonly canShareKv: boolean;
  /** The sliding window of the model's SWA layers, 0 if none (see holdsWindow). */
  private readonly nSwa: number;

  constructor(
    readonly model: LlamaModel,
    private readonly options: SchedulerOptions,
  ) {
    // Forking needs partial seq_cp (not for recurrent state); the context has at most maxSequences().
    const choiceSeqs = model.isRecurrent ? 0 : Math.max(0, Math.min(options.choiceSeqs ?? DEFAULT_CHOICE_SEQS, maxSequences() - options.parallel));
    this.ctx = new LlamaContext(model, {
      nCtx: options.nCtx,
      nBatch: options.nBatch,
      nSeqMax: options.parallel + choiceSeqs,
      threads: options.threads,
      kvUnified: true,
      abortFlag: options.abortFlag,
      ...kvCacheContextOptions(options.kvCache),
    });
    this.batch = new Batch(this.ctx.nBatch);
    this.canShareKv = !model.isRecurrent && !model.isHybrid;
    this.nSwa = model.nSwa;
    this.slotCtx = model.nCtxTrain > 0 ? Math.min(this.ctx.nCtx, model.nCtxTrain) : this.ctx.nCtx;
    this.idleCacheTokens = options.idleCacheTokens ?? idleCacheLifetime(model);
    this.slots = Array.from({ length: options.parallel }, (_, seq) => emptySlot(seq));
    this.choiceSlots = Array.from({ length: choiceSeqs }, (_, i) => emptySlot(options.parallel + i));
    const vocab = model.vocab;
    for (let t = 0; t < vocab.nTokens; t++) if (vocab.isEog(t)) this.eogTokens.push(t);
  }

  get slotsBusy(): number {
    let busy = 0;
    for (const s of this.slots) if (s.choice) busy++;
    return busy;
  }

  /** Most choices one request may ask for. */
  get maxChoices(): number {
    return this.choiceSlots.length + 1;
  }

  /** Every sequence's slot, choice sequences last (built once: read several times a step). */
  private get allSlots(): readonly Slot[] {
    return (this.everySlot ??= this.choiceSlots.length ? [...this.slots, ...this.choiceSlots] : this.slots);
  }
  private everySlot: Slot[] | null = null;

  get queued(): number {
    return this.queue.length;
  }

  /** Tokens the slots hold in the KV cache (a prefix shared by slots counts once per slot). */
  get kvTokens(): number {
    let n = 0;
    for (const s of this.allSlots) n += s.cached.length;
    return n;
  }

  get kvCapacity(): number {
    return this.ctx.nCtx;
  }

  hasWork(): boolean {
    return this.queue.length > 0 || this.slots.some(s => s.choice);
  }

  /** Validates (check-request.ts) and enqueues a job. Errors are emitted, never thrown. */
  submit(id: string, request: GenerateRequest, emit: Emit): void {
    // A prompt with images is laid out by the vision projector (image-prefill.ts).
    const media = imagePromptFor(this.options.vision, request, this.slotCtx);
    if (media && "code" in media) return emit({ kind: "error", ...media });
    if (media) emit = emitFreeingImages(emit, media);
    // An M-RoPE image fills more KV cells than its prompt entries: the context has that much less room.
    const slotCtx = media ? this.slotCtx - (media.cells - media.prompt.length) : this.slotCtx;
    const checked = checkRequest(this.model.vocab, request, { slotCtx, maxChoices: this.maxChoices, nPredict: this.options.nPredict }, media?.prompt);
    if ("code" in checked) return emit({ kind: "error", ...checked });
    if (request.slot !== undefined && request.slot >= this.slots.length) {
      return emit({ kind: "error", code: "invalid_request", message: `id_slot ${request.slot}: the model has ${this.slots.length} slots (0-${this.slots.length - 1})` });
    }
    // Jobs are admitted at the next step: the queue may hold one per free slot beyond its bound.
    const freeSlots = this.slots.filter(s => !s.choice).length;
    if (this.queue.length >= freeSlots + this.options.queueSize) {
      return emit({ kind: "error", code: "queue_full", message: "the server is busy: all slots are in use and the queue is full" });
    }
    emit({ kind: "accepted", promptTokens: media ? media.cells : checked.prompt.length });
    this.queue.push({ id, request, ...checked, emit, ...(media ? { media } : {}) });
  }

  /** Stops a job at the next step boundary (or drops it from the queue). */
  cancel(id: string): void {
    const queued = this.queue.findIndex(j => j.id === id);
    if (queued >= 0) {
      const [job] = this.queue.splice(queued, 1);
      job!.emit({ kind: "error", code: "cancelled", message: "cancelled" });
      return;
    }
    for (const slot of this.allSlots) if (slot.choice?.job.id === id) slot.choice.cancelled = true;
  }

  /** One step: admit, build one batch, decode it, sample. Returns false when there was nothing to do. */
  step(): boolean {
    this.reapCancelled();
    this.dropStaleCaches();
    this.admit();
    // Built with loops, not flatMap/filter: this runs between two decodes, once per token.
    const active: ActiveJob[] = [];
    for (const s of this.allSlots) if (s.choice) active.push(s.choice);
    if (active.length === 0) return false;
    for (const choice of active) if (choice.donor) this.takeFromDonor(choice);

    const batch = this.batch;
    batch.clear();
    // Generating sequences first: one token each keeps every stream moving.
    for (const choice of active) {
      choice.batchIndex = -1;
      if (choice.nextToken >= 0) {
        choice.batchIndex = batch.add(choice.nextToken, choice.slot.cached.length, choice.slot.seq, true);
      }
    }
    // Then prompt chunks within what is left of n_batch, shortest remaining prompt first: a long
    // prompt never stalls a short one that arrived after it, and the mean time to first token is
    // lowest (equal shares would make every concurrent prompt finish last).
    const prefilled = new Map<ActiveJob, number>();
    const prefilling: ActiveJob[] = [];
    for (const choice of active) if (choice.nextToken < 0 && !choice.donor) prefilling.push(choice);
    if (prefilling.length > 1) prefilling.sort((a, b) => a.job.prompt.length - a.promptPos - (b.job.prompt.length - b.promptPos));
    let imagesDecoded = false;
    for (const choice of prefilling) {
      const room = batch.capacity - batch.size;
      if (room <= 0) break;
      // Images are decoded on their own, whole; the choice's text run then stops at the next one.
      if (choice.job.media) {
        imagesDecoded = true;
        if (!this.decodeImages(choice)) continue;
      }
      const runEnd = choice.job.media ? textRunEnd(choice.job.media, choice.promptPos) : choice.job.prompt.length;
      const take = Math.min(room, runEnd - choice.promptPos);
      const start = choice.slot.cached.length;
      for (let k = 0; k < take; k++) {
        const isLast = choice.promptPos + k === choice.job.prompt.length - 1;
        const i = batch.add(choice.job.prompt[choice.promptPos + k]!, start + k, choice.slot.seq, isLast);
        if (isLast) choice.batchIndex = i;
      }
      if (choice.promptStart === 0) choice.promptStart = performance.now();
      prefilled.set(choice, take);
    }
    if (batch.size === 0) return imagesDecoded;

    try {
      this.ctx.decode(batch);
    } catch (err) {
      this.onDecodeFailure(active, prefilled, err as Error);
      return true;
    }
    this.processedTokens += batch.size;

    for (const choice of active) {
      const took = prefilled.get(choice);
      if (took !== undefined) {
        for (let i = choice.promptPos; i < choice.promptPos + took; i++) choice.slot.cached.push(choice.job.prompt[i]!); // (a chunk as large as -b: no push(...))
        choice.promptPos += took;
        if (choice.batchIndex >= 0) choice.promptEnd = performance.now();
      } else if (choice.batchIndex >= 0) {
        choice.slot.cached.push(choice.nextToken);
      }
      if (choice.batchIndex < 0) continue;
      // The prompt is in: further choices start from a copy of its KV and the same logits.
      if (took !== undefined && choice.group.n > 1) this.fork(choice);
      this.sampleNext(choice);
    }
    return true;
  }

  /** llama-server's slot actions on an idle slot (slot-files.ts); throws SlotActionError. */
  slotAction(action: SlotAction): SlotActionResult {
    const slot = this.slots[action.slot];
    if (!slot) throw new SlotActionError("Invalid slot ID");
    if (slot.choice) throw new SlotActionError("the slot is busy: try again when its request has ended");
    const fits = (tokens: number[]) => tokens.length <= this.slotCtx && tokens.every(t => t >= 0 && t < this.model.vocab.nTokens);
    return runSlotAction(this.ctx, slot, action, s => this.dropCache(s), fits);
  }

  /** Fails every job (runner shutting down or the context is unusable). */
  failAll(code: EngineErrorCode, message: string): void {
    for (const job of this.queue.splice(0)) job.emit({ kind: "error", code, message });
    for (const slot of this.allSlots) if (slot.choice) this.release(slot.choice, { kind: "error", code, message });
  }

  dispose(): void {
    this.failAll("model_unavailable", "the model is unloading");
    // Unload and shutdown: every slot's KV is about to go (the writes finish before the runner exits).
    for (const slot of this.slots) this.saveToDisk(slot);
    this.ctx.dispose();
  }

  // ---- internals ---------------------------------------------------------------------------

  /** The prompt's token ids, exactly as submit() takes them (prompt-tokens.ts). */
  tokenizePrompt(request: Pick<GenerateRequest, "prompt" | "addSpecial" | "images">): number[] {
    // With images: one id per image embedding, for counting (image-prefill.ts).
    if (request.images?.length) return imagePromptIds(this.options.vision, request);
    return promptTokens(this.model.vocab, request);
  }

  /**
   * Moves queued jobs into free slots, oldest first, while the KV cache can hold what they will
   * need (prompt + max_tokens, or + UNBOUNDED_RESERVE when max_tokens was not given). Idle slots'
   * caches give way first. The first job always runs, whatever it needs.
   */
  private admit(): void {
    while (this.queue.length > 0 && !this.holdAdmission) {
      const free = this.slots.filter(s => !s.choice);
      if (free.length === 0) return;
      const job = this.queue[0]!;
      if ((job.request.n ?? 1) - 1 > this.freeChoiceSeqs()) return;
      // A sequence on disk that will serve this prompt is read in the background first (prompt-cache/).
      if (job.request.cachePrompt && this.promptCache && !this.promptCache.readyFor(job.prompt, this.bestCached(job.prompt))) return;
      // A job pinned to a slot (id_slot) waits for that slot.
      const slot = job.request.slot === undefined ? pickSlot(free, job) : free.find(s => s.seq === job.request.slot);
      if (!slot) return;
      const reserved = this.slots.reduce((n, s) => n + (s.choice?.reserved ?? 0), 0);
      // A prefix shared with a running job is shared KV (seq_cp), not new cells.
      const shared = this.canShareKv && job.request.cachePrompt ? sharedWithRunning(this.slots, job.prompt) : 0;
      const need = reservation(job) - shared;
      if (reserved > 0 && reserved + need > this.ctx.nCtx) return;
      // Idle caches (other than the chosen slot's) are kept only while they fit beside the reservations.
      const idle = free.filter(s => s !== slot && s.cached.length > 0).sort((a, b) => a.lastUseTick - b.lastUseTick);
      let cells = reserved + need + idle.reduce((n, s) => n + s.cached.length, 0);
      for (const s of idle) {
        if (cells <= this.ctx.nCtx) break;
        cells -= s.cached.length;
        this.evict(s);
      }
      this.queue.shift();
      this.start(job, slot);
      slot.choice!.reserved = need;
    }
  }

  /** Choice sequences neither in use nor promised to a running request that has not forked yet. */
  private freeChoiceSeqs(): number {
    const promised = this.slots.reduce((n, s) => n + (s.choice && s.choice.nextToken < 0 ? s.choice.group.n - 1 : 0), 0);
    return this.choiceSlots.filter(s => !s.choice).length - promised;
  }

  private start(job: Job, slot: Slot): void {
    let keep = job.request.cachePrompt ? commonPrefix(slot.cached, job.prompt) : 0;
    // At least the last prompt token is decoded again: its logits give the first sampled token.
    keep = Math.min(keep, job.prompt.length - 1);
    if (keep > 0 && !this.holdsWindow(slot, keep)) keep = 0;
    if (this.promptCache?.worthSaving(slot.cached.length, keep)) this.saveToDisk(slot);
    if (keep < slot.cached.length) {
      if (!this.ctx.seqRemove(slot.seq, keep, -1)) {
        this.ctx.seqRemove(slot.seq, 0, -1);
        keep = 0;
      }
      slot.cached.length = keep;
    }
    let donor: ActiveJob["donor"] = null;
    if (job.request.cachePrompt && this.canShareKv) {
      // Another slot may already hold more of this prompt than our own slot does.
      const lent = lender(this.slots, slot, job.prompt, keep, (from, len) => this.holdsWindow(from, len));
      // Or a sequence saved on disk holds more than any slot: load it into this slot.
      const restored = this.promptCache?.restoreInto(this.ctx, slot, job.prompt, Math.max(keep, lent?.len ?? 0), len => this.holdsWindow(slot, len)) ?? null;
      if (restored !== null) keep = restored;
      if (lent && !restored) keep = this.borrow(slot, lent.from, lent.len);
      // Or a job is prefilling the same prefix right now: wait for it rather than compute it twice.
      donor = prefillDonor(this.slots, job.prompt, keep);
    }
    slot.lastUseTick = ++this.useTicks;
    slot.choice = this.activate(job, slot, 0, { members: [], n: job.request.n ?? 1, failed: false });
    slot.choice.promptPos = slot.choice.cachedTokens = keep;
    slot.choice.donor = donor;
  }

  private activate(job: Job, slot: Slot, index: number, group: Group): ActiveJob {
    return activate(job, slot, index, group, this.model.vocab, this.eogTokens);
  }

  /**
   * Starts choices 1..n-1 of a job whose prompt was just decoded: each choice sequence gets the
   * prompt's KV (seq_cp only marks cells in the unified cache) and samples from the same logits.
   */
  private fork(parent: ActiveJob): void {
    const free = this.choiceSlots.filter(s => !s.choice);
    for (let index = 1; index < parent.group.n; index++) {
      const slot = free[index - 1]!; // admission promised these
      this.ctx.seqRemove(slot.seq, 0, -1);
      this.ctx.seqCopy(parent.slot.seq, slot.seq, 0, parent.slot.cached.length);
      slot.cached = parent.slot.cached.slice();
      slot.lastUseTick = ++this.useTicks;
      const child = this.activate(parent.job, slot, index, parent.group);
      // The prompt counts once, on choice 0: a choice's own work starts here.
      child.promptPos = parent.job.prompt.length;
      child.promptStart = child.promptEnd = performance.now();
      child.batchIndex = parent.batchIndex;
      slot.choice = child;
      this.sampleNext(child);
    }
  }

  /** Makes `slot` hold the first `len` tokens of `from` (dropping what it had); returns len. */
  private borrow(slot: Slot, from: Slot, len: number): number {
    this.ctx.seqRemove(slot.seq, 0, -1);
    this.ctx.seqCopy(from.seq, slot.seq, 0, len);
    slot.cached = from.cached.slice(0, len);
    // A cache that served another prompt has paid for itself: its idle time starts again.
    if (!from.choice) from.idleSince = this.processedTokens;
    return len;
  }

  /** Once the donor has prefilled the shared prefix (or stopped), copy what it has and go on alone. */
  private takeFromDonor(choice: ActiveJob): void {
    const { choice: donor, upTo } = choice.donor!;
    const prefilling = donor.slot.choice === donor && donor.nextToken < 0;
    const have = Math.min(commonPrefix(donor.slot.cached, choice.job.prompt), upTo);
    if (have < upTo && prefilling) return;
    if (have > choice.slot.cached.length && this.holdsWindow(donor.slot, have)) {
      choice.promptPos = choice.cachedTokens = this.borrow(choice.slot, donor.slot, have);
    }
    choice.donor = null;
  }

  /** Samples the choice's next token and takes it into its output (choice-token.ts). */
  private sampleNext(choice: ActiveJob): void {
    const token = choice.sampler.sample(this.ctx.ptr, choice.batchIndex);
    const end = takeToken(choice, token, this.ctx, this.model.vocab, this.slotCtx);
    if (end === null) {
      const event = takeTextEvent(choice);
      if (event) choice.job.emit(event);
    } else if ("finish" in end) {
      this.release(choice, doneEvent(choice, end.finish, end.stopText));
    } else {
      this.release(choice, { kind: "error", code: end.code, message: end.error });
    }
  }

  /** Decodes the images where the choice's prefill stands (image-prefill.ts); false when it failed. */
  private decodeImages(choice: ActiveJob): boolean {
    const failed = decodeImagesAt(this.options.vision!, this.ctx, choice);
    if (failed) this.release(choice, { kind: "error", code: "engine_failure", message: failed });
    return !failed;
  }

  private release(choice: ActiveJob, last: GenerateEvent): void {
    this.holdAdmission = false; // a finished job frees KV space: admit again
    choice.sampler.dispose();
    choice.slot.choice = null;
    choice.slot.lastUseTick = ++this.useTicks;
    choice.slot.idleSince = this.processedTokens;
    // A choice sequence keeps no cache: its prompt lives on in the slot that prefilled it.
    if (choice.index > 0) this.dropCache(choice.slot);
    const group = choice.group;
    if (last.kind === "error") {
      if (group.failed) return;
      // One failed choice fails the request: the others stop at the next step, silently.
      group.failed = true;
      for (const other of group.members) other.cancelled = true;
    }
    choice.job.emit(last);
  }

  /** Idle caches that have cost as much attention as recomputing them would (idle-cache.ts). */
  private dropStaleCaches(): void {
    for (const slot of this.slots) {
      if (!slot.choice && slot.cached.length > 0 && this.processedTokens - slot.idleSince >= this.idleCacheTokens) this.evict(slot);
    }
  }

  private reapCancelled(): void {
    for (const slot of this.allSlots) {
      if (slot.choice?.cancelled) this.release(slot.choice, { kind: "error", code: "cancelled", message: "cancelled" });
    }
  }

  /**
   * A decode failed. With no KV room (code 1) nothing needs to fail yet: first drop the caches of
   * idle slots, then put back the newest prompt still prefilling (and admit nothing until a job
   * ends), and only when every job is generating fail the one holding the most tokens. Any other
   * failure leaves the batch's sequences in an unknown state: drop their cache and fail them.
   */
  private onDecodeFailure(active: ActiveJob[], prefilled: Map<ActiveJob, number>, err: Error): void {
    // llama.cpp may keep the ubatches that fit: cut every sequence back to what we know it holds.
    for (const choice of active) this.ctx.seqRemove(choice.slot.seq, choice.slot.cached.length, -1);
    if (!(err instanceof DecodeError && err.code === 1)) {
      for (const choice of active) this.dropCache(choice.slot);
      for (const choice of active) this.release(choice, { kind: "error", code: "engine_failure", message: `decode failed: ${err.message}` });
      return;
    }
    const idle = this.slots.filter(s => !s.choice && s.cached.length > 0);
    if (idle.length > 0) {
      for (const slot of idle) this.evict(slot);
      return;
    }
    const newest = [...prefilled.keys()].sort((a, b) => b.slot.lastUseTick - a.slot.lastUseTick)[0];
    // (Alone in the cache it cannot be short of room through others: fail it below instead.)
    if (newest && active.length > 1) {
      this.dropCache(newest.slot);
      newest.sampler.dispose();
      newest.slot.choice = null;
      newest.group.members.length = 0;
      this.queue.unshift(newest.job);
      this.holdAdmission = true;
      return;
    }
    const hog = active.reduce((a, b) => (b.slot.cached.length > a.slot.cached.length ? b : a));
    this.dropCache(hog.slot);
    this.release(hog, {
      kind: "error",
      code: "engine_failure",
      message: "the KV cache is full with this many long requests at once; retry, or raise --ctx-size",
    });
  }

  /**
   * Whether the slot's sequence still holds what a continuation from position `len` attends to.
   * A sliding-window cache gives the cells of positions that fell out of every window of their
   * sequence to other sequences (llama.cpp then drops the sequence's positions below them too), so
   * a prefix shorter than what the slot held may lack the window before its end. Decoding at `len`
   * attends to positions above len - nSwa; other window kinds (chunked, symmetric) need no more.
   */
  private holdsWindow(slot: Slot, len: number): boolean {
    if (this.nSwa === 0) return true;
    const min = this.ctx.seqPosMin(slot.seq);
    return min >= 0 && min <= Math.max(0, len - this.nSwa + 1);
  }

  /** Empties the slot's sequence; returns 0 (the tokens it keeps). */
  private dropCache(slot: Slot): 0 {
    this.ctx.seqRemove(slot.seq, 0, -1);
    slot.cached = [];
    return 0;
  }

  /** The most of the prompt any slot holds (what a restore from disk must beat). */
  private bestCached(prompt: readonly number[]): number {
    return this.slots.reduce((best, s) => Math.max(best, Math.min(commonPrefix(s.cached, prompt), prompt.length - 1)), 0);
  }

  /** An idle cache gives way: saved to disk first (prompt-cache/), then dropped. */
  private evict(slot: Slot): void {
    this.saveToDisk(slot);
    this.dropCache(slot);
  }

  private saveToDisk(slot: Slot): void {
    // A recurrent state cannot be cut back to a prefix after a restore: such models keep no files.
    if (this.canShareKv && slot.cached.length > 0) this.promptCache?.saveSlot(this.ctx, slot);
  }

  private get promptCache(): PromptCache | null {
    return this.canShareKv ? (this.options.promptCache ?? null) : null;
  }
}
