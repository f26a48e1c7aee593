// A reasoning model's thinking, followed token by token: where it opens and closes (the template's
// markers, found in the output's text), how many tokens it has taken, and — once its budget is spent —
// the tokens that close it, forced into the sequence instead of sampled. The states follow
// llama.cpp's reasoning-budget sampler (common/reasoning-budget.cpp) so that greedy answers match
// llama-server's: a budget that runs out inside a UTF-8 character waits for the character to end,
// and a new start marker after the thinking closed opens a fresh budget.
import type { Sampler, Vocab } from "../llama/index.ts";
import type { ThinkingControl } from "./types.ts";

type State = "idle" | "counting" | "waitingUtf8" | "forcing" | "done";

/** Whether the bytes end with a whole UTF-8 character (a piece alone, as llama.cpp checks it). */
export function utf8Complete(bytes: Uint8Array): boolean {
  if (bytes.length === 0) return true;
  for (let i = 1; i <= Math.min(4, bytes.length); i++) {
    const c = bytes[bytes.length - i]!;
    if ((c & 0xc0) !== 0x80) return i >= (c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1);
  }
  return false;
}

/** Bytes as a string of char codes 0-255, so that markers match byte for byte across token seams. */
const latin1 = (bytes: Uint8Array) => String.fromCharCode(...bytes);
const utf8 = new TextEncoder();

/**
 * Finds a marker in the output's text as tokens arrive (their pieces, control tokens as their text),
 * so a marker the model spells in several tokens counts as well as its single token.
 */
class MarkerMatcher {
  private tail = "";
  private readonly marker: string;

  constructor(text: string) {
    this.marker = latin1(utf8.encode(text));
  }

  /** True when `piece` completes the marker (what came before it is then forgotten). */
  push(piece: string): boolean {
    if (!this.marker) return false;
    const text = this.tail + piece;
    if (text.includes(this.marker)) {
      this.tail = "";
      return true;
    }
    this.tail = text.slice(-(this.marker.length - 1));
    return false;
  }

  reset(): void {
    this.tail = "";
  }
}

/** One choice's thinking: its state, its count, and the token to force next (if any). */
export class ThinkingBudget {
  private state: State;
  private remaining: number;
  private forcePos = 0;
  private readonly budget: number;
  private readonly start: MarkerMatcher;
  private readonly end: MarkerMatcher;
  private readonly forced: number[];
  /** Tokens taken while the thinking was open, its markers left out (the first thinking only: what the answer parser reads as reasoning). */
  tokens = 0;
  private closedOnce = false;

  constructor(
    private readonly vocab: Vocab,
    control: ThinkingControl,
  ) {
    const ids = (text: string) => Array.from(vocab.tokenize(text, false, true));
    this.start = new MarkerMatcher(control.start);
    this.end = new MarkerMatcher(control.end);
    this.forced = ids(control.end + control.after);
    this.budget = control.budget < 0 ? Number.MAX_SAFE_INTEGER : control.budget;
    this.remaining = this.budget;
    this.state = control.prompt === "open" ? this.opened() : control.prompt === "closed" ? "done" : "idle";
    this.closedOnce = control.prompt === "closed";
    // llama-server feeds the generation prompt to its budget: tokens after the prompt's `<think>` spend it.
    if (this.state === "counting" && control.promptThinking) {
      this.remaining -= vocab.tokenize(control.promptThinking, false, true).length;
      if (this.remaining <= 0) this.startForcing();
    }
  }

  /** The token the thinking's end forces next, or null when the model samples. */
  forcedToken(): number | null {
    return this.state === "forcing" ? this.forced[this.forcePos]! : null;
  }

  /** The forced token was refused (a grammar that does not allow it): stop forcing, let the model go on. */
  abandon(): void {
    this.state = "counting";
    this.remaining = Number.MAX_SAFE_INTEGER;
  }

  /** Follows one token of the output (sampled or forced). */
  accept(token: number): void {
    const piece = latin1(this.vocab.pieceBytes(token, true));
    switch (this.state) {
      case "idle":
      case "done":
        if (this.start.push(piece)) {
          this.end.reset();
          this.state = this.opened();
        }
        return;
      case "counting":
      case "waitingUtf8": {
        if (this.end.push(piece)) {
          this.state = "done";
          this.closedOnce = true;
          return;
        }
        if (!this.closedOnce) this.tokens++;
        if (this.state === "counting" && --this.remaining > 0) return;
        // Spent (or waiting): close the thinking once the token ends a character.
        if (utf8Complete(this.vocab.pieceBytes(token, false))) this.startForcing();
        else this.state = "waitingUtf8";
        return;
      }
      case "forcing":
        if (++this.forcePos >= this.forced.length) {
          this.state = "done";
          this.closedOnce = true;
        }
        return;
    }
  }

  private opened(): State {
    this.remaining = this.budget;
    this.start.reset();
    if (this.remaining > 0) return "counting";
    this.forcePos = 0;
    return this.forced.length > 0 ? "forcing" : "done";
  }

  private startForcing(): void {
    this.end.reset();
    this.forcePos = 0;
    this.state = this.forced.length > 0 ? "forcing" : "done";
  }
}

/** What the scheduler needs of a choice's sampler (job-sampler.ts). */
export type ChoiceSampler = Pick<Sampler, "sample" | "sampledProbs" | "dispose"> & { readonly thinkingTokens?: number };

/**
 * A choice's sampler with its thinking followed: while the budget closes the thinking, the
 * closing tokens are taken instead of sampled (the grammar and the chain still see them).
 */
export class ThinkingSampler implements ChoiceSampler {
  private lastForced = -1;

  constructor(
    private readonly inner: Sampler,
    private readonly thinking: ThinkingBudget,
  ) {}

  get thinkingTokens(): number {
    return this.thinking.tokens;
  }

  sample(ctx: Parameters<Sampler["sample"]>[0], i: number): number {
    const forced = this.thinking.forcedToken();
    if (forced !== null) {
      if (this.inner.accept(forced)) {
        this.lastForced = forced;
        this.thinking.accept(forced);
        return forced;
      }
      this.thinking.abandon();
    }
    this.lastForced = -1;
    const token = this.inner.sample(ctx, i);
    if (token >= 0) this.thinking.accept(token);
    return token;
  }

  /** A forced token was certain: the distribution it was "drawn" from is that token alone. */
  sampledProbs(token: number, k: number): { prob: number; top: Array<[number, number]> } {
    if (this.lastForced === token) return { prob: 1, top: k > 0 ? [[token, 1]] : [] };
    return this.inner.sampledProbs(token, k);
  }

  dispose(): void {
    this.inner.dispose();
  }
}
