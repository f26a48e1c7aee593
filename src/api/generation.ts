// Runs one or more engine generations for a request and turns their events into results or a
// merged stream. Shared by the chat and text completion endpoints.
import type { Engine, FinishReason, GenerateEvent, GenerateRequest, Timings, Usage } from "../engine/types.ts";
import { ApiError, fromEngineError, type ErrorParams } from "./errors.ts";
import { counters } from "./metrics.ts";

export interface Started {
  events: AsyncIterator<GenerateEvent>;
  promptTokens: number;
}

/**
 * Starts every generation and waits for each to be accepted, so that bad input or a full queue
 * becomes an HTTP error before the first byte of the response. On failure the others are cancelled.
 */
export async function startAll(engine: Engine, requests: GenerateRequest[], signal: AbortSignal, params: ErrorParams): Promise<Started[]> {
  const controller = new AbortController();
  const abort = () => controller.abort();
  signal.addEventListener("abort", abort, { once: true });
  const started = requests.map(r => engine.generate(r, controller.signal)[Symbol.asyncIterator]());
  const firsts = await Promise.all(started.map(it => it.next()));
  const failed = firsts.find(f => f.done || f.value.kind === "error");
  if (failed) {
    controller.abort();
    await Promise.all(started.map(it => it.return?.()));
    if (failed.done) throw new ApiError(500, "the engine ended the request without an answer");
    const ev = failed.value as Extract<GenerateEvent, { kind: "error" }>;
    throw fromEngineError(ev.code, ev.message, params);
  }
  return started.map((events, i) => ({
    events,
    promptTokens: (firsts[i]!.value as Extract<GenerateEvent, { kind: "accepted" }>).promptTokens,
  }));
}

export interface Collected {
  text: string;
  tokens: number[];
  finishReason: FinishReason;
  usage: Usage;
  timings: Timings;
}

/** Reads one generation to its end. */
export async function collect(started: Started, params: ErrorParams): Promise<Collected> {
  let text = "";
  const tokens: number[] = [];
  for (;;) {
    const { value, done } = await started.events.next();
    if (done) throw new ApiError(500, "the engine ended the request without an answer");
    if (value.kind === "text") {
      text += value.text;
      tokens.push(...value.tokens);
    } else if (value.kind === "done") {
      text += value.text;
      tokens.push(...value.tokens);
      counters.usage(value.usage);
      return { text, tokens, finishReason: value.finishReason, usage: value.usage, timings: value.timings };
    } else if (value.kind === "error") {
      throw fromEngineError(value.code, value.message, params);
    }
  }
}

/** Interleaves several generations' events as they arrive, tagged with their choice index. */
export async function* merge(all: Started[]): AsyncGenerator<[number, GenerateEvent]> {
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

/** llama-server's `timings` object. */
export function timingsJson(t: Timings) {
  return {
    prompt_n: t.promptN,
    prompt_ms: round(t.promptMs),
    prompt_per_token_ms: t.promptN ? round(t.promptMs / t.promptN) : 0,
    prompt_per_second: t.promptMs > 0 ? round((t.promptN * 1000) / t.promptMs) : 0,
    predicted_n: t.predictedN,
    predicted_ms: round(t.predictedMs),
    predicted_per_token_ms: t.predictedN ? round(t.predictedMs / t.predictedN) : 0,
    predicted_per_second: t.predictedMs > 0 ? round((t.predictedN * 1000) / t.predictedMs) : 0,
  };
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/** A Server-Sent Events response whose body is produced by `produce`; flushed per chunk. */
export function sseResponse(produce: (send: (data: unknown) => void) => Promise<void>, onCancel: () => void): Response {
  const encoder = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (data: unknown) => {
        const payload = typeof data === "string" ? data : JSON.stringify(data);
        try {
          controller.enqueue(encoder.encode(`data: ${payload}\n\n`));
        } catch {
          /* the client is gone; the producer stops on the abort signal */
        }
      };
      try {
        await produce(send);
      } catch (err) {
        // After the first byte an error can only be an event (OpenAI's shape), then the end.
        const e = err instanceof ApiError ? err : new ApiError(500, "internal error while streaming");
        send({ error: { message: e.message, type: e.type, param: e.param, code: e.code } });
      }
      try {
        controller.close();
      } catch {
        /* already closed by a cancel */
      }
    },
    cancel() {
      onCancel();
    },
  });
  return new Response(stream, {
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
  /** A choice carrying `text` (on the last one, with its finish_reason). */
  piece(index: number, text: string, finishReason: FinishReason | null): object;
}

/**
 * Streams several generations as one SSE response, OpenAI's way: one header for all chunks,
 * text as it comes, the final text with finish_reason, an optional usage chunk, then [DONE].
 */
export function streamChoices(started: Started[], header: ChunkHeader, shape: StreamShape, usage: { include: boolean; promptTokens: number }, signal: AbortSignal): Response {
  const chunk = (choices: unknown[], extra: object = {}) => ({ ...header, choices, ...extra });
  const controller = new AbortController();
  signal.addEventListener("abort", () => controller.abort(), { once: true });
  return sseResponse(async send => {
    started.forEach((_, index) => {
      const opening = shape.opening(index);
      if (opening) send(chunk([opening]));
    });
    const usages: Usage[] = [];
    for await (const [index, ev] of merge(started)) {
      if (controller.signal.aborted) break;
      if (ev.kind === "text") {
        if (ev.text) send(chunk([shape.piece(index, ev.text, null)]));
      } else if (ev.kind === "done") {
        send(chunk([shape.piece(index, ev.text, ev.finishReason)], index === 0 ? { timings: timingsJson(ev.timings) } : {}));
        usages.push(ev.usage);
        counters.usage(ev.usage);
      } else if (ev.kind === "error") {
        throw fromEngineError(ev.code, ev.message, null);
      }
    }
    if (controller.signal.aborted) return;
    if (usage.include) send(chunk([], { usage: sumUsage(usages, usage.promptTokens) }));
    send("[DONE]");
  }, () => controller.abort());
}
