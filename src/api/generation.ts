// Runs one or more engine generations for a request: starts them (errors before the first byte),
// splits n choices, collects or merges their events, and sums their usage. Shared by the chat and
// text completion endpoints; SSE writing is in sse.ts and stream-choices.ts.
import type { Engine, FinishReason, GenerateEvent, GenerateRequest, ModelInfo, Timings, TokenLogprob, Usage } from "../engine/types.ts";
import { ApiError, badRequest, fromEngineError, internalError, timedOutError, type ErrorParams } from "./errors.ts";
import { counters } from "./metrics.ts";
import type { RequestTrace } from "./request-trace.ts";
import { log } from "../util/log.ts";

/** What a generation endpoint gets from the app besides its body. */
export interface GenerationContext {
  /** Aborted when the client goes away or --request-timeout passes (reason: a TimeoutError). */
  signal: AbortSignal;
  trace: RequestTrace;
  /** Bytes a stream may hold for a client that does not read before it is cancelled (--max-stream-buffer). */
  maxStreamBufferBytes: number;
}

export interface Started {
  events: AsyncIterator<GenerateEvent>;
  promptTokens: number;
  ctx: GenerationContext;
}

export const timedOut = (signal: AbortSignal) => signal.aborted && (signal.reason as { name?: string } | undefined)?.name === "TimeoutError";

export function timeoutError(): ApiError {
  return timedOutError("the request took longer than the server's --request-timeout and was cancelled");
}

/** An engine error event as the client sees it; a cancel caused by the timeout is a timeout. */
export function engineError(ev: Extract<GenerateEvent, { kind: "error" }>, ctx: GenerationContext, params: ErrorParams | null): ApiError {
  if (ev.code === "cancelled" && timedOut(ctx.signal)) return timeoutError();
  return fromEngineError(ev.code, ev.message, params);
}

/** 400 unless the model generates text and decodes `n` choices of one request at once. */
export function checkGenerative(info: ModelInfo, n: number): void {
  if (info.nEmbd !== undefined) {
    throw badRequest("this is an embedding model: use /v1/embeddings", { param: "model", code: "model_not_generative" });
  }
  const most = info.maxChoices ?? 1;
  if (n > most) throw badRequest(`n must be at most ${most} for this model`, { param: "n", code: "invalid_value" });
}

/**
 * Splits one engine generation of n choices into one event stream per choice (events carry their
 * choice's index). Ending any of them early ends the generation (all choices).
 */
function perChoice(events: AsyncIterator<GenerateEvent>, n: number): AsyncIterator<GenerateEvent>[] {
  if (n === 1) return [events];
  const queues: GenerateEvent[][] = Array.from({ length: n }, () => []);
  let pumping: Promise<void> | null = null;
  let ended = false;
  const pumpOnce = async () => {
    const r = await events.next();
    if (r.done) ended = true;
    else if (r.value.kind === "error") queues.forEach(q => q.push(r.value)); // every choice fails
    else queues[r.value.kind === "accepted" ? 0 : (r.value.index ?? 0)]!.push(r.value);
  };
  return queues.map(queue => ({
    async next(): Promise<IteratorResult<GenerateEvent>> {
      for (;;) {
        if (queue.length > 0) return { value: queue.shift()!, done: false };
        if (ended) return { value: undefined, done: true };
        // One reader pulls from the engine at a time; the others wait for what it routes to them.
        if (!pumping) pumping = pumpOnce().finally(() => (pumping = null));
        await pumping;
      }
    },
    async return(): Promise<IteratorResult<GenerateEvent>> {
      ended = true;
      await events.return?.();
      return { value: undefined, done: true };
    },
  }));
}

/**
 * Starts every generation and waits for each to be accepted, so that bad input or a full queue
 * becomes an HTTP error before the first byte of the response. On failure the others are cancelled.
 * A request with n > 1 is one engine generation (one prefill) and gives n Started, in choice order.
 */
