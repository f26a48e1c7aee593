// Drives a Scheduler in-process for engine tests: greedy requests, stepped until every one ends.
import type { Scheduler } from "../../src/engine/scheduler.ts";
import type { GenerateEvent, GenerateRequest } from "../../src/engine/types.ts";

/** A greedy request with a fixed output length (ignore_eos), prompt caching on. */
export function greedyRequest(prompt: string, maxTokens: number): GenerateRequest {
  return {
    prompt: [{ text: prompt, parseSpecial: false }],
    addSpecial: true,
    maxTokens,
    stop: [],
    ignoreEos: true,
    cachePrompt: true,
    sampling: { temperature: 0, topK: 40, topP: 1, minP: 0, seed: 1, repeatPenalty: 1, presencePenalty: 0, frequencyPenalty: 0, penaltyLastN: 64, logitBias: [] },
  };
}

export interface Outcome {
  text: string;
  done?: Extract<GenerateEvent, { kind: "done" }>;
  error?: string;
}

/** Submits all requests at once and steps until every one has ended. */
export function runAll(scheduler: Scheduler, requests: GenerateRequest[]): Outcome[] {
  const out: Outcome[] = requests.map(() => ({ text: "" }));
  requests.forEach((r, i) =>
    scheduler.submit(`r${i}`, r, ev => {
      if (ev.kind === "text") out[i]!.text += ev.text;
      if (ev.kind === "done") {
        out[i]!.text += ev.text;
        out[i]!.done = ev;
      }
      if (ev.kind === "error") out[i]!.error = ev.message;
    }),
  );
  for (let steps = 0; scheduler.hasWork(); steps++) {
    scheduler.step();
    if (steps > 10_000) throw new Error("scheduler did not finish");
  }
  return out;
}
