// POST /v1/completions: raw prompt(s) → engine → OpenAI's text_completion shapes.
// Special-token text in a raw prompt is parsed into control tokens, as llama-server does:
// people write templates by hand here on purpose.
import type { GenerateRequest, PromptSegment } from "../../engine/types.ts";
import { badRequest } from "../errors.ts";
import { checkGenerative, collect, completionBody, responseHeader, startAll, textPieces, type GenerationContext, type TextPiece } from "../generation.ts";
import { streamChoices, type StreamShape } from "../stream-choices.ts";
import { completionLogprobs } from "../logprobs.ts";
import type { ModelSource } from "../model-source.ts";
import { grammarField } from "../response-format.ts";
import { toGenerateParams } from "../sampling-schema.ts";
import type { CompletionBody } from "./schema.ts";

function prompts(body: CompletionBody): Array<PromptSegment[] | number[]> {
  const p = body.prompt;
  if (typeof p === "string") return [[{ text: p, parseSpecial: true }]];
  if (p.length > 0 && typeof p[0] === "number") return [p as number[]];
  if (p.length > 0 && Array.isArray(p[0])) return p as number[][];
  return (p as string[]).map(text => [{ text, parseSpecial: true }]);
}

export async function completions(body: CompletionBody, models: ModelSource, ctx: GenerationContext): Promise<Response | object> {
  if (body.suffix) throw badRequest("suffix (fill-in-the-middle) is not supported", { param: "suffix" });
  if (body.echo && body.logprobs != null) {
    throw badRequest("echo with logprobs (log-probabilities of the prompt) is not supported", { param: "logprobs" });
  }
  const model = await models.acquire(body.model);
  ctx.trace.model = model.id;
  const params = toGenerateParams(body, model.info.nVocab, model.defaults);
  const errorParams = { prompt: "prompt", grammar: grammarField(body) };
  const n = body.n ?? 1;
  checkGenerative(model.info, n);
  const all = prompts(body);
  if (all.length * n > 128) throw badRequest("prompts × n must not exceed 128 choices", { param: "n" });
  // One generation per prompt; its n choices share that prompt's prefill.
  const logprobs = body.logprobs ?? undefined;
  const requests: GenerateRequest[] = all.map(prompt => ({ ...params, prompt, addSpecial: true, n, logprobs }));
  const started = await startAll(model.engine, requests, ctx, errorParams);
  // Prompt tokens count once per prompt, not once per choice.
  const promptTokens = started.filter((_, i) => i % n === 0).reduce((s, x) => s + x.promptTokens, 0);
  ctx.trace.promptTokens = promptTokens;
  const echoOf = (i: number) => {
    const p = all[Math.floor(i / n)]!;
    return body.echo && typeof p[0] !== "number" ? (p as PromptSegment[]).map(s => s.text).join("") : "";
  };

  if (!body.stream) {
    const results = await Promise.all(started.map(s => collect(s, errorParams)));
    const header = responseHeader("cmpl", "text_completion", body.model || model.id, model.fingerprint);
    return completionBody(header, results, promptTokens, (r, index) => ({
      index,
      text: echoOf(index) + r.text,
      logprobs: completionLogprobs(r.logprobs, echoOf(index).length).json,
      finish_reason: r.finishReason,
    }));
  }

  // text_offset runs on across a choice's chunks.
  const offsets = requests.flatMap((_, p) => Array.from({ length: n }, (_, i) => echoOf(p * n + i).length));
  const shape: StreamShape<TextPiece> = {
    opening: index => (body.echo ? { index, text: echoOf(index), logprobs: null, finish_reason: null } : null),
    piece: ({ index, text, logprobs, done }) => {
      const lp = completionLogprobs(logprobs, offsets[index]!);
      offsets[index] = lp.offset;
      return { index, text, logprobs: lp.json, finish_reason: done?.finishReason ?? null };
    },
  };
  const header = responseHeader("cmpl", "text_completion", body.model || model.id, model.fingerprint);
  return streamChoices(textPieces(started), started.length, ctx, header, shape, { include: body.stream_options?.include_usage === true, promptTokens });
}
