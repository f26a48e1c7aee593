// Log-probabilities travel with the text they spell. The values themselves come from the shim
// (LlamaContext.logprobs: log-softmax of the raw logits, as llama-server reports by default).

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
