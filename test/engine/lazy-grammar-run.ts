// Child process of lazy-grammar.test.ts: runs a Scheduler on one model with a tool-call request
// whose lazy grammar is triggered by a token that completes the trigger word and carries more
// text than the grammar allows there, beside a plain request. Prints each outcome as JSON. Run
// apart from the test process: before the fix, llama.cpp's exception aborted this process.
import { Scheduler } from "../../src/engine/scheduler.ts";
import type { GenerateRequest } from "../../src/engine/types.ts";
import { LlamaModel } from "../../src/llama/index.ts";
import { runAll } from "./scheduler-driver.ts";

const [modelPath, requestsJson] = process.argv.slice(2);
const model = LlamaModel.load(modelPath!);
const scheduler = new Scheduler(model, { nCtx: 1024, parallel: 2, nBatch: 64, threads: 1, queueSize: 4 });
const outcomes = runAll(scheduler, JSON.parse(requestsJson!) as GenerateRequest[]);
console.log(JSON.stringify(outcomes.map(o => ({ text: o.text, error: o.error, finish: o.done?.finishReason }))));
scheduler.dispose();
model.dispose();
