// What the scheduler keeps per request, per running choice and per slot, and the events a
// choice's state becomes.
import type { Vocab } from "../llama/index.ts";
import { cellsUpTo, type ImagePrompt } from "./image-prompt.ts";
import { choiceSampler, controlTokenIds } from "./job-sampler.ts";
import { LogprobTrail } from "./logprobs.ts";
import { TextStream } from "./text-stream.ts";
import type { ChoiceSampler } from "./thinking-budget.ts";
import type { FinishReason, GenerateEvent, GenerateRequest, TokenLogprob } from "./types.ts";

export type Emit = (event: GenerateEvent) => void;

/** A request as submitted: tokenized and checked. Waits in the queue, then its choices share it. */
export interface Job {
  id: string;
  request: GenerateRequest;
  prompt: number[];
  maxTokens: number;
  emit: Emit;
  /** The request's images and where they sit in `prompt` (image-prefill.ts). */
  media?: ImagePrompt;
}

/** The choices of one request: one error ends them all, and only the first error is reported. */
export interface Group {
  n: number;
  members: ActiveJob[];
  failed: boolean;
}

/** One llama sequence id and what it holds. */
export interface Slot {
  seq: number;
  /** Tokens whose KV entries sequence `seq` holds, in order. */
  cached: number[];
  /** The scheduler's use counter when a job last took or left this slot: a count, not a time (larger = more recent). */
  lastUseTick: number;
  /** Value of the scheduler's processed-token clock when the slot's last job ended. */
  idleSince: number;
  /** The choice running here; null while the slot is idle. */
  choice: ActiveJob | null;
}

/** One choice of a request, running in a slot. */
export interface ActiveJob {
  /** The request, as queued (put back in the queue as it is when its prefill must wait). */
  job: Job;
  /** Stops at the next step (cancelled, or another choice of the request failed). */
  cancelled: boolean;
  slot: Slot;
  /** Choice index (0 for the job that prefills the prompt). */
  index: number;
  group: Group;
  /** Log-probabilities not yet sent (null when the request did not ask). */
  logprobs: LogprobTrail<TokenLogprob> | null;
  /** Released by the trail, to go out with the next event. */
  logprobsOut: TokenLogprob[];
  /** Next prompt index to decode. */
  promptPos: number;
  cachedTokens: number;
  sampler: ChoiceSampler;
  stream: TextStream;
  stopTokenIds: Set<number>;
  /** Control tokens rendered as their text (the chat layer parses them: tool calls, channels). */
  keptTokenIds: Set<number>;
  /** KV cells this job may come to hold beyond what it shares with others (for admission). */
  reserved: number;
  /** Waiting for another job's prefill to reach `upTo` tokens of a prefix both prompts share. */
  donor: { choice: ActiveJob; upTo: number } | null;
  /** Sampled but not yet decoded; -1 while prefilling. */
  nextToken: number;
  generated: number;
  /** Batch index whose logits this job samples from after the current decode; -1 if none. */
  batchIndex: number;
  /** Text and tokens produced since the last event. */
  text: string;
  tokens: number[];
  promptStart: number;
  promptEnd: number;
}

export const emptySlot = (seq: number): Slot => ({ seq, cached: [], lastUseTick: 0, idleSince: 0, choice: null });

/** A job's running state in `slot`, as choice `index` of `group`, with its own sampler. */
export function activate(job: Job, slot: Slot, index: number, group: Group, vocab: Vocab, eogTokens: readonly number[]): ActiveJob {
  const active: ActiveJob = {
    job,
    cancelled: false,
    slot,
    index,
    group,
    logprobs: job.request.logprobs === undefined ? null : new LogprobTrail(),
    logprobsOut: [],
    promptPos: 0,
    cachedTokens: 0,
    sampler: choiceSampler(vocab, job.request, eogTokens, index),
    stream: new TextStream(job.request.stop),
    stopTokenIds: controlTokenIds(vocab, job.request.stopTokens),
    keptTokenIds: controlTokenIds(vocab, job.request.preserveTokens),
    donor: null,
    reserved: 0,
    nextToken: -1,
    generated: 0,
    batchIndex: -1,
    text: "",
    tokens: [],
    promptStart: 0,
    promptEnd: 0,
  };
  group.members.push(active);
  return active;
}

/** The text event for what the choice produced since its last one, or null if nothing. */
export function takeTextEvent(choice: ActiveJob): GenerateEvent | null {
  if (!choice.text && choice.tokens.length === 0) return null;
  const event: GenerateEvent = { kind: "text", index: choice.index, text: choice.text, tokens: choice.tokens, ...(choice.logprobs ? { logprobs: choice.logprobsOut } : {}) };
  choice.text = "";
  choice.tokens = [];
  choice.logprobsOut = [];
  return event;
}

/**
 * The choice's last event, after its held-back text is flushed; `stopText` is the last released
 * text when a stop string ended it. The prompt counts once, on choice 0.
 */
export function doneEvent(choice: ActiveJob, reason: FinishReason, stopText?: string): GenerateEvent {
  const rest = choice.stream.flush();
  choice.text += rest;
  if (choice.logprobs) choice.logprobsOut.push(...choice.logprobs.finish((stopText ?? "") + rest, stopText !== undefined));
  const now = performance.now();
  const first = choice.index === 0;
  return {
    kind: "done",
    index: choice.index,
    text: choice.text,
    tokens: choice.tokens,
    ...(choice.logprobs ? { logprobs: choice.logprobsOut } : {}),
    finishReason: reason,
    ...(choice.stream.matched !== null ? { stopString: choice.stream.matched } : {}),
    usage: {
      promptTokens: first ? cellsUpTo(choice.job.media, choice.job.prompt.length) : 0,
      completionTokens: choice.generated,
      cachedTokens: first ? cellsUpTo(choice.job.media, choice.cachedTokens) : 0,
      ...(choice.sampler.thinkingTokens !== undefined ? { reasoningTokens: choice.sampler.thinkingTokens } : {}),
    },
    timings: {
      promptN: first ? cellsUpTo(choice.job.media, choice.job.prompt.length) - cellsUpTo(choice.job.media, choice.cachedTokens) : 0,
      promptMs: choice.promptEnd - choice.promptStart,
      predictedN: choice.generated,
      predictedMs: now - choice.promptEnd,
    },
  };
}

/** Cells reserved for a request that did not give max_tokens (it may run to the context's end). */
const UNBOUNDED_RESERVE = 256;

/** KV cells a job may come to hold: its prompt, and what each of its choices may generate. */
export function reservation(job: Job): number {
  // Choices share the prompt's cells; each generates its own.
  const each = job.request.maxTokens === null ? Math.min(job.maxTokens, UNBOUNDED_RESERVE) : job.maxTokens;
  return cellsUpTo(job.media, job.prompt.length) + (job.request.n ?? 1) * each;
}
