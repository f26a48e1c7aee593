// The measurements Ollama's last chunk carries, in nanoseconds, from what was really measured:
// the request's own clock (total, model load) and the engine's timings for this generation
// (prompt evaluation, token generation). eval_count / eval_duration is the engine's own rate.
import type { Timings, Usage } from "../../engine/types.ts";
import type { ChatFinishReason } from "../chat-core/request.ts";

/** When the request started and how long getting its model took (ms, performance.now's clock). */
export class RequestClock {
  readonly start = performance.now();
  loadMs = 0;

  /** Runs `load` (the model's acquire), timing it as load_duration. */
  async load<T>(load: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await load();
    } finally {
      this.loadMs = performance.now() - t0;
    }
  }
}

const ns = (ms: number) => Math.round(ms * 1e6);

/** Ollama's done_reason: a turn that ended in tool calls ended with "stop", as Ollama says. */
export const doneReason = (reason: ChatFinishReason | "load" | "unload") => (reason === "tool_calls" ? "stop" : reason);

export interface DoneFields {
  done: true;
  done_reason: string;
  total_duration: number;
  load_duration: number;
  prompt_eval_count: number;
  prompt_eval_duration: number;
  eval_count: number;
  eval_duration: number;
}

export function doneFields(reason: ChatFinishReason, usage: Usage, timings: Timings, clock: RequestClock): DoneFields {
  return {
    done: true,
    done_reason: doneReason(reason),
    total_duration: ns(performance.now() - clock.start),
    load_duration: ns(clock.loadMs),
    prompt_eval_count: usage.promptTokens,
    prompt_eval_duration: ns(timings.promptMs),
    eval_count: timings.predictedN,
    eval_duration: ns(timings.predictedMs),
  };
}

/** The last (and only) object of a request that loaded or unloaded its model and generated nothing. */
export function lifecycleDone(reason: "load" | "unload", clock: RequestClock) {
  return { done: true, done_reason: reason, total_duration: ns(performance.now() - clock.start), load_duration: ns(clock.loadMs) };
}

export const createdAt = () => new Date().toISOString();
