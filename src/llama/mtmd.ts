// libmtmd (llama.cpp's multimodal library) through the shim's hearth_mtmd_* functions
// (lib/shim/hearth_mtmd.cpp): a vision projector, images decoded from their bytes, each image's
// chunks as mtmd lays them out in a prompt, the encoder, and the decode of image embeddings.
// Only this folder touches pointers: callers get plain numbers, arrays and owned objects.
import { dlopen, ptr, suffix, toArrayBuffer, type Pointer } from "bun:ffi";
import { join } from "node:path";
import { cString } from "./cstring.ts";
import type { LlamaContext } from "./context.ts";
import { findLibraryDir } from "./library.ts";
import type { LlamaModel } from "./model.ts";

export const mtmdSymbols = {
  hearth_mtmd_init: { args: ["ptr", "ptr", "bool", "i32"], returns: "ptr" },
  hearth_mtmd_free: { args: ["ptr"], returns: "void" },
  hearth_mtmd_caps: { args: ["ptr"], returns: "i32" },
  hearth_mtmd_bitmap: { args: ["ptr", "ptr", "i64"], returns: "ptr" },
  hearth_mtmd_bitmap_nx: { args: ["ptr"], returns: "i32" },
  hearth_mtmd_bitmap_ny: { args: ["ptr"], returns: "i32" },
  hearth_mtmd_bitmap_data: { args: ["ptr"], returns: "ptr" },
  hearth_mtmd_bitmap_set_id: { args: ["ptr", "ptr"], returns: "void" },
  hearth_mtmd_bitmap_free: { args: ["ptr"], returns: "void" },
  hearth_mtmd_tokenize_image: { args: ["ptr", "ptr"], returns: "ptr" },
  hearth_mtmd_chunks_free: { args: ["ptr"], returns: "void" },
  hearth_mtmd_chunks_size: { args: ["ptr"], returns: "i32" },
  hearth_mtmd_chunk: { args: ["ptr", "i32"], returns: "ptr" },
  hearth_mtmd_chunk_type: { args: ["ptr"], returns: "i32" },
  hearth_mtmd_chunk_n_tokens: { args: ["ptr"], returns: "i32" },
  hearth_mtmd_chunk_n_pos: { args: ["ptr"], returns: "i32" },
  hearth_mtmd_chunk_text: { args: ["ptr"], returns: "ptr" },
  hearth_mtmd_embd_floats: { args: ["ptr", "ptr"], returns: "i64" },
  hearth_mtmd_encode: { args: ["ptr", "ptr", "ptr", "ptr", "i64"], returns: "i32" },
  hearth_mtmd_decode_image: { args: ["ptr", "ptr", "ptr", "ptr", "i32", "i32", "i32"], returns: "i32" },
} as const;

let lib: ReturnType<typeof dlopen<typeof mtmdSymbols>>["symbols"] | undefined;
function mtmd() {
  lib ??= dlopen(join(findLibraryDir(), `libhearth_shim.${suffix}`), mtmdSymbols).symbols;
  return lib;
}

/** An image decoded to RGB pixels (stb_image, as llama-server decodes), owned until dispose(). */
export class Bitmap {
  #ptr: Pointer | null;
  readonly width: number;
  readonly height: number;

  constructor(p: Pointer) {
    this.#ptr = p;
    this.width = mtmd().hearth_mtmd_bitmap_nx(p);
    this.height = mtmd().hearth_mtmd_bitmap_ny(p);
  }

