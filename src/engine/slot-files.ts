// llama-server's slot files (POST /slots/{id}?action=save|restore|erase with --slot-save-path):
// one slot's sequence written with llama_state_seq_save_file, its tokens in llama-server's
// packed layout (LLAMA_TOKEN_NULL, version 1, the token count and ids, no media), so a file saved
// by either server restores in the other. Restoring also takes the plain token list that older
// llama-server releases wrote. Runs in the runner, on an idle slot, between steps.
import type { LlamaContext } from "../llama/index.ts";
import type { Slot } from "./jobs.ts";

export type SlotAction = { action: "save" | "restore"; slot: number; path: string } | { action: "erase"; slot: number };

/** save: n_tokens saved, n_bytes written; restore: read; erase: n_tokens erased. */
export interface SlotActionResult {
  nTokens: number;
  nBytes: number;
  ms: number;
}

export class SlotActionError extends Error {
  override name = "SlotActionError";
}

const TOKEN_NULL = -1;
const PACKED_VERSION = 1;

/** llama-server's packed token state of a text-only slot: marker, version, count, ids, no media keys. */
export function packTokens(tokens: readonly number[]): Int32Array {
  const words = new Int32Array(tokens.length + 4);
  words[0] = TOKEN_NULL;
  words[1] = PACKED_VERSION;
  words[2] = tokens.length;
  words.set(tokens, 3);
  words[tokens.length + 3] = 0; // media keys: none
  return words;
}

/** The token ids of a packed state, or of a plain token list; throws on anything else. */
export function unpackTokens(words: Int32Array): number[] {
  if (words.length === 0 || words[0] !== TOKEN_NULL) return Array.from(words);
  if (words[1] !== PACKED_VERSION) throw new SlotActionError("Unsupported server tokens state version");
  const n = words[2] ?? -1;
  if (n < 0 || words.length < n + 4) throw new SlotActionError("Invalid tokens in slot save file");
  if (words[n + 3] !== 0) throw new SlotActionError("Cannot restore media tokens: this slot file holds images");
  return Array.from(words.subarray(3, n + 3));
}

/**
 * Runs one action on an idle slot. `drop` empties a slot's sequence (the scheduler's), `fits`
 * says whether tokens may stand in a slot (ids inside the vocabulary, count within the context).
 */
export function runSlotAction(ctx: LlamaContext, slot: Slot, a: SlotAction, drop: (slot: Slot) => void, fits: (tokens: number[]) => boolean): SlotActionResult {
  const t0 = performance.now();
  if (a.action === "erase") {
    const n = slot.cached.length;
    drop(slot);
    return { nTokens: n, nBytes: 0, ms: performance.now() - t0 };
  }
  if (a.action === "save") {
    const written = ctx.seqSaveFile(slot.seq, a.path, packTokens(slot.cached));
    if (written === 0) throw new SlotActionError("Unable to save slot");
    return { nTokens: slot.cached.length, nBytes: written, ms: performance.now() - t0 };
  }
  drop(slot);
  const loaded = ctx.seqLoadFile(slot.seq, a.path);
  if (!loaded) throw new SlotActionError("Unable to restore slot: No available space in KV cache or invalid slot save file");
  let tokens: number[];
  try {
    tokens = unpackTokens(loaded.words);
    if (!fits(tokens)) throw new SlotActionError("Invalid tokens in slot save file");
  } catch (err) {
    drop(slot);
    throw new SlotActionError(`Unable to restore slot: ${(err as Error).message}`);
  }
  // llama.cpp holds the positions the file had: the slot's tokens must say the same.
  if (ctx.seqPosMax(slot.seq) !== tokens.length - 1) {
    drop(slot);
    throw new SlotActionError("Unable to restore slot: the file's tokens do not match its state");
  }
  slot.cached = tokens;
  return { nTokens: tokens.length, nBytes: loaded.bytes, ms: performance.now() - t0 };
}
