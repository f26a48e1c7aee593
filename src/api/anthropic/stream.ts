// Anthropic's streaming shape over SSE: message_start, then content blocks one after another
// (content_block_start, its deltas, content_block_stop; a thinking block ends with its
// signature_delta), then message_delta (stop reason, usage) and message_stop. `ping` events keep
// proxies and clients patient while a long prompt is prefilled.
import type { AnswerDelta } from "../../chat/answer-parser.ts";
import type { AnswerPiece } from "../chat-core/request.ts";
import { timedOut, timeoutError, type GenerationContext } from "../generation.ts";
import { sseResponse } from "../sse.ts";
import { anthropicErrorBody } from "./errors.ts";
import { stopReason, toolUseId, usageJson } from "./message.ts";

type Emit = (type: string, body: object) => void;

/** Writes an answer's deltas as content blocks, each opened when its kind of news starts. */
class BlockWriter {
  private index = -1;
  private open: { kind: "thinking"; text: string } | { kind: "text" } | { kind: "tool_use"; call: number } | null = null;

  constructor(
    private readonly emit: Emit,
    private readonly sign: (thinking: string) => string,
  ) {}

  write(d: AnswerDelta): void {
    if (d.reasoning) {
      if (this.open?.kind !== "thinking") this.start({ type: "thinking", thinking: "", signature: "" }, { kind: "thinking", text: "" });
      (this.open as { text: string }).text += d.reasoning;
      this.delta({ type: "thinking_delta", thinking: d.reasoning });
    }
    if (d.content) {
      if (this.open?.kind !== "text") this.start({ type: "text", text: "" }, { kind: "text" });
      this.delta({ type: "text_delta", text: d.content });
    }
    for (const c of d.toolCalls) {
      if (c.id !== undefined) this.start({ type: "tool_use", id: toolUseId(c.id), name: c.name, input: {} }, { kind: "tool_use", call: c.index });
      // A call's argument text arrives after its start, before the next call's.
      if (c.arguments && this.open?.kind === "tool_use" && this.open.call === c.index) this.delta({ type: "input_json_delta", partial_json: c.arguments });
    }
  }

  close(): void {
    if (!this.open) return;
    if (this.open.kind === "thinking") this.delta({ type: "signature_delta", signature: this.sign(this.open.text) });
    this.emit("content_block_stop", { index: this.index });
    this.open = null;
  }

  private start(block: object, open: NonNullable<BlockWriter["open"]>): void {
    this.close();
    this.index++;
    this.open = open;
    this.emit("content_block_start", { index: this.index, content_block: block });
  }

  private delta(delta: object): void {
    this.emit("content_block_delta", { index: this.index, delta });
  }
}

/** The next result of `it`, calling `tick` every `everyMs` while it is not there. */
async function awaitWithTicks<T>(next: Promise<T>, everyMs: number, tick: () => void): Promise<T> {
  for (;;) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">(resolve => (timer = setTimeout(() => resolve("late"), everyMs)));
    const result = await Promise.race([next, late]);
    clearTimeout(timer);
    if (result !== "late") return result as T;
    tick();
  }
}

export interface StreamStart {
  id: string;
  model: string;
  promptTokens: number;
  /** Milliseconds between pings while no other event is due. */
  pingMs: number;
  sign: (thinking: string) => string;
}

/** One choice's pieces as Anthropic's event stream. */
export function messageStream(pieces: AsyncIterable<AnswerPiece>, ctx: GenerationContext, start: StreamStart): Response {
  const controller = new AbortController();
  ctx.signal.addEventListener("abort", () => controller.abort(), { once: true });
  ctx.trace.streaming = true;
  return sseResponse(
    async send => {
      const emit: Emit = (type, body) => send({ type, ...body }, type);
      // The cached part of the prompt is known only at the end (message_delta's usage says it).
      const usage = { input_tokens: start.promptTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0 };
      const message = { id: start.id, type: "message", role: "assistant", model: start.model, content: [], stop_reason: null, stop_sequence: null, usage };
      emit("message_start", { message });
      emit("ping", {});
      const blocks = new BlockWriter(emit, start.sign);
      const it = pieces[Symbol.asyncIterator]();
      try {
        for (;;) {
          const r = await awaitWithTicks(it.next(), start.pingMs, () => emit("ping", {}));
          if (r.done || controller.signal.aborted) break;
          blocks.write(r.value.delta);
          const done = r.value.done;
          if (!done) continue;
          blocks.close();
          emit("message_delta", { delta: { stop_reason: stopReason(done.finishReason, done.stopSequence), stop_sequence: done.stopSequence }, usage: usageJson(done.usage) });
          emit("message_stop", {});
        }
      } finally {
        await it.return?.();
      }
      if (timedOut(ctx.signal)) throw timeoutError();
      if (controller.signal.aborted) ctx.trace.error ??= "client disconnected";
    },
    () => controller.abort(),
    ctx.maxStreamBufferBytes,
    ctx.trace,
    e => ["error", anthropicErrorBody(e)],
  );
}
