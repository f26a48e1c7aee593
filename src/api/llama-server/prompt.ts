// llama-server's `prompt` field → the engine's prompts. As there (tools/server: tokenize_input_prompts,
// tokenize_mixed) it may be: a string; token ids; text and ids mixed in one array (one prompt); an
// object {prompt_string, multimodal_data}; or a list of any of those (one completion each). Text
// parses special tokens and gets BOS where the vocabulary wants one: raw prompts here are written
// by hand on purpose, as on /v1/completions.
import type { Engine, PromptSegment } from "../../engine/types.ts";
import { badRequest } from "../errors.ts";

export interface NativePrompt {
  prompt: PromptSegment[] | number[];
  addSpecial: boolean;
}

/** Most prompts one request may hold (each one a generation). */
export const MAX_PROMPTS = 128;
/** Most text parts one prompt may mix with token ids. */
export const MAX_TEXT_PARTS = 4096;

const isMixed = (p: unknown[]) => p.every(x => typeof x === "string" || typeof x === "number") && p.some(x => typeof x === "number");

function checkIds(ids: unknown[], nVocab: number, param: string): number[] {
  for (const id of ids) {
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id >= nVocab) {
      throw badRequest(`${param} holds ${JSON.stringify(id)}, not a token id of this model (0..${nVocab - 1})`, { param });
    }
  }
  return ids as number[];
}

/** One prompt: text, ids, mixed, or the object form. */
async function one(p: unknown, engine: Engine, nVocab: number, param: string): Promise<NativePrompt> {
  if (typeof p === "string") return { prompt: [{ text: p, parseSpecial: true }], addSpecial: true };
  if (Array.isArray(p)) {
    if (p.every(x => typeof x === "number")) return { prompt: checkIds(p, nVocab, param), addSpecial: false };
    if (!isMixed(p)) throw badRequest(`${param} must be text, token ids, or text and token ids mixed`, { param });
    return { prompt: await mixedIds(p as Array<string | number>, engine, nVocab, param), addSpecial: false };
  }
  if (p !== null && typeof p === "object") {
    const o = p as Record<string, unknown>;
    if (typeof o.prompt_string !== "string") throw badRequest(`${param}.prompt_string must be a string`, { param });
    const media = o.multimodal_data;
    if (media !== undefined && !(Array.isArray(media) && media.length === 0)) {
      throw badRequest("multimodal_data needs a multimodal model (an --mmproj projector); this model reads text only", { param: `${param}.multimodal_data` });
    }
    return { prompt: [{ text: o.prompt_string, parseSpecial: true }], addSpecial: true };
  }
  throw badRequest(`${param} must be a string, token ids, an object with prompt_string, or a list of those`, { param });
}

/**
 * Text and token ids mixed in one array (llama-server's tokenize_mixed) → token ids: text parses
 * special tokens, and a first part that is text gets the vocabulary's specials (BOS, or CLS…SEP).
 */
export async function mixedIds(parts: Array<string | number>, engine: Engine, nVocab: number, param: string): Promise<number[]> {
  // Each text part is one tokenize call in the runner: bound them as /tokenize bounds its parts.
  if (parts.filter(p => typeof p === "string").length > MAX_TEXT_PARTS) {
    throw badRequest(`${param} mixes more than ${MAX_TEXT_PARTS} text parts with its token ids`, { param });
  }
  const ids: number[] = [];
  for (const [i, part] of parts.entries()) {
    if (typeof part === "number") ids.push(...checkIds([part], nVocab, param));
    else ids.push(...(await engine.tokenize(part, i === 0, true)));
  }
  return ids;
}

type Part = string | number;

/**
 * Embedding inputs as llama-server takes them (OpenAI's `input` and its native `content`): text,
 * token ids, ids and text mixed (one input), or a list of those → one engine input per vector.
 */
export async function embeddingInputs(input: string | Array<Part | Part[]>, engine: Engine, nVocab: number, param: string): Promise<Array<string | number[]>> {
  const one = (x: string | Part[], name: string) => {
    if (typeof x === "string" || x.every(p => typeof p === "number")) return x as string | number[];
    return mixedIds(x, engine, nVocab, name);
  };
  if (typeof input === "string") return [input];
  // One input of ids, or of ids and text together; else a list of inputs.
  if (input.some(x => typeof x === "number")) return [await one(input as Part[], param)];
  return Promise.all((input as Array<string | Part[]>).map((x, i) => one(x, `${param}[${i}]`)));
}

/** Every prompt of a request, in order. */
export async function nativePrompts(prompt: unknown, engine: Engine, nVocab: number): Promise<NativePrompt[]> {
  if (prompt === undefined || prompt === null) throw badRequest("\"prompt\" is required", { param: "prompt" });
  // A list of prompts unless it is one prompt of ids (or ids and text).
  if (Array.isArray(prompt) && prompt.length > 0 && !prompt.every(x => typeof x === "number") && !isMixed(prompt)) {
    if (prompt.length > MAX_PROMPTS) throw badRequest(`at most ${MAX_PROMPTS} prompts per request`, { param: "prompt" });
    return Promise.all(prompt.map((p, i) => one(p, engine, nVocab, `prompt[${i}]`)));
  }
  if (Array.isArray(prompt) && prompt.length === 0) throw badRequest("\"prompt\" is empty", { param: "prompt" });
  return [await one(prompt, engine, nVocab, "prompt")];
}
