// A prompt with images, as the scheduler decodes it.
//
// An image takes as many prompt entries as the positions it occupies (n_pos: its token count, or
// fewer with M-RoPE), every entry the same negative id derived from the hash of its pixels. So
// `prompt.length` stays the next position, and prefix reuse needs no special case: the same image
// in a later turn compares equal entry by entry, so its KV cells (and everything after it up to the
// first difference) are reused; a different image differs at its first entry. The scheduler never
// decodes an image entry as a token: it decodes the whole image from its embeddings when prefill
// reaches `start`, and a prompt's text runs stop at the next image.
import type { ImageChunks } from "../llama/mtmd.ts";

export interface PromptImage {
  /** Index of the image's first entry in the prompt. */
  start: number;
  /** Entries (positions) it takes, and the embeddings (KV cells) it decodes. */
  nPos: number;
  nTokens: number;
  /** Hash of its pixels (and size): the encoded-image cache's key. */
  key: string;
  /** What the request calls it (e.g. `messages[0].content[1]`), for errors. */
  name: string;
  chunks: ImageChunks;
}

export interface ImagePrompt {
  prompt: number[];
  /** In prompt order. */
  images: PromptImage[];
  /** KV cells the prompt fills (more than its length with M-RoPE). */
  cells: number;
  /** Frees the images' native chunks (the job is over). */
  dispose(): void;
}

/** The id every entry of an image with this pixel hash gets: negative, so never a vocabulary token. */
export function imageEntryId(hash: bigint): number {
  return -1 - Number(hash & 0x7ffffffen);
}

/** The image whose first entry is at `pos`, if one is. */
export function imageAt(media: ImagePrompt, pos: number): PromptImage | undefined {
  return media.images.find(im => im.start === pos);
}

/** Where the text run from `pos` ends: the next image's start, or the prompt's end. */
export function textRunEnd(media: ImagePrompt, pos: number): number {
  for (const im of media.images) if (im.start >= pos) return im.start;
  return media.prompt.length;
}

/**
 * KV cells the first `pos` prompt entries fill: `pos`, plus what each M-RoPE image before `pos`
 * takes beyond its positions. Usage counts cells, as llama-server counts an image's embeddings.
 */
export function cellsUpTo(media: ImagePrompt | undefined, pos: number): number {
  let cells = pos;
  for (const im of media?.images ?? []) if (im.start + im.nPos <= pos) cells += im.nTokens - im.nPos;
  return cells;
}
