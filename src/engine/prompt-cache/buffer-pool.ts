// Reused buffers for KV states on their way to and from disk. A fresh buffer of a few hundred MB
// costs more in page faults than in copying (measured here: 150 MB copied into fresh memory 270 ms,
// into memory touched before 28 ms), and that copy runs in the token loop. So buffers are kept once
// used, up to a bound, and the next save or restore of a similar size takes one back.

/** Bytes of spare buffers kept at most. */
const KEEP_BYTES = 1 << 30;

export class BufferPool {
  private readonly spare: Uint8Array[] = [];

  constructor(private readonly keepBytes = KEEP_BYTES) {}

  /** A buffer of at least `n` bytes (the smallest spare that fits, else a new one). */
  take(n: number): Uint8Array {
    let best = -1;
    for (let i = 0; i < this.spare.length; i++) {
      const len = this.spare[i]!.length;
      if (len >= n && (best < 0 || len < this.spare[best]!.length)) best = i;
    }
    return best >= 0 ? this.spare.splice(best, 1)[0]! : new Uint8Array(n);
  }

  /** Hands a buffer back; the smallest spares make way for it when the bound is reached. */
  give(buffer: Uint8Array): void {
    if (buffer.length > this.keepBytes) return;
    this.spare.push(buffer);
    this.spare.sort((a, b) => b.length - a.length);
    let kept = 0;
    for (let i = 0; i < this.spare.length; i++) {
      kept += this.spare[i]!.length;
      if (kept > this.keepBytes) {
        this.spare.length = i;
        break;
      }
    }
  }
}