export async function startAll(engine: Engine, requests: GenerateRequest[], ctx: GenerationContext, params: ErrorParams): Promise<Started[]> {
  const controller = new AbortController();
  const abort = () => controller.abort();
  ctx.signal.addEventListener("abort", abort, { once: true });
  if (ctx.signal.aborted) abort();
  const started = requests.map(r => engine.generate(r, controller.signal)[Symbol.asyncIterator]());
  const firsts = await Promise.all(started.map(it => it.next()));
  const failed = firsts.find(f => f.done || f.value.kind === "error");
  if (failed) {
    controller.abort();
    await Promise.all(started.map(it => it.return?.()));
    if (failed.done) throw internalError("the engine ended the request without an answer");
    throw engineError(failed.value as Extract<GenerateEvent, { kind: "error" }>, ctx, params);
  }
  return started.flatMap((events, i) => {
    const promptTokens = (firsts[i]!.value as Extract<GenerateEvent, { kind: "accepted" }>).promptTokens;
    return perChoice(events, requests[i]!.n ?? 1).map(choice => ({ events: choice, promptTokens, ctx }));
  });
}

export interface Collected {
  text: string;
  tokens: number[];
  /** Present when the request asked for log-probabilities; one per token. */
  logprobs?: TokenLogprob[];
  finishReason: FinishReason;
  /** The stop string that ended it, if one did. */
  stopString?: string;
  usage: Usage;
  timings: Timings;
}

/** Reads one generation to its end. */
export async function collect(started: Started, params: ErrorParams): Promise<Collected> {
  let text = "";
  const tokens: number[] = [];
  let logprobs: TokenLogprob[] | undefined;
  for (;;) {
    const { value, done } = await started.events.next();
    if (done) throw timedOut(started.ctx.signal) ? timeoutError() : internalError("the engine ended the request without an answer");
    if (value.kind === "text" || value.kind === "done") {
      text += value.text;
      tokens.push(...value.tokens);
      if (value.logprobs) (logprobs ??= []).push(...value.logprobs);
      started.ctx.trace.tokens(value.tokens.length);
    }
    if (value.kind === "done") {
      started.ctx.trace.usage(value.usage, value.finishReason);
      counters.usage(value.usage);
      const stop = value.stopString !== undefined ? { stopString: value.stopString } : {};
      return { text, tokens, ...(logprobs ? { logprobs } : {}), finishReason: value.finishReason, ...stop, usage: value.usage, timings: value.timings };
    } else if (value.kind === "error") {
      throw engineError(value, started.ctx, params);
    }
  }
}

/** Interleaves several generations' events as they arrive, tagged with their choice index. */
export async function* merge(all: Started[]): AsyncGenerator<[number, GenerateEvent]> {
  if (all.length === 1) {
    // One generation (n = 1, nearly every request): nothing to race, per event.
    const events = all[0]!.events;
    try {
      for (let r = await events.next(); !r.done; r = await events.next()) {
        yield [0, r.value];
        if (r.value.kind === "done" || r.value.kind === "error") return;
      }
    } finally {
      await events.return?.();
    }
    return;
  }
  const pending = new Map<number, Promise<[number, IteratorResult<GenerateEvent>]>>();
  const pull = (i: number) => pending.set(i, all[i]!.events.next().then(r => [i, r] as [number, IteratorResult<GenerateEvent>]));
  all.forEach((_, i) => pull(i));
  try {
    while (pending.size > 0) {
      const [i, result] = await Promise.race(pending.values());
      pending.delete(i);
      if (result.done) continue;
      yield [i, result.value];
      if (result.value.kind !== "done" && result.value.kind !== "error") pull(i);
    }
  } finally {
    // Stopped early (client gone): end every generation so the engine frees their slots.
    await Promise.all(all.map(s => s.events.return?.()));
  }
}

/** A piece of one choice's text as it streams; the choice's last piece carries `done`. */
export interface TextPiece {
  index: number;
  text: string;
  /** Log-probabilities of the tokens whose text this piece releases (when asked for). */
  logprobs?: TokenLogprob[];
  done?: { finishReason: FinishReason; stopString?: string; usage: Usage; timings: Timings };
}

/**
 * Every choice's text as it arrives, with the log-probabilities of tokens whose text is still
 * held back carried to the piece that releases it. Engine errors and the timeout are thrown.
 */
