// OpenAI's streaming shape over SSE: one chunk header for a response's chunks, each choice's text
// as it comes, the final text with finish_reason, an optional usage chunk, then [DONE]. Chat and
// text completions differ only in their StreamShape.
import type { FinishReason, TokenLogprob, Usage } from "../engine/types.ts";
import { engineError, merge, sumUsage, timedOut, timeoutError, timingsJson, type ChunkHeader, type Started } from "./generation.ts";
import { counters } from "./metrics.ts";
import { sseResponse } from "./sse.ts";

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
