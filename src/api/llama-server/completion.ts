// POST /completion and the native /completions (llama-server's own completion API): prompts →
// the engine → llama-server's answer objects. Non-streamed: one object, or a list for a list of
// prompts. Streamed: a chunk per token `{content, tokens, stop: false, …}`, then a final
// `stop: true` chunk with generation_settings, timings, stop_type and the rest; no [DONE].
// /infill (infill.ts) answers through the same functions with its own prompt.
import type { FinishReason, PromptSegment, TokenLogprob, Timings, Usage } from "../../engine/types.ts";
import { checkGenerative, collect, merge, startAll, timedOut, timeoutError, timingsJson, type GenerationContext, type Started } from "../generation.ts";
import { engineError } from "../generation.ts";
import { tokenText } from "../logprobs.ts";
import type { AcquiredModel, ModelSource } from "../model-source.ts";
import { grammarField } from "../response-format.ts";
import { sseResponse } from "../sse.ts";
import { counters } from "../metrics.ts";
import type { CompletionBody, NativeGenerationFields } from "./completion-schema.ts";
import { nativeErrorBody } from "./errors.ts";
import { nativePrompts } from "./prompt.ts";
import { generationSettings, nativeParams, type NativeParams } from "./settings.ts";

/** A prompt as token ids, and its text as llama-server echoes it (pieces with control tokens shown). */
export interface TokenPrompt {
  ids: number[];
  text: string;
}

const pieceText = new TextDecoder("utf-8");

const isIds = (p: PromptSegment[] | number[]): p is number[] => p.length === 0 || typeof p[0] === "number";

async function promptText(model: AcquiredModel, ids: number[]): Promise<string> {
  const pieces = await model.engine.tokenPieces(ids);
  const bytes = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of pieces) {
    bytes.set(p, at);
    at += p.length;
  }
  return pieceText.decode(bytes);
}

export async function tokenPrompt(model: AcquiredModel, ids: number[]): Promise<TokenPrompt> {
  return { ids, text: await promptText(model, ids) };
}

/** completion_probabilities entries: the model's log-probabilities, or post-sampling probabilities. */
function probabilities(items: TokenLogprob[], post: boolean) {
  return items.map(t => {
    const token = { id: t.token, token: tokenText(t.bytes), bytes: t.bytes };
    if (!post) {
      return { ...token, logprob: clampLog(t.logprob), top_logprobs: t.top.map(a => ({ id: a.token, token: tokenText(a.bytes), bytes: a.bytes, logprob: clampLog(a.logprob) })) };
    }
    return {
      ...token,
      prob: Math.exp(t.logprob),
      top_probs: t.top.filter(a => Number.isFinite(a.logprob)).map(a => ({ id: a.token, token: tokenText(a.bytes), bytes: a.bytes, prob: Math.exp(a.logprob) })),
    };
  });
}

const clampLog = (lp: number) => (Number.isFinite(lp) ? lp : -9999);

function stopType(finish: FinishReason, stopString: string | undefined): string {
  if (finish === "length") return "limit";
  return stopString !== undefined ? "word" : "eos";
}

/** What a native answer reports about its request, shared by /completion and /infill. */
export interface NativeRun {
  body: NativeGenerationFields & { stream?: boolean | null; return_tokens?: boolean | null; response_fields?: string[] | null };
  model: AcquiredModel;
  params: NativeParams;
  prompts: TokenPrompt[];
  /** The model name answers carry (the request's, else the model's id). */
  name: string;
}

function finalFields(run: NativeRun, index: number, r: { text: string; finishReason: FinishReason; stopString?: string; usage: Usage; timings: Timings }, tokens: number) {
  const prompt = run.prompts[index]!;
  const nPredict = run.params.maxTokens ?? -1;
  return {
    model: run.name,
    tokens_predicted: tokens,
    tokens_evaluated: prompt.ids.length,
    generation_settings: generationSettings(run.params, run.model.info, { stream: run.body.stream === true, nPredict }),
    prompt: prompt.text,
    has_new_line: r.text.includes("\n"),
    truncated: false,
    stop_type: stopType(r.finishReason, r.stopString),
    stopping_word: r.stopString ?? "",
    tokens_cached: prompt.ids.length + tokens,
    timings: { cache_n: r.usage.cachedTokens, ...timingsJson(r.timings) },
  };
}

