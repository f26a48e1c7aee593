// POST /tokenize and POST /detokenize, in llama-server's shapes (tools/server: tokenize_mixed,
// tokens_to_str): `content` may mix text and token ids; pieces are the tokens' own text with
// control tokens rendered, as strings, or byte arrays where a piece is not valid UTF-8.
import { t } from "elysia";
import { ApiError } from "../errors.ts";
import type { AcquiredModel, ModelSource } from "../model-source.ts";

const tokenId = t.Integer({ minimum: 0 });

export const tokenizeBody = t.Object({
  model: t.Optional(t.String()),
  content: t.Union([t.String(), t.Array(t.Union([t.String(), tokenId]), { maxItems: 65536 })]),
  add_special: t.Optional(t.Boolean()),
  parse_special: t.Optional(t.Boolean()),
  with_pieces: t.Optional(t.Boolean()),
});

export const detokenizeBody = t.Object({ model: t.Optional(t.String()), tokens: t.Array(tokenId) });

const utf8 = new TextDecoder("utf-8", { fatal: true });
const lenient = new TextDecoder("utf-8");

function checkIds(ids: number[], model: AcquiredModel, param: string): void {
  const bad = ids.find(id => id >= model.info.nVocab);
  if (bad !== undefined) throw new ApiError(400, `token id ${bad} is outside the vocabulary (0..${model.info.nVocab - 1})`, "invalid_request_error", param);
}

async function acquire(models: ModelSource, id: string | undefined): Promise<AcquiredModel> {
  return models.acquire(id ?? models.defaultId() ?? "");
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
  const model = await acquire(models, body.model);
  const addSpecial = body.add_special ?? false;
  const parseSpecial = body.parse_special ?? true;
  // Only the first element, when it is text, gets BOS etc. (llama-server's tokenize_mixed).
  const parts = typeof body.content === "string" ? [body.content] : body.content;
  const tokens: number[] = [];
  for (const [i, part] of parts.entries()) {
    if (typeof part === "number") tokens.push(part);
    else tokens.push(...(await model.engine.tokenize(part, addSpecial && i === 0, parseSpecial)));
  }
  checkIds(tokens, model, "content");
  if (!body.with_pieces) return { tokens };
  const pieces = await model.engine.tokenPieces(tokens);
  return { tokens: tokens.map((id, i) => ({ id, piece: pieceJson(pieces[i]!) })) };
}

/** The tokens' pieces joined (control tokens rendered), as llama-server's tokens_to_str. */
export async function detokenize(body: typeof detokenizeBody.static, models: ModelSource) {
  const model = await acquire(models, body.model);
  checkIds(body.tokens, model, "tokens");
  const pieces = await model.engine.tokenPieces(body.tokens);
  return { content: lenient.decode(Buffer.concat(pieces)) };
}
