// Stored responses (`store`, the default): each response kept in memory with the conversation it
// ended, so `previous_response_id` can continue it and GET / DELETE can find it. Bounded by
// --responses-store-size bytes; the least recently used response is dropped first. Memory only:
// a restart forgets them all, as a local server's users expect of a cache.
import type { InputItem } from "./schema.ts";

export interface StoredResponse {
  /** The response object as it was returned. */
  response: Record<string, unknown>;
  /** The whole conversation up to and including this response's output, as input items. */
  conversation: InputItem[];
}

export class ResponseStore {
  private readonly entries = new Map<string, { stored: StoredResponse; bytes: number }>();
  private used = 0;

  constructor(readonly capacityBytes: number) {}

  /** Keeps `stored` under `id`, dropping the least recently used to make room. False when it alone is over the limit. */
  put(id: string, stored: StoredResponse): boolean {
    const bytes = Buffer.byteLength(JSON.stringify(stored));
    this.delete(id);
    if (bytes > this.capacityBytes) return false;
    while (this.used + bytes > this.capacityBytes) {
      const oldest = this.entries.keys().next().value as string;
      this.delete(oldest);
    }
    this.entries.set(id, { stored, bytes });
    this.used += bytes;
    return true;
  }

  /** The stored response, now the most recently used; undefined when unknown or dropped. */
  get(id: string): StoredResponse | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    this.entries.delete(id);
    this.entries.set(id, entry);
    return entry.stored;
  }

  delete(id: string): boolean {
    const entry = this.entries.get(id);
    if (!entry) return false;
    this.entries.delete(id);
    this.used -= entry.bytes;
    return true;
  }

  get size(): number {
    return this.entries.size;
  }

  get bytesUsed(): number {
    return this.used;
  }
}