/** Keeps only the asked-for keys; "a/b" reaches into objects (llama-server's response_fields). */
function pick(answer: Record<string, unknown>, fields: string[] | null | undefined): Record<string, unknown> {
  if (!fields?.length) return answer;
  const out: Record<string, unknown> = {};
  for (const path of fields) {
    let value: unknown = answer;
    for (const key of path.split("/")) value = value !== null && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined;
    if (value !== undefined) out[path] = value;
  }
  return out;
}

/** Starts one generation per prompt and answers in llama-server's native shapes. */
export async function runNative(run: NativeRun, ctx: GenerationContext): Promise<Response | object> {
  const errorParams = { prompt: "prompt", grammar: grammarField(run.body) };
  const requests = run.prompts.map(p => ({ ...run.params, prompt: p.ids, addSpecial: false }));
  const started = await startAll(run.model.engine, requests, ctx, errorParams);
  ctx.trace.promptTokens = run.prompts.reduce((n, p) => n + p.ids.length, 0);
  const post = run.params.postSamplingProbs === true;
  const withProbs = run.params.logprobs !== undefined;

  if (!run.body.stream) {
    const answers = await Promise.all(started.map(async (s, index) => {
      const r = await collect(s, errorParams);
      const answer = {
        index,
        content: r.text,
        tokens: run.body.return_tokens ? r.tokens : [],
        id_slot: run.body.id_slot ?? -1,
        stop: true,
        ...finalFields(run, index, r, r.tokens.length),
        ...(withProbs ? { completion_probabilities: probabilities(r.logprobs ?? [], post) } : {}),
      };
      return pick(answer, run.body.response_fields);
    }));
    return answers.length === 1 ? answers[0]! : answers;
  }
  return nativeStream(run, started, ctx, post, withProbs);
}

function nativeStream(run: NativeRun, started: Started[], ctx: GenerationContext, post: boolean, withProbs: boolean): Response {
  const controller = new AbortController();
  ctx.signal.addEventListener("abort", () => controller.abort(), { once: true });
  ctx.trace.streaming = true;
  const predicted = started.map(() => 0);
  const texts = started.map(() => "");
  return sseResponse(async send => {
    for await (const [index, ev] of merge(started)) {
      if (controller.signal.aborted) break;
      if (ev.kind === "error") throw engineError(ev, ctx, null);
      if (ev.kind !== "text" && ev.kind !== "done") continue;
      ctx.trace.tokens(ev.tokens.length);
      predicted[index]! += ev.tokens.length;
      texts[index] += ev.text;
      if (ev.tokens.length > 0 || ev.text) {
        send({
          index,
          content: ev.text,
          tokens: ev.tokens,
          stop: false,
          id_slot: -1,
          tokens_predicted: predicted[index],
          tokens_evaluated: run.prompts[index]!.ids.length,
          ...(withProbs ? { completion_probabilities: probabilities(ev.logprobs ?? [], post) } : {}),
        });
      }
      if (ev.kind === "done") {
        ctx.trace.usage(ev.usage, ev.finishReason);
        counters.usage(ev.usage);
        const r = { text: texts[index]!, finishReason: ev.finishReason, stopString: ev.stopString, usage: ev.usage, timings: ev.timings };
        // response_fields picks the final chunk's fields, but `stop` stays: it is how a reader sees the end.
        const final = { index, content: "", tokens: [], id_slot: run.body.id_slot ?? -1, stop: true, ...finalFields(run, index, r, predicted[index]!) };
        send({ ...pick(final, run.body.response_fields), stop: true });
      }
    }
    if (timedOut(ctx.signal)) throw timeoutError();
    if (controller.signal.aborted) ctx.trace.error ??= "client disconnected";
  }, () => controller.abort(), ctx.maxStreamBufferBytes, ctx.trace, e => [undefined, nativeErrorBody(e)]);
}

/** POST /completion, POST /completions (native). */
export async function completion(body: CompletionBody, models: ModelSource, ctx: GenerationContext): Promise<Response | object> {
  const model = await models.acquire(body.model);
  ctx.trace.model = model.id;
  checkGenerative(model.info, 1);
  const params = await nativeParams(body, model);
  const prompts = await nativePrompts(body.prompt, model.engine, model.info.nVocab);
  // Token ids exactly as the engine would decode them, so answers can echo and count them.
  const ids = await Promise.all(prompts.map(p => (isIds(p.prompt) ? p.prompt : model.engine.tokenizePrompt(p.prompt, p.addSpecial))));
  const tokenPrompts = await Promise.all(ids.map(i => tokenPrompt(model, i)));
  return runNative({ body, model, params, prompts: tokenPrompts, name: body.model || model.id }, ctx);
}
