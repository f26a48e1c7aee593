// A chat answer on the wire: the message of a JSON response, and the deltas of a stream, with
// reasoning in `reasoning_content` and calls in `tool_calls` (OpenAI's shapes).
import { AnswerParser, parseAnswer, type AnswerDelta, type AnswerSetup } from "../../chat/answer-parser.ts";
import type { ToolCall } from "../../chat/tool-calls/types.ts";
import type { FinishReason } from "../../engine/types.ts";
import type { StreamShape } from "../stream-choices.ts";

const wireCall = (c: ToolCall) => ({ id: c.id, type: "function" as const, function: { name: c.name, arguments: c.arguments } });

/** A finished call ends the turn with "tool_calls" (a cut-off one keeps "length"). */
const finishOf = (reason: FinishReason, calls: number) => (calls > 0 && reason === "stop" ? "tool_calls" : reason);

/** The choice of a non-stream response. */
export function answerChoice(setup: AnswerSetup, text: string, reason: FinishReason, index: number) {
  const a = parseAnswer(setup, text);
  const message: Record<string, unknown> = { role: "assistant", content: a.toolCalls.length > 0 && !a.content ? null : a.content };
  if (a.reasoning) message.reasoning_content = a.reasoning;
  if (a.toolCalls.length > 0) message.tool_calls = a.toolCalls.map(wireCall);
  return { index, message, logprobs: null, finish_reason: finishOf(reason, a.toolCalls.length) };
}

/** Stream chunks' choices, with one parser per choice. */
export function answerStreamShape(setup: AnswerSetup): StreamShape {
  const parsers = new Map<number, AnswerParser>();
  const parser = (index: number) => parsers.get(index) ?? parsers.set(index, new AnswerParser(setup)).get(index)!;
  const choice = (index: number, delta: object, finishReason: string | null = null) => ({ index, delta, logprobs: null, finish_reason: finishReason });
  return {
    opening: index => choice(index, { role: "assistant", content: "" }),
    piece(index, text, finishReason) {
      const p = parser(index);
      const d = p.push(text);
      if (finishReason) {
        const e = p.end();
        d.content += e.content;
        d.reasoning += e.reasoning;
        d.toolCalls.push(...e.toolCalls);
      }
      const out = deltas(d).map(delta => choice(index, delta));
      if (finishReason) out.push(choice(index, {}, finishOf(finishReason, p.toolCalls.length)));
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
