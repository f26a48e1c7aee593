// The Responses API's event stream over SSE: response.created and .in_progress, then output items
// one after another (output_item.added, their content parts and deltas, output_item.done), then
// response.completed or .incomplete with the whole response. Every event carries its
// sequence_number; item events their item_id, output_index and content_index, as strict clients
// (the openai SDK's accumulator, the AI SDK's schemas) check.
import type { AnswerDelta } from "../../chat/answer-parser.ts";
import type { AnswerPiece } from "../chat-core/request.ts";
import { timedOut, timeoutError, type GenerationContext } from "../generation.ts";
import { sseResponse } from "../sse.ts";
import { callItem, callPrefix, itemStatus, messageItem, newId, outputText, reasoningItem, responseObject, responseStatus, summaryText, usageJson, type ItemStatus, type ResponseHead } from "./output.ts";

type Emit = (type: string, body: object) => void;

type OpenItem =
  | { kind: "reasoning"; id: string; text: string }
  | { kind: "message"; id: string; text: string }
  | { kind: "call"; id: string; index: number; callId: string; name: string; args: string };

/** Writes an answer's deltas as output items, each opened when its kind of news starts. */
class ItemWriter {
  /** Finished items, in output_index order. */
  readonly output: Array<Record<string, unknown>> = [];
  private open: OpenItem | null = null;

  constructor(
    private readonly emit: Emit,
    private readonly head: ResponseHead,
  ) {}

  private get index() {
    return this.output.length;
  }

  write(d: AnswerDelta): void {
    if (d.reasoning) {
      if (this.open?.kind !== "reasoning") {
        this.start({ kind: "reasoning", id: newId("rs"), text: "" }, { type: "reasoning", summary: [], content: [] });
        this.emit("response.content_part.added", { ...this.at(), content_index: 0, part: { type: "reasoning_text", text: "" } });
        if (this.head.summarize) this.emit("response.reasoning_summary_part.added", { ...this.at(), summary_index: 0, part: summaryText("") });
      }
      (this.open as { text: string }).text += d.reasoning;
      this.emit("response.reasoning_text.delta", { ...this.at(), content_index: 0, delta: d.reasoning });
      if (this.head.summarize) this.emit("response.reasoning_summary_text.delta", { ...this.at(), summary_index: 0, delta: d.reasoning });
    }
    if (d.content) {
      if (this.open?.kind !== "message") {
        this.start({ kind: "message", id: newId("msg"), text: "" }, { type: "message", status: "in_progress", role: "assistant", content: [] });
        this.emit("response.content_part.added", { ...this.at(), content_index: 0, part: outputText("") });
      }
      (this.open as { text: string }).text += d.content;
      this.emit("response.output_text.delta", { ...this.at(), content_index: 0, delta: d.content, logprobs: [] });
    }
    for (const c of d.toolCalls) {
      if (c.id !== undefined) {
        const name = c.name ?? "";
        const open: OpenItem = { kind: "call", id: newId(callPrefix(this.head, name)), index: c.index, callId: c.id, name, args: "" };
        const { id: _, status: __, ...item } = callItem(this.head, open.id, { id: c.id, name: open.name, arguments: "" }, "in_progress");
        this.start(open, { ...item, status: "in_progress" });
      }
      // A call's argument text arrives after its start, before the next call's.
      const open = this.open;
      if (c.arguments && open?.kind === "call" && open.index === c.index) {
        open.args += c.arguments;
        // A custom tool's input is the free text inside the arguments: sent whole when the call ends.
        if (!this.head.custom.has(open.name)) this.emit("response.function_call_arguments.delta", { ...this.at(), delta: c.arguments });
      }
    }
  }

