// Image parts of a chat, between the dialects and the engine.
//
// The template sees a message with images as text with a marker where each image goes (as
// llama-server: text parts joined by "\n", none beside a marker). The markers carry a random nonce
// per process, so no client can type one: a message that contains the text of a marker, or of
// llama.cpp's `<__media__>`, stays text. After rendering, the prompt's segments are cut at the
// markers into image segments that point into GenerateRequest.images (the engine lays them out).
import type { ImageInput, PromptSegment } from "../../engine/types.ts";
import { imageHeaderProblem } from "../../engine/image-header.ts";
import { badRequest } from "../errors.ts";
import { fetchImage, type ImageFetchPolicy } from "./image-fetch.ts";
import type { ContentPart, ImagePart } from "./request.ts";

const NONCE = crypto.randomUUID().replace(/-/g, "");
const markerOf = (k: number) => `<__hearth_image_${NONCE}_${k}__>`;
const MARKER = new RegExp(`<__hearth_image_${NONCE}_(\\d+)__>`, "g");

/** Largest image file taken (bytes), as decoded from base64 or fetched. */
export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;

/** A message's content as the template sees it; its image parts are appended to `images`. */
export function contentText(parts: ContentPart[], images: ImagePart[]): string {
  if (!parts.some(p => p.type === "image")) return parts.map(p => (p.type === "text" ? p.text : "")).join("");
  let text = "";
  let lastWasImage = false;
  for (const p of parts) {
    if (p.type === "image") {
      text += markerOf(images.length);
      images.push(p);
      lastWasImage = true;
    } else {
      if (!lastWasImage && text !== "") text += "\n";
      text += p.text;
      lastWasImage = false;
    }
  }
  return text;
}

/**
 * The prompt's segments with every marker cut out into an image segment (index into the images
 * the template kept, in prompt order), and those images. A template that drops a message drops its
 * images too; one that repeats a message repeats them.
 */
export function imageSegments(segments: PromptSegment[], parts: ImagePart[]): { segments: PromptSegment[]; used: ImagePart[] } {
  const out: PromptSegment[] = [];
  const used: ImagePart[] = [];
  const indexOf = new Map<number, number>();
  for (const seg of segments) {
    let at = 0;
    for (const m of seg.text.matchAll(MARKER)) {
      const k = Number(m[1]);
      // Only this request's own markers: anything else stays text (defence in depth: the nonce never leaves the process).
      if (!parts[k]) continue;
      if (m.index! > at) out.push({ text: seg.text.slice(at, m.index), parseSpecial: seg.parseSpecial });
      if (!indexOf.has(k)) {
        indexOf.set(k, used.length);
        used.push(parts[k]!);
      }
      out.push({ text: "", parseSpecial: false, image: indexOf.get(k)! });
      at = m.index! + m[0].length;
    }
    if (at < seg.text.length || at === 0) out.push(at === 0 ? seg : { text: seg.text.slice(at), parseSpecial: seg.parseSpecial });
  }
  return { segments: out, used };
}

/**
 * The images' bytes for the engine: base64 checked, URLs fetched under the policy, headers read
 * (format, at most 8192 px a side). Every failure is a 400 naming the part.
 */
export async function loadImages(parts: ImagePart[], policy: ImageFetchPolicy, signal?: AbortSignal): Promise<ImageInput[]> {
  return Promise.all(
    parts.map(async part => {
      let bytes: Uint8Array;
      if ("base64" in part.source) {
        const b64 = part.source.base64.replace(/\s+/g, "");
        if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(b64) || b64.length === 0) throw badRequest(`${part.param} is not valid base64 image data`, { param: part.param, code: "invalid_image" });
        if ((b64.length * 3) / 4 > MAX_IMAGE_BYTES + 3) throw badRequest(`${part.param} is larger than ${MAX_IMAGE_BYTES} bytes`, { param: part.param, code: "invalid_image" });
        bytes = Buffer.from(b64, "base64");
      } else {
        bytes = await fetchImage(part.source.url, part.param, policy, signal);
      }
      const problem = imageHeaderProblem(bytes);
      if (problem) throw badRequest(`${part.param} ${problem}`, { param: part.param, code: "invalid_image" });
      return { data: Buffer.from(bytes).toString("base64"), name: part.param };
    }),
  );
}

/** `data:[mediatype][;base64],DATA` → the base64 payload, or null for a URL of another kind. */
export function dataUrlBase64(url: string, param: string): string | null {
  if (!/^data:/i.test(url)) return null;
  const comma = url.indexOf(",");
  if (comma < 0 || !/;base64$/i.test(url.slice(0, comma))) throw badRequest(`${param} must be a base64 data: URL (data:image/png;base64,…)`, { param, code: "invalid_image" });
  return url.slice(comma + 1);
}

/** 400 `model has no vision input` for a conversation with images to a model without a projector. */
export function checkVision(messages: Array<{ content: ContentPart[] }>, info: { vision?: boolean }): void {
  if (info.vision) return;
  for (const m of messages) {
    const image = m.content.find((p): p is ImagePart => p.type === "image");
    if (image) throw badRequest("model has no vision input", { param: image.param, code: "model_has_no_vision" });
  }
}

/** The engine's prompt and images for a rendered prompt whose messages held `parts` (none: the prompt as is). */
export async function promptWithImages(
  prompt: PromptSegment[],
  parts: ImagePart[],
  policy: ImageFetchPolicy = { allowUrls: false },
): Promise<{ prompt: PromptSegment[]; images?: ImageInput[] }> {
  if (parts.length === 0) return { prompt };
  const cut = imageSegments(prompt, parts);
  if (cut.used.length === 0) return { prompt: cut.segments };
  return { prompt: cut.segments, images: await loadImages(cut.used, policy) };
}

/** An image part from a URL a client sent: a base64 data: URL, or an http(s) URL fetched later. */
export function imageFromUrl(url: string, param: string): ImagePart {
  const base64 = dataUrlBase64(url, param);
  if (base64 !== null) return { type: "image", source: { base64 }, param };
  if (!/^https?:\/\//i.test(url)) throw badRequest(`${param} must be a data: URL or an http(s) URL`, { param, code: "invalid_image_url" });
  return { type: "image", source: { url }, param };
}

/**
 * A message for display (/apply-template): its images as llama.cpp's `<__media__>` marker text, so
 * the rendered prompt shows where they go and Hearth's own markers never leave the process.
 */
export function imagesAsMarkerText<M extends { content: ContentPart[] }>(m: M): M {
  if (!m.content.some(p => p.type === "image")) return m;
  return { ...m, content: m.content.map(p => (p.type === "image" ? { type: "text" as const, text: "<__media__>" } : p)) };
}