  get ptr(): Pointer {
    if (!this.#ptr) throw new Error("bitmap used after dispose()");
    return this.#ptr;
  }

  /**
   * The RGB bytes (width × height × 3), a view of native memory: valid until dispose(), so read it
   * at once (an 8192×8192 image is 200 MB: no copy is made).
   */
  pixelView(): Uint8Array {
    const data = mtmd().hearth_mtmd_bitmap_data(this.ptr);
    return new Uint8Array(toArrayBuffer(data!, 0, this.width * this.height * 3));
  }

  dispose(): void {
    if (this.#ptr) mtmd().hearth_mtmd_bitmap_free(this.#ptr);
    this.#ptr = null;
  }
}

/**
 * One image as it sits in a prompt: the model's markup before it (token ids), the image chunk
 * itself (n_tokens embeddings, n_pos positions: fewer than n_tokens with M-RoPE), the markup after.
 * Owns mtmd's chunk list until dispose().
 */
export class ImageChunks {
  #ptr: Pointer | null;
  readonly before: number[] = [];
  readonly after: number[] = [];
  readonly nTokens: number = 0;
  readonly nPos: number = 0;
  readonly #image: Pointer | null = null;

  constructor(p: Pointer) {
    this.#ptr = p;
    const m = mtmd();
    const n = m.hearth_mtmd_chunks_size(p);
    for (let i = 0; i < n; i++) {
      const c = m.hearth_mtmd_chunk(p, i) as Pointer;
      const type = m.hearth_mtmd_chunk_type(c);
      if (type === 0) {
        const count = m.hearth_mtmd_chunk_n_tokens(c);
        const ids = count > 0 ? new Int32Array(toArrayBuffer(m.hearth_mtmd_chunk_text(c)!, 0, count * 4)) : [];
        (this.#image ? this.after : this.before).push(...ids);
      } else if (type === 1 && !this.#image) {
        this.#image = c;
        this.nTokens = m.hearth_mtmd_chunk_n_tokens(c);
        this.nPos = m.hearth_mtmd_chunk_n_pos(c);
      } else {
        throw new Error("the projector laid the image out in an unexpected way (more than one media chunk)");
      }
    }
    if (!this.#image) throw new Error("the projector produced no image chunk");
  }

  get imagePtr(): Pointer {
    if (!this.#ptr || !this.#image) throw new Error("image chunks used after dispose()");
    return this.#image;
  }

  dispose(): void {
    if (this.#ptr) mtmd().hearth_mtmd_chunks_free(this.#ptr);
    this.#ptr = null;
  }
}

/** A vision projector (mmproj) bound to its text model. One per runner; not thread-safe. */
export class Projector {
  #ptr: Pointer | null;
  readonly vision: boolean;
  /** Positions follow M-RoPE (Qwen2-VL family): an image takes fewer positions than embeddings. */
  readonly mrope: boolean;

  private constructor(
    p: Pointer,
    private readonly model: LlamaModel,
    /** The file it was loaded from (the prompt cache keys image KV on its content). */
    readonly path: string,
  ) {
    this.#ptr = p;
    const caps = mtmd().hearth_mtmd_caps(p);
    this.vision = (caps & 1) !== 0;
    this.mrope = (caps & 4) !== 0;
  }

  /** Loads `path` for `model`; throws when it is no projector or belongs to another model. */
  static load(path: string, model: LlamaModel, options: { useGpu: boolean; threads: number }): Projector {
    const p = mtmd().hearth_mtmd_init(ptr(cString(path)), model.ptr, options.useGpu, options.threads) as Pointer | null;
    if (!p) throw new Error(`cannot load the projector ${path} for this model (see the log: not a projector, or made for a model of another width)`);
    return new Projector(p, model, path);
  }

  get ptr(): Pointer {
    if (!this.#ptr) throw new Error("projector used after dispose()");
    return this.#ptr;
  }

  /** Decodes image file bytes; null when they are no image stb_image can read. */
  decodeImage(bytes: Uint8Array): Bitmap | null {
    if (bytes.length === 0) return null;
    const p = mtmd().hearth_mtmd_bitmap(this.ptr, ptr(bytes), bytes.length) as Pointer | null;
    return p ? new Bitmap(p) : null;
  }

  /** The image's chunks (preprocessing runs here); null on a preprocessing error. */
  tokenizeImage(bitmap: Bitmap, id: string): ImageChunks | null {
    mtmd().hearth_mtmd_bitmap_set_id(bitmap.ptr, ptr(cString(id)));
    const p = mtmd().hearth_mtmd_tokenize_image(this.ptr, bitmap.ptr) as Pointer | null;
    if (!p) return null;
    try {
      return new ImageChunks(p);
    } catch (err) {
      mtmd().hearth_mtmd_chunks_free(p);
      throw err;
    }
  }

  /** Runs the vision encoder: the image's embeddings (n_tokens × the text model's input width). */
  encode(chunks: ImageChunks): Float32Array {
    const n = Number(mtmd().hearth_mtmd_embd_floats(this.model.ptr, chunks.imagePtr));
    const out = new Float32Array(n);
    const rc = mtmd().hearth_mtmd_encode(this.ptr, this.model.ptr, chunks.imagePtr, ptr(out), n);
    if (rc !== 0) throw new Error(`the vision encoder failed (code ${rc})`);
    return out;
  }

  /**
   * Decodes embeddings from encode() into sequence `seq` from position `pos`, in batches of at most
   * nBatch, with the model's attention rules for images. Returns llama_decode's code (0: done).
   */
  decodeEmbeddings(ctx: LlamaContext, chunks: ImageChunks, embd: Float32Array, pos: number, seq: number, nBatch: number): number {
    return mtmd().hearth_mtmd_decode_image(this.ptr, ctx.ptr, chunks.imagePtr, ptr(embd), pos, seq, nBatch);
  }

  dispose(): void {
    if (this.#ptr) mtmd().hearth_mtmd_free(this.#ptr);
    this.#ptr = null;
  }
}
