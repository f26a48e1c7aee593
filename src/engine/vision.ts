// A vision model's images, in its runner: turning a request's image segments into prompt entries
// (image-prompt.ts), and decoding an image into a sequence's KV from its embeddings, which are
// encoded once per image and kept in a bounded cache keyed by the hash of the pixels, so a
// conversation that resends an image does not run the encoder again.
//
// Text between images is tokenized part by part with the same special-token protection as any
// prompt (prompt-tokens.ts); each image brings the model's own markup before and after it, as
// llama-server's mtmd_tokenize lays it out, so the tokens match llama-server --mmproj's.
// Nothing here throws past submit for a bad image: problems are VisionInputErrors (→ 400).
import type { LlamaContext, SpecialToken, Vocab } from "../llama/index.ts";
import type { Projector } from "../llama/mtmd.ts";
import { imageHeaderProblem, MAX_IMAGE_SIDE } from "./image-header.ts";
import { imageEntryId, type ImagePrompt, type PromptImage } from "./image-prompt.ts";
import { tokenizeSegments } from "./prompt-tokens.ts";
import type { GenerateRequest, PromptSegment } from "./types.ts";

/** A request's image Hearth cannot take (the message names it). */
export class VisionInputError extends Error {
  override name = "VisionInputError";
}

/** Default bound of the encoded-image cache. */
export const DEFAULT_IMAGE_CACHE_BYTES = 256 * 1024 * 1024;

export interface VisionCounters {
  /** Runs of the vision encoder. */
  encodes: number;
  /** Images decoded from cached embeddings instead. */
  cacheHits: number;
}

export class Vision {
  readonly counters: VisionCounters = { encodes: 0, cacheHits: 0 };
  /** Embeddings by image key, least recently used first. */
  private readonly cache = new Map<string, Float32Array>();
  private cacheBytes = 0;
  private specials: SpecialToken[] | null = null;

  constructor(
    readonly projector: Projector,
    private readonly vocab: Vocab,
    private readonly maxCacheBytes = DEFAULT_IMAGE_CACHE_BYTES,
  ) {}

  /**
   * The prompt entries of a request with image segments. Throws VisionInputError naming the image
   * for bytes that are no image Hearth takes, cannot be decoded, or are too large.
   */
  prepare(request: Pick<GenerateRequest, "prompt" | "addSpecial" | "images">): ImagePrompt {
    const inputs = request.images ?? [];
    if (request.prompt.length > 0 && typeof request.prompt[0] === "number") throw new VisionInputError("images need a text prompt, not token ids");
    const segments = request.prompt as PromptSegment[];
    this.specials ??= this.vocab.specialTokens();
    const prompt: number[] = [];
    const images: PromptImage[] = [];
    const dispose = () => {
      for (const im of images) im.chunks.dispose();
    };
    try {
      let run: PromptSegment[] = [];
      let first = true;
      const flush = () => {
        if (run.length > 0 || first) prompt.push(...tokenizeSegments(this.vocab, run, request.addSpecial && first, this.specials!));
        run = [];
        first = false;
      };
      for (const seg of segments) {
        if (seg.image === undefined) {
          run.push(seg);
          continue;
        }
        flush();
        const input = inputs[seg.image];
        if (!input) throw new VisionInputError(`the prompt names image ${seg.image}, which the request does not carry`);
        const image = this.load(input.data, input.name ?? `image ${seg.image}`, prompt);
        images.push(image);
      }
      flush();
      if (images.length > 0 && images.at(-1)!.start + images.at(-1)!.nPos >= prompt.length) {
        throw new VisionInputError("the prompt must not end with an image");
      }
    } catch (err) {
      dispose();
      throw err;
    }
    const cells = prompt.length + images.reduce((n, im) => n + im.nTokens - im.nPos, 0);
    return { prompt, images, cells, dispose };
  }

  /**
   * Decodes `image` into sequence `seq` at position `pos` (encoding it first unless its embeddings
   * are cached). Returns llama_decode's code: 0 done, 1 no KV room, other values a failure.
   */
  decode(ctx: LlamaContext, image: PromptImage, pos: number, seq: number): number {
    let embd = this.cache.get(image.key);
    if (embd) {
      this.counters.cacheHits++;
      this.cache.delete(image.key); // re-insert as most recent
    } else {
      embd = this.projector.encode(image.chunks);
      this.counters.encodes++;
      this.cacheBytes += embd.byteLength;
    }
    this.cache.set(image.key, embd);
    for (const [key, old] of this.cache) {
      if (this.cacheBytes <= this.maxCacheBytes || key === image.key) break;
      this.cache.delete(key);
      this.cacheBytes -= old.byteLength;
    }
    return this.projector.decodeEmbeddings(ctx, image.chunks, embd, pos, seq, ctx.nBatch);
  }

  /** One image's entries (markup, image, markup) appended to `prompt`. */
  private load(base64: string, name: string, prompt: number[]): PromptImage {
    const bytes = Buffer.from(base64, "base64");
    const problem = imageHeaderProblem(bytes);
    if (problem) throw new VisionInputError(`${name} ${problem}`);
    const bitmap = this.projector.decodeImage(bytes);
    if (!bitmap) throw new VisionInputError(`${name} could not be decoded (a truncated or corrupt image)`);
    try {
      if (bitmap.width > MAX_IMAGE_SIDE || bitmap.height > MAX_IMAGE_SIDE) {
        throw new VisionInputError(`${name} is ${bitmap.width}×${bitmap.height} pixels; the largest side Hearth takes is ${MAX_IMAGE_SIDE}`);
      }
      const hash = Bun.hash.wyhash(bitmap.pixelView(), BigInt(bitmap.width * 65536 + bitmap.height));
      const key = `${bitmap.width}x${bitmap.height}:${hash.toString(16)}`;
      const chunks = this.projector.tokenizeImage(bitmap, key);
      if (!chunks) throw new VisionInputError(`${name} could not be prepared for the vision encoder`);
      prompt.push(...chunks.before);
      const start = prompt.length;
      const id = imageEntryId(hash);
      for (let i = 0; i < chunks.nPos; i++) prompt.push(id);
      prompt.push(...chunks.after);
      return { start, nPos: chunks.nPos, nTokens: chunks.nTokens, key, name, chunks };
    } finally {
      bitmap.dispose();
    }
  }
}
