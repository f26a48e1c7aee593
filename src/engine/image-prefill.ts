// The scheduler's part of images (vision.ts has the model's): a request's images checked and laid
// out at submit, and a prefilling choice's images decoded when prefill reaches them. An image is
// decoded whole, in its own llama_decode calls (an embeddings batch, not the step's token batch),
// before the step's batch; the step's text run for that choice stops at the next image.
import type { LlamaContext } from "../llama/index.ts";
import { imageAt, type ImagePrompt } from "./image-prompt.ts";
import type { ActiveJob, Emit } from "./jobs.ts";
import type { EngineErrorCode, GenerateRequest } from "./types.ts";
import { VisionInputError, type Vision } from "./vision.ts";

export const NO_VISION = "model has no vision input";

/**
 * The laid-out prompt of a request with images, null for one without, or the error it fails with:
 * no projector, an image Hearth cannot take, or more KV cells than a slot holds (M-RoPE images fill
 * more cells than the positions their prompt entries count).
 */
export function imagePromptFor(
  vision: Vision | null | undefined,
  request: GenerateRequest,
  slotCtx: number,
): ImagePrompt | null | { code: EngineErrorCode; message: string } {
  if (!request.images?.length) return null;
  if (!vision) return { code: "invalid_request", message: NO_VISION };
  let media: ImagePrompt;
  try {
    media = vision.prepare(request);
  } catch (err) {
    if (err instanceof VisionInputError) return { code: "invalid_request", message: err.message };
    return { code: "invalid_request", message: `the images could not be prepared: ${(err as Error).message}` };
  }
  if (media.cells >= slotCtx) {
    media.dispose();
    return { code: "context_length_exceeded", message: `the prompt with its images fills ${media.cells} tokens; this model's context holds ${slotCtx}` };
  }
  return media;
}

/** `emit`, freeing the request's native image data at its first last event (prefill is over then). */
export function emitFreeingImages(emit: Emit, media: ImagePrompt): Emit {
  let freed = false;
  return event => {
    if (!freed && (event.kind === "error" || (event.kind === "done" && !event.index))) {
      freed = true;
      media.dispose();
    }
    emit(event);
  };
}

/**
 * Decodes every image that starts where the choice's prefill stands, moving prefill past it.
 * Returns null, or why an image could not be decoded (the choice then fails; its sequence is cut
 * back to what it held before).
 */
export function decodeImagesAt(vision: Vision, ctx: LlamaContext, choice: ActiveJob): string | null {
  const media = choice.job.media;
  if (!media) return null;
  for (let image = imageAt(media, choice.promptPos); image; image = imageAt(media, choice.promptPos)) {
    if (choice.promptStart === 0) choice.promptStart = performance.now();
    const slot = choice.slot;
    let rc: number;
    try {
      rc = vision.decode(ctx, image, slot.cached.length, slot.seq);
    } catch (err) {
      ctx.seqRemove(slot.seq, slot.cached.length, -1);
      return `${image.name}: ${(err as Error).message}`;
    }
    if (rc !== 0) {
      ctx.seqRemove(slot.seq, slot.cached.length, -1);
      return rc === 1
        ? `the KV cache has no room for ${image.name} (${image.nTokens} tokens) with this many requests at once; retry, or raise --ctx-size`
        : `decoding ${image.name} failed (llama_decode returned ${rc})`;
    }
    for (let i = 0; i < image.nPos; i++) slot.cached.push(choice.job.prompt[choice.promptPos + i]!);
    choice.promptPos += image.nPos;
  }
  return null;
}

/**
 * The token ids of a prompt with images as the engine counts them: text tokens, and one negative
 * id per image embedding (so the length is the KV cells the prompt fills). For counting only
 * (count_tokens, fitting max_tokens); a bad image throws with its 400 message.
 */
export function imagePromptIds(vision: Vision | null | undefined, request: Pick<GenerateRequest, "prompt" | "addSpecial" | "images">): number[] {
  const media = imagePromptFor(vision, { ...(request as GenerateRequest) }, Infinity);
  if (!media) return [];
  if ("code" in media) throw new Error(media.message);
  try {
    const ids: number[] = [];
    let pos = 0;
    for (const im of media.images) {
      ids.push(...media.prompt.slice(pos, im.start));
      for (let i = 0; i < im.nTokens; i++) ids.push(media.prompt[im.start]!);
      pos = im.start + im.nPos;
    }
    ids.push(...media.prompt.slice(pos));
    return ids;
  } finally {
    media.dispose();
  }
}
