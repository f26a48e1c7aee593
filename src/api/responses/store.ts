// Stored responses (`store`, the default): each response kept in memory with the conversation it
// ended, so `previous_response_id` can continue it and GET / DELETE can find it. Bounded by
// --responses-store-size bytes; the least recently used response is dropped first. Memory only:
// a restart forgets them all, as a local server's users expect of a cache. Their output items are
// found by id too: clients that store (the AI SDK) send earlier items back as item_reference.
import type { InputItem } from "./schema.ts";

export interface StoredResponse {
  /** The response object as it was returned. */
  response: Record<string, unknown>;
  /** The whole conversation up to and including this response's output, as input items. */
  conversation: InputItem[];
  /** This request's own input items, with ids, as GET …/input_items lists them. */
  input: Array<Record<string, unknown>>;
}

export class ResponseStore {
  private readonly entries = new Map<string, { stored: StoredResponse; bytes: number }>();
  /** Output item id → the response that holds it. */
  private readonly owners = new Map<string, string>();
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
    for (const itemId of outputIds(stored)) this.owners.set(itemId, id);
    return true;
  }

  /** A stored response's output item by its id (for item_reference); undefined when unknown or dropped. */
  item(itemId: string): InputItem | undefined {
    const owner = this.owners.get(itemId);
    const output = owner === undefined ? undefined : this.get(owner)?.response.output;
    return Array.isArray(output) ? (output.find(o => (o as { id?: unknown }).id === itemId) as InputItem | undefined) : undefined;
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
    for (const itemId of outputIds(entry.stored)) if (this.owners.get(itemId) === id) this.owners.delete(itemId);
    return true;
  }

  get size(): number {
    return this.entries.size;
  }

  get bytesUsed(): number {
    return this.used;
  }
}

function outputIds(stored: StoredResponse): string[] {
  const output = stored.response.output;
  if (!Array.isArray(output)) return [];
  return output.map(o => (o as { id?: unknown }).id).filter((id): id is string => typeof id === "string");
}
