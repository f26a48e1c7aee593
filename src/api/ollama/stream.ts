// Ollama's streaming: NDJSON (`application/x-ndjson`), one object a line, each with `model` and
// `created_at`; the last one `done: true` with done_reason and the measurements. Tool calls go out
// whole (arguments as an object), in one object once the answer ends, since Ollama's clients read
// each call's arguments as one object. An error after the first line is a line `{"error": …}`.
import type { ToolCall } from "../../chat/tool-calls/types.ts";
import type { AnswerPiece } from "../chat-core/request.ts";
import { timedOut, timeoutError, type GenerationContext } from "../generation.ts";
import { sseResponse, type StreamFraming } from "../sse.ts";
import { ollamaErrorBody } from "./errors.ts";
import { assistantMessage, toolCallsJson } from "./message.ts";
import { createdAt, doneFields, type RequestClock } from "./timing.ts";

export const NDJSON: StreamFraming = { contentType: "application/x-ndjson", frame: payload => `${payload}\n` };

/** Objects written one a line, with Ollama's error line after the first byte. */
export function ndjsonResponse(produce: (send: (obj: object) => void) => Promise<void>, ctx: GenerationContext, onCancel: () => void): Response {
  ctx.trace.streaming = true;
  return sseResponse(send => produce(obj => send(obj)), onCancel, ctx.maxStreamBufferBytes, ctx.trace, e => [undefined, ollamaErrorBody(e)], NDJSON);
}

export interface StreamTarget {
  model: string;
  clock: RequestClock;
  /** /api/chat writes `message`; /api/generate writes `response` and `thinking`. */
  shape: "chat" | "generate";
  /** Runs after the last line (keep_alive 0 unloads the model here). */
  after?: () => Promise<void>;
}

/** One answer's pieces as Ollama's NDJSON stream. */
export function answerStream(pieces: AsyncIterable<AnswerPiece>, ctx: GenerationContext, target: StreamTarget): Response {
  const controller = new AbortController();
  ctx.signal.addEventListener("abort", () => controller.abort(), { once: true });
  const line = (content: string, thinking: string, calls: ToolCall[] = [], first = 0) =>
    target.shape === "chat"
      ? { model: target.model, created_at: createdAt(), message: assistantMessage(content, thinking, toolCallsJson(calls, first)) }
      : { model: target.model, created_at: createdAt(), response: content, ...(thinking ? { thinking } : {}) };
  return ndjsonResponse(
    async send => {
      // A call's pieces (start, argument text) gather here until the answer ends.
      const calls = new Map<number, ToolCall>();
      const it = pieces[Symbol.asyncIterator]();
      try {
        for (;;) {
          const r = await it.next();
          if (r.done || controller.signal.aborted) break;
          const { delta, done } = r.value;
          for (const c of delta.toolCalls) {
            const call = calls.get(c.index) ?? calls.set(c.index, { id: c.id ?? "", name: c.name ?? "", arguments: "" }).get(c.index)!;
            if (c.id) call.id = c.id;
            if (c.name) call.name = c.name;
            call.arguments += c.arguments;
          }
          if (delta.content || delta.reasoning) send({ ...line(delta.content, delta.reasoning), done: false });
          if (!done) continue;
          if (calls.size > 0 && target.shape === "chat") send({ ...line("", "", [...calls.values()]), done: false });
          send({ ...line("", ""), ...doneFields(done.finishReason, done.usage, done.timings, target.clock) });
        }
      } finally {
        await it.return?.();
        // keep_alive's step runs however the stream ended (a client gone, an engine error).
        await target.after?.().catch(() => {});
      }
      if (timedOut(ctx.signal)) throw timeoutError();
      if (controller.signal.aborted) ctx.trace.error ??= "client disconnected";
    },
    ctx,
    () => controller.abort(),
  );
}
