// POST /tokenize and POST /detokenize, in llama-server's shapes (tools/server: tokenize_mixed,
// tokens_to_str): `content` may mix text and token ids; pieces are the tokens' own text with
// control tokens rendered, as strings, or byte arrays where a piece is not valid UTF-8.
//
// Both are bounded (llama-server's are not): a 16 MiB body of ids would otherwise answer
// gigabytes of JSON in both processes and hold the runner's token loop meanwhile.
import { t } from "elysia";
import { badRequest } from "../errors.ts";
import type { AcquiredModel, ModelSource } from "../model-source.ts";

/** Token ids one /detokenize request may send: twice a 128k context. */
export const MAX_TOKENS = 262_144;
/**
 * Characters (UTF-16 units) of text one /tokenize request may send, all its parts together.
 * Small, because llama.cpp's tokenizer is quadratic in special-token-dense text and (SentencePiece)
 * in characters outside the vocabulary: here 96k characters of "<s>" took 1.6 s of the runner,
 * 64k take 0.4 s. It bounds the answer too: at most a token per UTF-8 byte (3 per character) and
 * one for SentencePiece's leading space per text part, with `content` at most 65,536 elements.
 */
export const MAX_TEXT_CHARS = 65_536;

// `error` on the schemas that can hold millions of values: without one, Elysia builds its
// validation error by JSON-printing the whole body and walking every item (about 1 s for 3M ids,
// in the HTTP process). Clients get the 400 the app maps from the failing keyword either way.
const tokenId = t.Integer({ minimum: 0, error: "token ids are integers from 0" });

export const tokenizeBody = t.Object({
  model: t.Optional(t.String()),
  content: t.Union([t.String(), t.Array(t.Union([t.String(), tokenId]), { maxItems: 65536 })], {
    description: `text, or text and token ids; at most ${MAX_TEXT_CHARS} characters of text in all`,
    error: "content is text, or an array of text and token ids",
  }),
  add_special: t.Optional(t.Boolean()),
  parse_special: t.Optional(t.Boolean()),
  with_pieces: t.Optional(t.Boolean()),
});

export const detokenizeBody = t.Object({
  model: t.Optional(t.String()),
  tokens: t.Array(tokenId, { maxItems: MAX_TOKENS, error: `tokens is an array of at most ${MAX_TOKENS} token ids` }),
});

const utf8 = new TextDecoder("utf-8", { fatal: true });
const lenient = new TextDecoder("utf-8");

function checkIds(ids: number[], model: AcquiredModel, param: string): void {
  const bad = ids.find(id => id >= model.info.nVocab);
  if (bad !== undefined) throw badRequest(`token id ${bad} is outside the vocabulary (0..${model.info.nVocab - 1})`, { param });
}

/** A piece as llama-server shows it: the string, or its bytes when they are not valid UTF-8. */
function pieceJson(bytes: Uint8Array): string | number[] {
  try {
    return utf8.decode(bytes);
  } catch {
    return Array.from(bytes);
  }
}

export async function tokenize(body: typeof tokenizeBody.static, models: ModelSource) {
  // Only the first element, when it is text, gets BOS etc. (llama-server's tokenize_mixed).
  const parts = typeof body.content === "string" ? [body.content] : body.content;
  const chars = parts.reduce<number>((n, part) => n + (typeof part === "string" ? part.length : 0), 0);
  if (chars > MAX_TEXT_CHARS) {
    throw badRequest(`content holds ${chars} characters of text; /tokenize takes at most ${MAX_TEXT_CHARS} (send a longer text in parts)`, { param: "content", code: "invalid_value" });
  }
  const model = await models.acquire(body.model);
  const addSpecial = body.add_special ?? false;
  const parseSpecial = body.parse_special ?? true;
  const tokens: number[] = [];
  for (const [i, part] of parts.entries()) {
    if (typeof part === "number") tokens.push(part);
    else for (const id of await model.engine.tokenize(part, addSpecial && i === 0, parseSpecial)) tokens.push(id); // (no push(...ids): a long text overflows the stack)
  }
  checkIds(tokens, model, "content");
  if (!body.with_pieces) return { tokens };
  const pieces = await model.engine.tokenPieces(tokens);
  return { tokens: tokens.map((id, i) => ({ id, piece: pieceJson(pieces[i]!) })) };
}

/** The tokens' pieces joined (control tokens rendered), as llama-server's tokens_to_str. */
export async function detokenize(body: typeof detokenizeBody.static, models: ModelSource) {
  const model = await models.acquire(body.model);
  checkIds(body.tokens, model, "tokens");
  const pieces = await model.engine.tokenPieces(body.tokens);
  return { content: lenient.decode(Buffer.concat(pieces)) };
}
