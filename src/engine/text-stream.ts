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
  // The byte order mark is dropped here, not by the decoder (see withoutLeadingBom): a piece may
  // also arrive as text, which the decoder never sees.
  private readonly decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
  private held = "";
  private done = false;
  private readonly longestStop: number;
  /** The stop string that ended the stream, if one did. */
  matched: string | null = null;
  /** The decoder may hold the start of a character: the next piece must come as bytes. */
  private midCharacter = false;
  /** Some text has come out (a leading BOM is dropped only before that). */
  private begun = false;

  constructor(private readonly stops: readonly string[] = []) {
    this.stops = stops.filter(s => s.length > 0);
    this.longestStop = Math.max(0, ...this.stops.map(s => s.length));
  }

  /** pushText may be used: nothing of a character is pending. */
  get takesText(): boolean {
    return !this.midCharacter;
  }

  push(bytes: Uint8Array): PushResult {
    if (this.done) return { text: "", stopped: true };
    if (bytes.length > 0) this.midCharacter = endsMidCharacter(bytes);
    return this.accept(this.withoutLeadingBom(this.decoder.decode(bytes, { stream: true })));
  }

  /**
   * A piece that is whole characters by itself, as text (Vocab.pieceText: no decoding per
   * token); only while `takesText`. Gives what push() gives for the same piece's bytes.
   */
  pushText(text: string): PushResult {
    if (this.done) return { text: "", stopped: true };
    if (this.midCharacter) throw new Error("pushText while a character is pending");
    return this.accept(this.withoutLeadingBom(text));
  }

  /** A U+FEFF that starts the stream's text is dropped, as a TextDecoder drops a leading BOM. */
  private withoutLeadingBom(text: string): string {
    if (this.begun || text.length === 0) return text;
    this.begun = true;
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  }

  private accept(decoded: string): PushResult {
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

/**
 * Whether a streaming decoder may hold an unfinished character after these bytes: their last
 * lead byte starts a sequence longer than what follows it. True as well when no lead byte is
 * among the last four (the character began in an earlier piece): the caller then keeps decoding.
 */
function endsMidCharacter(bytes: Uint8Array): boolean {
  for (let i = bytes.length - 1; i >= 0 && i >= bytes.length - 4; i--) {
    const b = bytes[i]!;
    if ((b & 0xc0) === 0x80) continue; // a continuation byte
    const needs = b >= 0xf0 && b <= 0xf4 ? 4 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xc2 && b <= 0xdf ? 2 : 1;
    return bytes.length - i < needs;
  }
  return true;
}
