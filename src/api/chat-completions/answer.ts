// The chat core's answers in OpenAI's chat shapes: the message of a JSON response, and the deltas
// of a stream, with reasoning in `reasoning_content` and calls in `tool_calls`.
import type { AnswerDelta } from "../../chat/answer-parser.ts";
import type { ToolCall } from "../../chat/tool-calls/types.ts";
import type { AnswerPiece, ChatAnswer } from "../chat-core/request.ts";
import { chatLogprobs } from "../logprobs.ts";
import type { StreamShape } from "../stream-choices.ts";

const wireCall = (c: ToolCall) => ({ id: c.id, type: "function" as const, function: { name: c.name, arguments: c.arguments } });

/** The choice of a non-stream response. */
export function answerChoice(a: ChatAnswer) {
  const message: Record<string, unknown> = { role: "assistant", content: a.toolCalls.length > 0 && !a.content ? null : a.content };
  if (a.reasoning) message.reasoning_content = a.reasoning;
  if (a.toolCalls.length > 0) message.tool_calls = a.toolCalls.map(wireCall);
  return { index: a.index, message, logprobs: chatLogprobs(a.logprobs), finish_reason: a.finishReason };
}

const opening = (index: number) => ({ index, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null });

/**
 * Stream chunks' choices. Plain answers (nothing to split) keep the text's own pieces: the final
 * text travels with finish_reason, an empty final delta is {} as OpenAI sends it. Split answers
 * send one delta per kind of news, then finish_reason in a delta of its own.
 */
export function answerStreamShape(plain: boolean): StreamShape<AnswerPiece> {
  if (plain) {
    return {
      opening,
      piece: ({ index, delta: { content }, logprobs, done }) => ({
        index,
        delta: content || !done ? { content } : {},
        logprobs: chatLogprobs(logprobs),
        finish_reason: done?.finishReason ?? null,
      }),
    };
  }
  const choice = (index: number, delta: object, finishReason: string | null = null) => ({ index, delta, logprobs: null, finish_reason: finishReason });
  return {
    opening,
    piece({ index, delta, done }) {
      const out = deltas(delta).map(d => choice(index, d));
      if (done) out.push(choice(index, {}, done.finishReason));
      return out;
    },
  };
}

/** One delta per kind of news, in the order a reader expects: thinking, text, calls. */
function deltas(d: AnswerDelta): object[] {
  const out: object[] = [];
  if (d.reasoning) out.push({ reasoning_content: d.reasoning });
  if (d.content) out.push({ content: d.content });
  if (d.toolCalls.length > 0) {
    out.push({
      tool_calls: d.toolCalls.map(c =>
        c.id !== undefined
          ? { index: c.index, id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } }
          : { index: c.index, function: { arguments: c.arguments } },
      ),
    });
  }
  return out;
}