  /** Ends the open item (`status`: how the answer ended). */
  close(status: ItemStatus): void {
    const open = this.open;
    if (!open) return;
    this.open = null;
    const at = { item_id: open.id, output_index: this.index };
    let item: Record<string, unknown>;
    if (open.kind === "reasoning") {
      this.emit("response.reasoning_text.done", { ...at, content_index: 0, text: open.text });
      this.emit("response.content_part.done", { ...at, content_index: 0, part: { type: "reasoning_text", text: open.text } });
      if (this.head.summarize) {
        this.emit("response.reasoning_summary_text.done", { ...at, summary_index: 0, text: open.text });
        this.emit("response.reasoning_summary_part.done", { ...at, summary_index: 0, part: summaryText(open.text) });
      }
      item = reasoningItem(this.head, open.id, open.text);
    } else if (open.kind === "message") {
      this.emit("response.output_text.done", { ...at, content_index: 0, text: open.text, logprobs: [] });
      this.emit("response.content_part.done", { ...at, content_index: 0, part: outputText(open.text) });
      item = messageItem(open.id, open.text, status);
    } else {
      item = callItem(this.head, open.id, { id: open.callId, name: open.name, arguments: open.args }, status);
      if (item.type === "custom_tool_call") {
        if (item.input) this.emit("response.custom_tool_call_input.delta", { ...at, delta: item.input });
        this.emit("response.custom_tool_call_input.done", { ...at, input: item.input });
      } else {
        this.emit("response.function_call_arguments.done", { ...at, name: item.name, arguments: open.args });
      }
    }
    this.emit("response.output_item.done", { output_index: this.index, item });
    this.output.push(item);
  }

  /** An answer with nothing in it still has its (empty) message, as the JSON answer does. */
  ensureMessage(): void {
    if (this.output.length > 0 || this.open) return;
    this.start({ kind: "message", id: newId("msg"), text: "" }, { type: "message", status: "in_progress", role: "assistant", content: [] });
    this.emit("response.content_part.added", { ...this.at(), content_index: 0, part: outputText("") });
  }

  private at() {
    return { item_id: this.open!.id, output_index: this.index };
  }

  private start(open: OpenItem, item: Record<string, unknown>): void {
    this.close("completed");
    this.open = open;
    this.emit("response.output_item.added", { output_index: this.index, item: { id: open.id, ...item } });
  }
}

export interface StreamOptions {
  /** Tokens the reasoning text takes (for usage.output_tokens_details). */
  reasoningTokens: (text: string) => Promise<number>;
  /** Called with the finished response and its output (to store it). */
  onEnd: (response: Record<string, unknown>, output: Array<Record<string, unknown>>) => void;
}

/** One answer's pieces as the Responses event stream. */
export function responseStream(pieces: AsyncIterable<AnswerPiece>, ctx: GenerationContext, head: ResponseHead, options: StreamOptions): Response {
  const controller = new AbortController();
  ctx.signal.addEventListener("abort", () => controller.abort(), { once: true });
  ctx.trace.streaming = true;
  let sequence = 0;
  return sseResponse(
    async send => {
      const emit: Emit = (type, body) => send({ type, sequence_number: sequence++, ...body }, type);
      const pending = responseObject(head, "in_progress", [], null);
      emit("response.created", { response: pending });
      emit("response.in_progress", { response: pending });
      const items = new ItemWriter(emit, head);
      let reasoning = "";
      for await (const piece of pieces) {
        if (controller.signal.aborted) break;
        reasoning += piece.delta.reasoning;
        items.write(piece.delta);
        const done = piece.done;
        if (!done) continue;
        const status = responseStatus(done.finishReason, head.body);
        items.ensureMessage();
        items.close(itemStatus(done.finishReason));
        const usage = usageJson(done.usage, reasoning ? await options.reasoningTokens(reasoning) : 0);
        const response = responseObject(head, status, items.output, usage);
        emit(status === "incomplete" ? "response.incomplete" : "response.completed", { response });
        options.onEnd(response, items.output);
      }
      if (timedOut(ctx.signal)) throw timeoutError();
      if (controller.signal.aborted) ctx.trace.error ??= "client disconnected";
    },
    () => controller.abort(),
    ctx.maxStreamBufferBytes,
    ctx.trace,
    e => ["error", { type: "error", sequence_number: sequence++, code: e.code, message: e.message, param: e.param }],
  );
}
