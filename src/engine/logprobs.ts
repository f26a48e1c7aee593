// Log-probabilities of a sampled token from one row of logits: the model's own distribution
// (log-softmax of the raw logits), as llama-server reports by default (post_sampling_probs off)
// and as OpenAI documents. Only computed for requests that ask; two passes over the vocabulary.

/** log-softmax of `logits` at `token`, plus the `k` most likely tokens (most likely first). */
export function logprobsAt(logits: Float32Array, token: number, k: number): { logprob: number; top: Array<[number, number]> } {
  const n = logits.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (logits[i]! > max) max = logits[i]!;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(logits[i]! - max);
  const logZ = max + Math.log(sum);
  // Top k by insertion into a small sorted list; ties keep the lower id first (as a stable sort does).
  const ids: number[] = [];
  const vals: number[] = [];
  if (k > 0) {
    for (let i = 0; i < n; i++) {
      const v = logits[i]!;
      if (ids.length === k && v <= vals[k - 1]!) continue;
      let j = ids.length === k ? k - 1 : ids.length;
      while (j > 0 && vals[j - 1]! < v) {
        vals[j] = vals[j - 1]!;
        ids[j] = ids[j - 1]!;
        j--;
      }
      vals[j] = v;
      ids[j] = i;
      if (ids.length > k) {
        ids.length = k;
        vals.length = k;
      }
    }
  }
  return { logprob: logits[token]! - logZ, top: ids.map((id, i) => [id, vals[i]! - logZ]) };
}

/**
 * A choice's log-probabilities, released in step with its text: an entry goes out once the text
 * it starts has been sent (TextStream holds back partial characters and possible stop strings),
 * and the tokens of a matched stop string — whose text is never sent — are dropped with it.
 */
export class LogprobTrail<T> {
  private readonly pending: Array<{ start: number; empty: boolean; item: T }> = [];
  /** Bytes of all token pieces so far, and of the text released so far. */
  private tokenBytes = 0;
  private textBytes = 0;

  add(item: T, pieceBytes: number): void {
    this.pending.push({ start: this.tokenBytes, empty: pieceBytes === 0, item });
    this.tokenBytes += pieceBytes;
  }

  /** Entries whose text has now been released (`text`: what was just released). */
  take(text: string): T[] {
    this.textBytes += Buffer.byteLength(text);
    let n = 0;
    while (n < this.pending.length) {
      const p = this.pending[n]!;
      if (p.start < this.textBytes || (p.empty && p.start <= this.textBytes)) n++;
      else break;
    }
    return this.pending.splice(0, n).map(p => p.item);
  }

  /** At the end: everything left, or (after a stop string) only what the sent text covers. */
  finish(text: string, stoppedByString: boolean): T[] {
    const out = this.take(text);
    if (!stoppedByString) out.push(...this.pending.map(p => p.item));
    this.pending.length = 0;
    return out;
  }
}
