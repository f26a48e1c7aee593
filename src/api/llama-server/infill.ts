// POST /infill: llama-server's fill-in-the-middle endpoint, as llama.vim and llama.vscode call it
// (`input_prefix`, `input_suffix`, `input_extra` files, `prompt` typed at the cursor, plus every
// /completion field). The FIM prompt comes from the dialect-neutral chat-core/infill.ts; the
// answer is /completion's. A model whose vocabulary has no FIM tokens gets 400.
import { t } from "elysia";
import { infillTokens, requireFim } from "../chat-core/infill.ts";
import { checkGenerative, type GenerationContext } from "../generation.ts";
import type { ModelSource } from "../model-source.ts";
import { nativeGenerationFields } from "./completion-schema.ts";
import { runNative, tokenPrompt } from "./completion.ts";
import { MAX_TEXT_PARTS } from "./prompt.ts";
import { nativeParams } from "./settings.ts";
import { badRequest } from "../errors.ts";

// Text, or text and token ids (each text part one tokenize call: bounded below).
const fimText = t.Union([t.String(), t.Array(t.Union([t.String(), t.Integer({ minimum: 0 })]), { maxItems: 65536 })]);

export const infillBody = t.Object({
  ...nativeGenerationFields,
  input_prefix: fimText,
  input_suffix: fimText,
  input_extra: t.Optional(
    t.Array(t.Object({ text: t.String(), filename: t.Optional(t.String({ maxLength: 4096 })) }), {
      maxItems: 1024,
      error: 'input_extra must be an array of {"filename": string, "text": string}',
    }),
  ),
  prompt: t.Optional(t.String()),
});

export type InfillBody = typeof infillBody.static;

export async function infill(body: InfillBody, models: ModelSource, ctx: GenerationContext): Promise<Response | object> {
  const model = await models.acquire(body.model);
  ctx.trace.model = model.id;
  checkGenerative(model.info, 1);
  const fim = requireFim(model.info, model.id);
  for (const param of ["input_prefix", "input_suffix"] as const) {
    const value = body[param];
    if (typeof value !== "string" && value.filter(p => typeof p === "string").length > MAX_TEXT_PARTS) {
      throw badRequest(`${param} mixes more than ${MAX_TEXT_PARTS} text parts with its token ids`, { param });
    }
  }
  const params = await nativeParams(body, model);
  const ids = await infillTokens(
    { prefix: body.input_prefix, suffix: body.input_suffix, extra: body.input_extra, prompt: body.prompt },
    fim,
    { nBatch: model.info.nBatch ?? 512, nCtx: model.info.nCtx, nPredict: model.info.nPredict ?? -1 },
    (text, addSpecial, parseSpecial) => model.engine.tokenize(text, addSpecial, parseSpecial),
  );
  const bad = ids.find(id => id >= model.info.nVocab);
  if (bad !== undefined) throw badRequest(`token id ${bad} is outside the vocabulary (0..${model.info.nVocab - 1})`, { param: "input_prefix" });
  return runNative({ body, model, params, prompts: [await tokenPrompt(model, ids)], name: body.model || model.id }, ctx);
}
