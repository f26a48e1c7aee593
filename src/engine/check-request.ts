// Whether a request can run on this model at all, decided before it is queued: its prompt
// tokenizes, it fits one slot's context with what it may generate, n and top logprobs are in
// range, and llama.cpp takes its grammar. Nothing here depends on what else is running.
import type { Vocab } from "../llama/index.ts";
import { requestGrammarError } from "./grammar-sampling.ts";
import { promptTokens } from "./prompt-tokens.ts";
import { MAX_TOP_LOGPROBS, type EngineErrorCode, type GenerateRequest } from "./types.ts";

export interface RequestLimits {
  /** Tokens one request may hold (Scheduler.slotCtx). */
  slotCtx: number;
  /** Most choices one request may ask for. */
  maxChoices: number;
  /** Output limit of a request that sets none (-1 or absent: up to the end of the context). */
  nPredict?: number;
}

/** The request's prompt tokens and output limit, or the error it fails with. */
export function checkRequest(
  vocab: Vocab,
  request: GenerateRequest,
  limits: RequestLimits,
  /** The prompt already laid out with its images (image-prefill.ts), instead of tokenizing it here. */
  laidOut?: number[],
): { prompt: number[]; maxTokens: number } | { code: EngineErrorCode; message: string } {
  const invalid = (message: string) => ({ code: "invalid_request" as const, message });
  let prompt: number[];
  try {
    prompt = laidOut ?? promptTokens(vocab, request);
  } catch (err) {
    return invalid((err as Error).message);
  }
  const nCtx = limits.slotCtx;
  if (prompt.length === 0) return invalid("the prompt is empty");
  if (prompt.length >= nCtx) {
    return { code: "context_length_exceeded", message: `the prompt has ${prompt.length} tokens; this model's context holds ${nCtx}` };
  }
  const room = nCtx - prompt.length;
  const nPredict = limits.nPredict ?? -1;
  const maxTokens = request.maxTokens ?? (nPredict > 0 ? Math.min(nPredict, room) : room);
  if (prompt.length + maxTokens > nCtx) {
    return {
      code: "context_length_exceeded",
      message: `the prompt (${prompt.length} tokens) plus max_tokens (${maxTokens}) exceeds this model's context of ${nCtx} tokens`,
    };
  }
  const n = request.n ?? 1;
  if (!Number.isInteger(n) || n < 1 || n > limits.maxChoices) return invalid(`n must be between 1 and ${limits.maxChoices} for this model`);
  const k = request.logprobs;
  if (k !== undefined && (!Number.isInteger(k) || k < 0 || k > MAX_TOP_LOGPROBS)) return invalid(`top logprobs must be between 0 and ${MAX_TOP_LOGPROBS}`);
  const grammarWrong = requestGrammarError(vocab, request);
  if (grammarWrong) return { code: "invalid_grammar", message: grammarWrong };
  return { prompt, maxTokens };
}
