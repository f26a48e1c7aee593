// llama_decode returning non-zero (here: aborted through the context's abort callback, a real
// failure path in llama.cpp): the jobs in that batch fail cleanly with engine_failure, their KV
// is dropped, and the next request is served exactly as on a fresh scheduler.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Scheduler } from "../../src/engine/scheduler.ts";
import type { GenerateEvent, GenerateRequest } from "../../src/engine/types.ts";
import { LlamaModel } from "../../src/llama/index.ts";
import { generatedModel } from "../helpers/models.ts";

let model: LlamaModel;
beforeAll(async () => {
  model = LlamaModel.load(await generatedModel("tiny-qwen2"));
});
afterAll(() => model?.dispose());

const request = (prompt: string): GenerateRequest => ({
  prompt: [{ text: prompt, parseSpecial: false }],
  addSpecial: true,
  maxTokens: 24,
  stop: [],
  ignoreEos: true,
  cachePrompt: true,
  sampling: { temperature: 0, topK: 40, topP: 1, minP: 0, seed: 1, repeatPenalty: 1, presencePenalty: 0, frequencyPenalty: 0, penaltyLastN: 64, logitBias: [] },
});

function run(scheduler: Scheduler, id: string, r: GenerateRequest, beforeStep?: (step: number) => void) {
  const out: { text: string; error?: { code: string; message: string }; done?: boolean } = { text: "" };
  scheduler.submit(id, r, (ev: GenerateEvent) => {
    if (ev.kind === "text" || ev.kind === "done") out.text += ev.text;
    if (ev.kind === "done") out.done = true;
    if (ev.kind === "error") out.error = { code: ev.code, message: ev.message };
  });
  for (let step = 0; scheduler.hasWork(); step++) {
    beforeStep?.(step);
    scheduler.step();
    if (step > 1000) throw new Error("did not finish");
  }
  return out;
}

const options = { nCtx: 1024, parallel: 2, nBatch: 64, threads: 1, queueSize: 4 };
const prompt = "The failure of one decode must not poison the next request. ".repeat(4);

test("an aborted llama_decode fails the request in that batch; the next one is served as on a fresh scheduler", () => {
  const control = new Scheduler(model, options);
  const expected = run(control, "c", request(prompt));
  control.dispose();
  expect(expected.done).toBe(true);

  const abortFlag = new Int32Array(1);
  const scheduler = new Scheduler(model, { ...options, abortFlag });
  // Abort the third step (mid-prefill: the prompt spans several 64-token batches).
  const failed = run(scheduler, "a", request(prompt), step => (abortFlag[0] = step === 2 ? 1 : 0));
  expect(failed.error?.code).toBe("engine_failure");
  expect(failed.error?.message).toContain("decode");
  expect(failed.done).toBeUndefined();
  expect(scheduler.slotsBusy).toBe(0);
  expect(scheduler.kvTokens).toBe(0);

  abortFlag[0] = 0;
  const after = run(scheduler, "b", request(prompt));
  expect(after.error).toBeUndefined();
  expect(after.text).toBe(expected.text);
  scheduler.dispose();
});