export async function* textPieces(started: Started[]): AsyncGenerator<TextPiece> {
  const ctx = started[0]!.ctx;
  const pending: Array<TokenLogprob[] | undefined> = started.map(() => undefined);
  const take = (index: number, ev: { logprobs?: TokenLogprob[] }) => {
    if (ev.logprobs) (pending[index] ??= []).push(...ev.logprobs);
    const out = pending[index];
    pending[index] = undefined;
    return out ? { logprobs: out } : {};
  };
  for await (const [index, ev] of merge(started)) {
    if (ev.kind === "text") {
      ctx.trace.tokens(ev.tokens.length);
      if (ev.text) yield { index, text: ev.text, ...take(index, ev) };
      else if (ev.logprobs) (pending[index] ??= []).push(...ev.logprobs);
    } else if (ev.kind === "done") {
      ctx.trace.tokens(ev.tokens.length);
      ctx.trace.usage(ev.usage, ev.finishReason);
      counters.usage(ev.usage);
      const stop = ev.stopString !== undefined ? { stopString: ev.stopString } : {};
      yield { index, text: ev.text, ...take(index, ev), done: { finishReason: ev.finishReason, ...stop, usage: ev.usage, timings: ev.timings } };
    } else if (ev.kind === "error") {
      throw engineError(ev, ctx, null);
    }
  }
  if (timedOut(ctx.signal)) throw timeoutError();
}

export function sumUsage(usages: Usage[], promptTokens: number) {
  const completion = usages.reduce((n, u) => n + u.completionTokens, 0);
  const cached = usages.reduce((n, u) => Math.max(n, u.cachedTokens), 0);
  // Thinking tokens, where the engine followed a reasoning model's thinking (OpenAI's field).
  const thought = usages.some(u => u.reasoningTokens !== undefined) ? usages.reduce((n, u) => n + (u.reasoningTokens ?? 0), 0) : null;
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completion,
    total_tokens: promptTokens + completion,
    prompt_tokens_details: { cached_tokens: cached },
    ...(thought !== null ? { completion_tokens_details: { reasoning_tokens: thought } } : {}),
  };
}

/**
 * llama-server's `timings` object. As there, generation speed counts decode steps: the first token
 * comes from the prompt's last batch, so n tokens took n - 1 steps.
 */
export function timingsJson(t: Timings) {
  const steps = Math.max(0, t.predictedN - 1);
  return {
    prompt_n: t.promptN,
    prompt_ms: round(t.promptMs),
    prompt_per_token_ms: t.promptN ? round(t.promptMs / t.promptN) : 0,
    prompt_per_second: t.promptMs > 0 ? round((t.promptN * 1000) / t.promptMs) : 0,
    predicted_n: t.predictedN,
    predicted_ms: round(t.predictedMs),
    predicted_per_token_ms: steps ? round(t.predictedMs / steps) : 0,
    predicted_per_second: steps && t.predictedMs > 0 ? round((steps * 1000) / t.predictedMs) : 0,
  };
}

const round = (x: number) => Math.round(x * 1000) / 1000;


/** What every chunk of one response repeats (and the non-stream body starts with). */
export interface ChunkHeader {
  id: string;
  object: string;
  created: number;
  model: string;
  system_fingerprint: string;
}

/** A fresh response header: `prefix-<uuid>`, created now. */
export function responseHeader(prefix: string, object: string, model: string, fingerprint: string): ChunkHeader {
  return { id: `${prefix}-${crypto.randomUUID().replaceAll("-", "")}`, object, created: Math.floor(Date.now() / 1000), model, system_fingerprint: fingerprint };
}

/** The non-stream answer: one choice per collected generation, usage over all of them. */
export function completionBody<R extends { usage: Usage; timings: Timings }>(header: ChunkHeader, results: R[], promptTokens: number, choice: (r: R, index: number) => object) {
  return {
    ...header,
    choices: results.map(choice),
    usage: sumUsage(results.map(r => r.usage), promptTokens),
    timings: timingsJson(results[0]!.timings),
  };
}
