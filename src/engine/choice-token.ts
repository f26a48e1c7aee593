// What one sampled token does to a choice: it ends the turn, or becomes text (held back while it
// may start a stop string) with its log-probability when asked, and the choice ends at its
// max_tokens or its slot's context. The scheduler samples and owns the slots; this owns a
// choice's output.
import type { LlamaContext, Vocab } from "../llama/index.ts";
import { grammarStopOutcome } from "./grammar-sampling.ts";
import type { ActiveJob } from "./jobs.ts";
import type { EngineErrorCode, FinishReason, TokenLogprob } from "./types.ts";

/**
 * How the choice ends; null when it goes on (its nextToken is then set). `stopText` is the last
 * released text when a stop string ended it.
 */
export type TokenOutcome = null | { finish: FinishReason; stopText?: string } | { code: EngineErrorCode; error: string };

/** Takes `token` (a sample result: negative for a grammar stop) into the choice's output. */
export function takeToken(choice: ActiveJob, token: number, ctx: LlamaContext, vocab: Vocab, slotCtx: number): TokenOutcome {
  if (token < 0) return grammarStopOutcome(token);
  choice.generated++;
  const endsTurn = !choice.job.request.ignoreEos && (vocab.isEog(token) || choice.stopTokenIds.has(token));
  if (endsTurn) return { finish: "stop" };

  const logprob = choice.logprobs ? tokenLogprob(choice, token, ctx, vocab) : null;
  const special = choice.keptTokenIds.has(token);
  // A piece of whole characters goes in as the vocabulary's remembered text; bytes otherwise
  // (a character split over tokens), and with log-probabilities, which count the bytes.
  const whole = logprob || !choice.stream.takesText ? null : vocab.pieceText(token, special);
  let pushed;
  if (whole !== null) {
    pushed = choice.stream.pushText(whole);
  } else {
    // (pieceBytes reuses one buffer: take the piece after the alternatives' pieces.)
    const piece = vocab.pieceBytes(token, special);
    if (logprob) choice.logprobs!.add(logprob, piece.length);
    pushed = choice.stream.push(piece);
  }
  choice.tokens.push(token);
  if (pushed.text) choice.text += pushed.text;
  if (pushed.stopped) return { finish: "stop", stopText: pushed.text };
  if (choice.logprobs) choice.logprobsOut.push(...choice.logprobs.take(pushed.text));
  if (choice.generated >= choice.job.maxTokens || choice.slot.cached.length + 1 >= slotCtx) return { finish: "length" };
  choice.nextToken = token;
  return null;
}

/**
 * The sampled token's log-probability, with the top alternatives: under the model (raw logits), or
 * under the distribution it was drawn from when the request asks (post-sampling probabilities).
 */
function tokenLogprob(choice: ActiveJob, token: number, ctx: LlamaContext, vocab: Vocab): TokenLogprob {
  const k = choice.job.request.logprobs!;
  const { logprob, top } = choice.job.request.postSamplingProbs ? asLogprobs(choice.sampler.sampledProbs(token, k)) : ctx.logprobs(choice.batchIndex, token, k);
  const bytes = (t: number) => Array.from(vocab.pieceBytes(t));
  return { token, bytes: bytes(token), logprob, top: top.map(([t, lp]) => ({ token: t, bytes: bytes(t), logprob: lp })) };
}

function asLogprobs({ prob, top }: { prob: number; top: Array<[number, number]> }) {
  return { logprob: Math.log(prob), top: top.map(([t, p]): [number, number] => [t, Math.log(p)]) };
}
