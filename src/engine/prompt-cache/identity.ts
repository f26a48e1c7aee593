// What makes a stored KV state valid, folded into one 64-bit namespace key: the model file's
// content, the vision projector's content (an image's KV cells are the projector's embeddings of
// it), the llama.cpp release, the KV cache's types and attention layout, and this file format's
// version. The key seeds every block-hash chain (block-chain.ts) and is written in each
// file's header, so a state from anything else is never found, and never reaches llama.cpp.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import type { KvCacheSettings } from "../../llama/kv-cache-types.ts";
import { LLAMA_CPP_RELEASE } from "../../util/version.ts";

/** Bumped whenever the file layout (format.ts) or what the key covers changes. */
export const FORMAT_VERSION = 2;

const SAMPLES = 16;
const SAMPLE_BYTES = 1 << 20;

/**
 * A model file's (or projector file's) content identity: its size and a hash of 16 windows of 1 MiB spread evenly
 * over it (the first holds the GGUF header: metadata, tensor names, shapes and types; the last
 * ends at the end of the file). Hashing a whole multi-GB file would cost seconds to minutes at
 * every model load; a fine-tune or requantization of the same shape changes every tensor, so any
 * window of tensor data tells it apart, and the header tells apart everything else. The file's
 * name and mtime take no part: a copied or re-downloaded file keeps its cache. (What it cannot
 * see is an edit confined between the windows: no tool makes those.)
 */
export function modelFileIdentity(path: string): string {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const buf = new Uint8Array(SAMPLE_BYTES);
    let hash = BigInt(size);
    const windows = size <= SAMPLES * SAMPLE_BYTES ? Math.ceil(size / SAMPLE_BYTES) : SAMPLES;
    for (let i = 0; i < windows; i++) {
      const offset = size <= SAMPLES * SAMPLE_BYTES ? i * SAMPLE_BYTES : Math.floor(((size - SAMPLE_BYTES) * i) / (SAMPLES - 1));
      const n = readSync(fd, buf, 0, SAMPLE_BYTES, offset);
      hash = Bun.hash.wyhash(buf.subarray(0, n), hash);
    }
    return `${size.toString(16)}-${hash.toString(16).padStart(16, "0")}`;
  } finally {
    closeSync(fd);
  }
}

export interface CacheNamespace {
  /** Seeds the block chains; in every file's header. */
  key: bigint;
  /** The key in hex: the prefix of this namespace's file names. */
  hex: string;
  /** What the key covers, readable (logged with --verbose). */
  text: string;
}

/** Content identities (modelFileIdentity) of the files a runner loads. */
export interface ServedFiles {
  model: string;
  /** The vision projector's, when one is loaded beside the model. */
  projector?: string;
}

/**
 * The namespace of states made from these files under these KV settings. An image enters a
 * prompt's token ids only as its pixel hash (image-prompt.ts), so the projector that turned the
 * pixels into KV must be in the key: another projector (a new file, or one swapped under the same
 * name) is another namespace. Without a projector the text is what it always was, so a text
 * model's files stay valid.
 */
export function cacheNamespace(files: ServedFiles, kv: KvCacheSettings): CacheNamespace {
  const projector = files.projector === undefined ? "" : ` mmproj=${files.projector}`;
  const text = `hearth-kv/${FORMAT_VERSION} model=${files.model}${projector} llama.cpp=${LLAMA_CPP_RELEASE} k=${kv.typeK} v=${kv.typeV} fa=${kv.flashAttn}`;
  const key = Bun.hash.wyhash(text, 0n);
  return { key, hex: key.toString(16).padStart(16, "0"), text };
}
