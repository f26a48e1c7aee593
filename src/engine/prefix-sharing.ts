// Which KV a new prompt can start from: its own slot's cache, another slot's (copied with
// llama_memory_seq_cp, which in the unified cache only marks cells), or the prefill of a job that
// is computing the same prefix right now. Pure choices over slots; the scheduler does the copying.
import type { ActiveJob, Job, Slot } from "./jobs.ts";

/**
 * A prompt that shares at least this many more tokens with another slot than with its own
 * borrows that slot's KV.
 */
export const MIN_SHARED_PREFIX = 32;

export function commonPrefix(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/** The free slot sharing the longest prefix with the prompt; least recently used on ties. */
export function pickSlot(free: Slot[], job: Job): Slot {
  let best = free[0]!;
  let bestLen = -1;
  for (const slot of free) {
    const len = job.request.cachePrompt ? commonPrefix(slot.cached, job.prompt) : 0;
    if (len > bestLen || (len === bestLen && slot.lastUseTick < best.lastUseTick)) {
      best = slot;
      bestLen = len;
    }
  }
  return best;
}

/** The most of the prompt a running job's prompt shares: KV the new job will not need cells for. */
export function sharedWithRunning(slots: Slot[], prompt: readonly number[]): number {
  return Math.max(0, ...slots.map(s => (s.choice ? commonPrefix(s.choice.job.prompt, prompt) : 0)));
}

/**
 * Another slot holding at least MIN_SHARED_PREFIX more of the prompt than `keep` (what `slot`
 * holds), and how much of it to copy. At least the last prompt token is always decoded again.
 * `holds` says whether a slot still has the KV a continuation from `len` needs (sliding windows).
 */
export function lender(
  slots: Slot[],
  slot: Slot,
  prompt: readonly number[],
  keep: number,
  holds: (from: Slot, len: number) => boolean = () => true,
): { from: Slot; len: number } | null {
  let best: { from: Slot; len: number } | null = null;
  for (const other of slots) {
    if (other === slot) continue;
    const len = Math.min(commonPrefix(other.cached, prompt), prompt.length - 1);
    if (len >= (best?.len ?? keep) + MIN_SHARED_PREFIX && holds(other, len)) best = { from: other, len };
  }
  return best;
}

/** A job prefilling a prefix of this prompt right now, worth waiting for rather than computing it twice. */
export function prefillDonor(slots: Slot[], prompt: readonly number[], keep: number): ActiveJob["donor"] {
  let donor: ActiveJob["donor"] = null;
  for (const other of slots) {
    const d = other.choice;
    if (!d || d.nextToken >= 0 || d.donor) continue;
    const upTo = Math.min(commonPrefix(d.job.prompt, prompt), prompt.length - 1);
    if (upTo >= keep + MIN_SHARED_PREFIX && d.promptPos < upTo && upTo > (donor?.upTo ?? 0)) donor = { choice: d, upTo };
  }
  return donor;
}
