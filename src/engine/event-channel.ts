// The events of one request (all of its n choices) as an async stream, fed by the supervisor's
// IPC handler as the runner's per-step batches arrive.
import type { GenerateEvent } from "./types.ts";

/** A stream of events for one request (all of its n choices), fed by the IPC handler. */
export class EventChannel {
  private items: GenerateEvent[] = [];
  private waiting: (() => void) | null = null;
  closed = false;
  private pendingChoices: number;

  constructor(choices: number) {
    this.pendingChoices = choices;
  }

  /** The request ends with an error or when every choice is done. */
  private ends(event: GenerateEvent): boolean {
    return event.kind === "error" || (event.kind === "done" && --this.pendingChoices === 0);
  }

  push(event: GenerateEvent): void {
    this.items.push(event);
    if (this.ends(event)) this.closed = true;
    this.waiting?.();
  }

  async *drain(): AsyncGenerator<GenerateEvent> {
    for (;;) {
      while (this.items.length > 0) {
        const event = this.items.shift()!;
        yield event;
        if (this.closed && this.items.length === 0) return;
      }
      await new Promise<void>(resolve => (this.waiting = resolve));
      this.waiting = null;
    }
  }
}
