// Runs a prepared chat on the engine and reads its answers, whole or as neutral pieces (text,
// reasoning and tool-call deltas), for any dialect to write in its own shapes.
import { AnswerParser, parseAnswer, type AnswerDelta } from "../../chat/answer-parser.ts";
import { JsonAnswerTrim } from "../../chat/json-answer.ts";
import type { FinishReason } from "../../engine/types.ts";
import { collect, startAll, textPieces, type GenerationContext, type Started } from "../generation.ts";
import type { AcquiredModel } from "../model-source.ts";
import type { PreparedChat } from "./prepare.ts";
import type { AnswerPiece, ChatAnswer, ChatFinishReason } from "./request.ts";

/** A finished call ends the turn with "tool_calls" (a cut-off one keeps "length"). */
const finishOf = (reason: FinishReason, calls: number): ChatFinishReason => (calls > 0 && reason === "stop" ? "tool_calls" : reason);

/** The request's own stop sequence that ended it (the template's stop strings are not the client's). */
const stopSequence = (prepared: PreparedChat, stopString: string | undefined) => (stopString !== undefined && prepared.stop.includes(stopString) ? stopString : null);

/**
 * Starts the generation (one prefill shared by its n choices) and waits until the engine accepts
 * it, so bad input or a full queue is an HTTP error before the first byte. One Started per choice.
 */
export async function startChat(model: AcquiredModel, prepared: PreparedChat, ctx: GenerationContext): Promise<Started[]> {
  const started = await startAll(model.engine, [prepared.generate], ctx, prepared.errorParams);
  ctx.trace.promptTokens = started[0]!.promptTokens;
  return started;
}

/** Every choice's whole answer. */
export async function collectAnswers(started: Started[], prepared: PreparedChat): Promise<ChatAnswer[]> {
  const results = await Promise.all(started.map(s => collect(s, prepared.errorParams)));
  return results.map((r, index) => {
    const a = prepared.plain ? { content: r.text, reasoning: "", toolCalls: [] } : parseAnswer(prepared.setup, r.text);
    if (prepared.jsonAfterThinking) {
      const trim = new JsonAnswerTrim();
      a.content = trim.push(a.content) + trim.end();
    }
    return {
      index,
      ...a,
      finishReason: finishOf(r.finishReason, a.toolCalls.length),
      stopSequence: stopSequence(prepared, r.stopString),
      ...(r.logprobs ? { logprobs: r.logprobs } : {}),
      usage: r.usage,
      timings: r.timings,
    };
  });
}

/** Every choice's answer as it streams, one parser per choice. */
export async function* answerPieces(started: Started[], prepared: PreparedChat): AsyncGenerator<AnswerPiece> {
  const parsers = new Map<number, AnswerParser>();
  const parser = (index: number) => parsers.get(index) ?? parsers.set(index, new AnswerParser(prepared.setup)).get(index)!;
  const trims = new Map<number, JsonAnswerTrim>();
  const trim = (index: number) => trims.get(index) ?? trims.set(index, new JsonAnswerTrim()).get(index)!;
  for await (const p of textPieces(started)) {
    const { index, logprobs } = p;
    const lp = logprobs ? { logprobs } : {};
    if (prepared.plain) {
      const delta: AnswerDelta = { content: p.text, reasoning: "", toolCalls: [] };
      yield { index, delta, ...lp, ...(p.done ? { done: { ...p.done, stopSequence: stopSequence(prepared, p.done.stopString) } } : {}) };
      continue;
    }
    const answer = parser(index);
    const delta = answer.push(p.text);
    if (!p.done) {
      if (prepared.jsonAfterThinking) delta.content = trim(index).push(delta.content);
      yield { index, delta, ...lp };
      continue;
    }
    const end = answer.end();
    delta.content += end.content;
    delta.reasoning += end.reasoning;
    delta.toolCalls.push(...end.toolCalls);
    if (prepared.jsonAfterThinking) delta.content = trim(index).push(delta.content) + trim(index).end();
    const finishReason = finishOf(p.done.finishReason, answer.toolCalls.length);
    yield { index, delta, ...lp, done: { ...p.done, finishReason, stopSequence: stopSequence(prepared, p.done.stopString) } };
  }
}
