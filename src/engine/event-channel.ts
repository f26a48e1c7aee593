// The events of one request (all of its n choices) as an async iterator, fed by the supervisor's
// IPC handler as the runner's per-step batches arrive.
//
// Written by hand rather than as an async generator: a consumer waiting on next() gets each event
// straight from push(), with one promise settled per event and no generator to resume in between.
// Per token this is part of the HTTP process's wake-up, which on a CPU takes its time from the
// decode (bench/token-cost.ts measures it).
import type { GenerateEvent } from "./types.ts";

const DONE: IteratorResult<GenerateEvent> = { value: undefined, done: true };

export interface ChannelHooks {
  /** Runs before the first event is read (starts the request); its rejection is the first next()'s. */
  open?: () => Promise<void>;
  /** The consumer stopped (return(), or the stream ended): `finished` is false when the request's last event never reached it. */
  stop?: (finished: boolean) => void;
}

/** A stream of events for one request (all of its n choices), fed by the IPC handler. */
export class EventChannel implements AsyncIterableIterator<GenerateEvent> {
  private items: GenerateEvent[] = [];
  private head = 0;
  /** Readers waiting for an event, oldest first (one, but for a consumer that calls next() again before the last settled). */
  private waiting: Array<(result: IteratorResult<GenerateEvent>) => void> = [];
  private opening: (() => Promise<void>) | null;
  /** The runner has sent the request's last event (an error, or every choice's "done"). */
  closed = false;
  /** The consumer has received an event the request ends with (no cancel is owed). */
  private finished = false;
  private stopped = false;
  private pendingChoices: number;

  constructor(
    choices: number,
    private readonly hooks: ChannelHooks = {},
  ) {
    this.pendingChoices = choices;
    this.opening = hooks.open ?? null;
  }

  /** The request ends with an error or when every choice is done. */
  private ends(event: GenerateEvent): boolean {
    return event.kind === "error" || (event.kind === "done" && --this.pendingChoices === 0);
  }

  push(event: GenerateEvent): void {
    if (this.closed) return;
    if (this.ends(event)) this.closed = true;
    if (this.stopped) return;
    const waiting = this.waiting.shift();
    if (waiting) {
      waiting(this.deliver(event));
    } else {
      this.items.push(event);
    }
  }

  private deliver(event: GenerateEvent): IteratorResult<GenerateEvent> {
    if (this.closed && event.kind !== "text") this.finished = true;
    return { value: event, done: false };
  }

  next(): Promise<IteratorResult<GenerateEvent>> {
    const open = this.opening;
    if (open) {
      this.opening = null;
      return open().then(
        () => this.next(),
        err => {
          this.stop();
          throw err;
        },
      );
    }
    if (this.head < this.items.length) {
      const event = this.items[this.head++]!;
      if (this.head === this.items.length) {
        this.items.length = 0;
        this.head = 0;
      }
      return Promise.resolve(this.deliver(event));
    }
    if (this.closed || this.stopped) {
      this.stop();
      return Promise.resolve(DONE);
    }
    return new Promise(resolve => this.waiting.push(resolve));
  }

  /** The consumer stops early (client gone) or is done: the hooks learn whether a cancel is owed. */
  return(): Promise<IteratorResult<GenerateEvent>> {
    this.opening = null;
    this.stop();
    return Promise.resolve(DONE);
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.items.length = 0;
    this.head = 0;
    for (const waiting of this.waiting.splice(0)) waiting(DONE);
    this.hooks.stop?.(this.finished);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
