// Incremental detokenizing with stop strings: one pure unit, no native code.
//
// Token pieces arrive as bytes. Two things are held back until they are safe to send:
//   - an incomplete UTF-8 character at the end (a character split across tokens), and
//   - any tail of the text that could still become one of the stop strings.
// A stop string itself is never emitted.
export interface PushResult {
  /** Text that is now safe to send (may be ""). */
  text: string;
  /** True when a stop string matched; the stream is finished and `text` ends just before it. */
  stopped: boolean;
}

export class TextStream {
  private readonly decoder = new TextDecoder("utf-8", { fatal: false });
  private held = "";
  private done = false;
  private readonly longestStop: number;
  /** The stop string that ended the stream, if one did. */
  matched: string | null = null;

  constructor(private readonly stops: readonly string[] = []) {
    this.stops = stops.filter(s => s.length > 0);
    this.longestStop = Math.max(0, ...this.stops.map(s => s.length));
  }

  push(bytes: Uint8Array): PushResult {
    if (this.done) return { text: "", stopped: true };
    const decoded = this.decoder.decode(bytes, { stream: true });
    if (this.stops.length === 0) {
      // Nothing to hold back but an incomplete character, which the decoder keeps itself.
      const text = this.held ? this.held + decoded : decoded;
      this.held = "";
      return { text, stopped: false };
    }
    this.held += decoded;

    // Earliest stop string in the held text wins (held text never contains an earlier one).
    let cut = -1;
    for (const stop of this.stops) {
      const at = this.held.indexOf(stop);
      if (at >= 0 && (cut < 0 || at < cut)) [cut, this.matched] = [at, stop];
    }
    if (cut >= 0) {
      const text = this.held.slice(0, cut);
      this.held = "";
      this.done = true;
      return { text, stopped: true };
    }
    return this.release(this.held.length - this.partialStopTail());
  }

  /** Ends the stream (end-of-generation or length): everything held is sent. */
  flush(): string {
    if (this.done) return "";
    this.done = true;
    const text = this.held + this.decoder.decode();
    this.held = "";
    return text;
  }

  /** Length of the longest suffix of the held text that is a proper prefix of some stop string. */
  private partialStopTail(): number {
    const max = Math.min(this.held.length, this.longestStop - 1);
    for (let n = max; n > 0; n--) {
      const tail = this.held.slice(this.held.length - n);
      if (this.stops.some(s => s.startsWith(tail))) return n;
    }
    return 0;
  }

  private release(upTo: number): PushResult {
    const text = this.held.slice(0, upTo);
    this.held = this.held.slice(upTo);
    return { text, stopped: false };
  }
}
