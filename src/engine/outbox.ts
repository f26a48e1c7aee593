// The runner's events on their way to the HTTP process, and when they go.
//
// Every IPC message wakes the HTTP process, and on a CPU that wake (plus the socket write it leads
// to) is most of what a token costs outside llama_decode (docs/token-loop.md). So the text of a
// request that is already streaming may wait: it goes out with the next message once
// `intervalMs` have passed since the last one, several steps' tokens in one message. A choice's
// text held across steps becomes one event (its text and tokens joined), so the HTTP process also
// writes one chunk for them instead of one per token: the coalescing every streaming client
// already handles (a stop string or a split character holds text back the same way). Text with
// log-probabilities stays one event per step (clients that ask for them count them per chunk).
// Nothing else waits: a request's first visible text (time to first token), its end, errors and
// every other event go out at once, taking whatever was held with them, in order.
import type { GenerateEvent } from "./types.ts";

export type Addressed = [id: string, event: GenerateEvent];
type TextEvent = Extract<GenerateEvent, { kind: "text" }>;

export class Outbox {
  private events: Addressed[] = [];
  /** Requests that have sent visible text and not ended: their further text may be held. */
  private readonly streaming = new Set<string>();
  private lastSentAt = -Infinity;
  /** The text event of each choice ("id index") that later text of the same choice joins, until sent. */
  private readonly joinable = new Map<string, TextEvent>();

  /** `intervalMs`: the longest a streaming request's text is held (0: every step sends). */
  constructor(private readonly intervalMs: number) {}

  add(id: string, event: GenerateEvent): void {
    if (event.kind === "text" && !event.logprobs) {
      const key = `${id} ${event.index ?? 0}`;
      const held = this.joinable.get(key);
      if (held) {
        held.text += event.text;
        for (const token of event.tokens) held.tokens.push(token);
        return;
      }
      this.joinable.set(key, event);
    } else if (event.kind !== "text") {
      this.joinable.clear(); // nothing joins across another kind of event
    }
    this.events.push([id, event]);
  }

  /**
   * The events to send now, in the order they were added, or null when there are none or all of
   * them may still wait. `force`: send whatever there is (the loop is going idle or stopping).
   */
  take(now: number, force = false): Addressed[] | null {
    const events = this.events;
    if (events.length === 0) return null;
    if (!force && now - this.lastSentAt < this.intervalMs && this.allMayWait()) return null;
    for (const [id, event] of events) {
      if (event.kind === "text") {
        if (event.text) this.streaming.add(id);
      } else if (event.kind !== "accepted") {
        this.streaming.delete(id); // a choice ended or the request failed
      }
    }
    this.events = [];
    this.joinable.clear();
    this.lastSentAt = now;
    return events;
  }

  private allMayWait(): boolean {
    for (const [id, event] of this.events) if (event.kind !== "text" || !this.streaming.has(id)) return false;
    return true;
  }
}
