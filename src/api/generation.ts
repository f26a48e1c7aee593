// Runs one or more engine generations for a request and turns their events into results or a
// merged stream. Shared by the chat and text completion endpoints.
import type { Engine, FinishReason, GenerateEvent, GenerateRequest, ModelInfo, Timings, TokenLogprob, Usage } from "../engine/types.ts";
import { ApiError, fromEngineError, type ErrorParams } from "./errors.ts";
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

const timedOut = (signal: AbortSignal) => signal.aborted && (signal.reason as { name?: string } | undefined)?.name === "TimeoutError";

function timeoutError(): ApiError {
  return new ApiError(504, "the request took longer than the server's --request-timeout and was cancelled", "server_error", null, "request_timeout");
}

/** An engine error event as the client sees it; a cancel caused by the timeout is a timeout. */
function engineError(ev: Extract<GenerateEvent, { kind: "error" }>, ctx: GenerationContext, params: ErrorParams | null): ApiError {
  if (ev.code === "cancelled" && timedOut(ctx.signal)) return timeoutError();
  return fromEngineError(ev.code, ev.message, params);
}

/** 400 unless the model generates text and decodes `n` choices of one request at once. */
export function checkGenerative(info: ModelInfo, n: number): void {
  if (info.nEmbd !== undefined) {
    throw new ApiError(400, "this is an embedding model: use /v1/embeddings", "invalid_request_error", "model", "model_not_generative");
  }
  const most = info.maxChoices ?? 1;
  if (n > most) throw new ApiError(400, `n must be at most ${most} for this model`, "invalid_request_error", "n", "invalid_value");
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
    if (failed.done) throw new ApiError(500, "the engine ended the request without an answer");
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
    if (done) throw timedOut(started.ctx.signal) ? timeoutError() : new ApiError(500, "the engine ended the request without an answer");
    if (value.kind === "text" || value.kind === "done") {
      text += value.text;
      tokens.push(...value.tokens);
      if (value.logprobs) (logprobs ??= []).push(...value.logprobs);
      started.ctx.trace.tokens(value.tokens.length);
    }
    if (value.kind === "done") {
      started.ctx.trace.usage(value.usage, value.finishReason);
      counters.usage(value.usage);
      return { text, tokens, ...(logprobs ? { logprobs } : {}), finishReason: value.finishReason, usage: value.usage, timings: value.timings };
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

export function sumUsage(usages: Usage[], promptTokens: number) {
  const completion = usages.reduce((n, u) => n + u.completionTokens, 0);
  const cached = usages.reduce((n, u) => Math.max(n, u.cachedTokens), 0);
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completion,
    total_tokens: promptTokens + completion,
    prompt_tokens_details: { cached_tokens: cached },
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

/**
 * A Server-Sent Events response whose body is produced by `produce`, written straight to the socket
 * (Bun's "direct" stream, the only kind that reports backpressure). A client that stops reading
 * may hold `maxBufferedBytes` beyond the kernel's buffers; past that its request is cancelled, so
 * one stalled reader cannot grow the server's memory. Other streams never wait on it.
 */
export function sseResponse(produce: (send: (data: unknown) => void) => Promise<void>, onCancel: () => void, maxBufferedBytes: number, trace?: RequestTrace): Response {
  const encoder = new TextEncoder();
  const source: Bun.DirectUnderlyingSource = {
    type: "direct",
    async pull(controller) {
      let buffered = 0;
      let gone = false;
      const send = (data: unknown) => {
        if (gone) return;
        const payload = typeof data === "string" ? data : JSON.stringify(data);
        const bytes = encoder.encode(`data: ${payload}\n\n`);
        const written = controller.write(bytes);
        if (written === 0) {
          gone = true; // the client disconnected
          onCancel();
        } else if (written instanceof Promise) {
          buffered += bytes.length;
          // It resolves once everything written so far has drained.
          void written.then(() => (buffered = 0), () => {});
          if (buffered > maxBufferedBytes) {
            gone = true;
            log("warn", "client is not reading its stream: cancelled", { id: trace?.id, buffered_bytes: buffered });
            if (trace) trace.error = "client not reading";
            onCancel();
          }
        }
      };
      let status = 200;
      try {
        await produce(send);
      } catch (err) {
        // After the first byte an error can only be an event (OpenAI's shape), then the end.
        const e = err instanceof ApiError ? err : new ApiError(500, "internal error while streaming");
        if (!(err instanceof ApiError)) log("error", `stream failed: ${(err as Error)?.stack ?? String(err)}`, { id: trace?.id });
        status = e.status;
        if (trace) trace.error ??= e.message;
        send({ error: { message: e.message, type: e.type, param: e.param, code: e.code } });
      }
      trace?.end(status);
      try {
        controller.close();
      } catch {
        /* the client is gone */
      }
    },
    cancel() {
      onCancel();
    },
  };
  // lib.dom's ReadableStream constructor hides bun-types' overload for direct sources.
  return new Response(new ReadableStream(source as unknown as UnderlyingDefaultSource<Uint8Array>), {
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive", "x-accel-buffering": "no" },
  });
}

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
export function completionBody(header: ChunkHeader, results: Collected[], promptTokens: number, choice: (r: Collected, index: number) => object) {
  return {
    ...header,
    choices: results.map(choice),
    usage: sumUsage(results.map(r => r.usage), promptTokens),
    timings: timingsJson(results[0]!.timings),
  };
}

/** How an endpoint writes a piece of a choice's text (chat: a delta; completions: text). */
export interface StreamShape {
  /** Sent for each choice before any text (chat's role delta, completions' echo), or null. */
  opening(index: number): object | null;
  /**
   * A choice carrying `text` (on the last one, with its finish_reason) and, when the request asked,
   * the log-probabilities of the tokens that arrived since the previous piece. Several choice
   * objects make one chunk each.
   */
  piece(index: number, text: string, finishReason: FinishReason | null, logprobs?: TokenLogprob[]): object | object[];
}

/**
 * Streams several generations as one SSE response, OpenAI's way: one header for all chunks,
 * text as it comes, the final text with finish_reason, an optional usage chunk, then [DONE].
 */
export function streamChoices(started: Started[], header: ChunkHeader, shape: StreamShape, usage: { include: boolean; promptTokens: number }): Response {
  // A chunk is the header's fields, then choices, then any extra fields: the header is
  // serialized once per response, not once per token.
  const head = JSON.stringify(header).slice(0, -1);
  const chunk = (choices: unknown[], extra?: object) => {
    const rest = extra ? JSON.stringify(extra).slice(1) : "}";
    return `${head},"choices":${JSON.stringify(choices)}${rest === "}" ? "" : ","}${rest}`;
  };
  const ctx = started[0]!.ctx;
  const controller = new AbortController();
  ctx.signal.addEventListener("abort", () => controller.abort(), { once: true });
  ctx.trace.streaming = true;
  return sseResponse(async send => {
    started.forEach((_, index) => {
      const opening = shape.opening(index);
      if (opening) send(chunk([opening]));
    });
    const usages: Usage[] = [];
    // Log-probabilities of tokens whose text is still held back wait for the next piece.
    const pending: Array<TokenLogprob[] | undefined> = started.map(() => undefined);
    const take = (index: number, ev: { logprobs?: TokenLogprob[] }) => {
      if (ev.logprobs) (pending[index] ??= []).push(...ev.logprobs);
      const out = pending[index];
      pending[index] = undefined;
      return out;
    };
    for await (const [index, ev] of merge(started)) {
      if (controller.signal.aborted) break;
      if (ev.kind === "text") {
        ctx.trace.tokens(ev.tokens.length);
        if (ev.text) for (const c of [shape.piece(index, ev.text, null, take(index, ev))].flat()) send(chunk([c]));
        else if (ev.logprobs) (pending[index] ??= []).push(...ev.logprobs);
      } else if (ev.kind === "done") {
        ctx.trace.tokens(ev.tokens.length);
        ctx.trace.usage(ev.usage, ev.finishReason);
        const last = [shape.piece(index, ev.text, ev.finishReason, take(index, ev))].flat();
        last.forEach((c, i) => send(chunk([c], index === 0 && i === last.length - 1 ? { timings: timingsJson(ev.timings) } : undefined)));
        usages.push(ev.usage);
        counters.usage(ev.usage);
      } else if (ev.kind === "error") {
        throw engineError(ev, ctx, null);
      }
    }
    // The timeout ends the stream with an error event; a client that left gets nothing more.
    if (timedOut(ctx.signal)) throw timeoutError();
    if (controller.signal.aborted) {
      ctx.trace.error ??= "client disconnected";
      return;
    }
    if (usage.include) send(chunk([], { usage: sumUsage(usages, usage.promptTokens) }));
    send("[DONE]");
  }, () => controller.abort(), ctx.maxStreamBufferBytes, ctx.trace);
}
