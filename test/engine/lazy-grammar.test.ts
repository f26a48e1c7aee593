// A lazy tool-call grammar whose trigger the model writes as plain text, completed by a token that
// carries more than the grammar allows there ("<tool_call" + ">\n\n" against "<tool_call>\n{").
// llama.cpp throws on that token through its C API, which aborted the runner and every request on
// its model. The shim now refuses the token, the chain picks again, and the call goes on.
// On tiny-qwen2 (Qwen2 vocabulary, random weights); the tokens are forced by logit bias and a
// repeat penalty, greedy: "<" (+100) "tool" (+90) "_call" (+80) ">\n\n" (+70) ">\n" (+60) — each
// biased token, once used, falls to a tenth of its logit.
import { beforeAll, expect, test } from "bun:test";
import type { GenerateRequest } from "../../src/engine/types.ts";
import { LlamaModel } from "../../src/llama/index.ts";
import { generatedModel } from "../helpers/models.ts";
import { greedyRequest } from "./scheduler-driver.ts";

let modelPath: string;
let tokens: Record<string, number>;
beforeAll(async () => {
  modelPath = await generatedModel("tiny-qwen2");
  const model = LlamaModel.load(modelPath, { vocabOnly: true });
  const one = (text: string) => {
    const ids = model.vocab.tokenize(text, false, false);
    if (ids.length !== 1) throw new Error(`${JSON.stringify(text)} is not one token of this vocabulary`);
    return ids[0]!;
  };
  tokens = Object.fromEntries(["<", "tool", "_call", ">\n\n", ">\n"].map(t => [t, one(t)]));
  model.dispose();
});

const HERMES = 'root ::= "<tool_call>\\n" "{}" "\\n</tool_call>"';

function toolRequest(): GenerateRequest {
  const r = greedyRequest("Call the tool.", 16);
  const bias: Array<[number, number]> = [["<", 100], ["tool", 90], ["_call", 80], [">\n\n", 70], [">\n", 60]].map(([t, b]) => [tokens[t as string]!, b as number]);
  return {
    ...r,
    ignoreEos: false,
    grammar: { gbnf: HERMES, lazy: { words: ["<tool_call>"], tokens: [] } },
    sampling: { ...r.sampling, repeatPenalty: 10, logitBias: bias },
  };
}

function runChild(requests: GenerateRequest[]) {
  const proc = Bun.spawnSync([process.execPath, `${import.meta.dir}/lazy-grammar-run.ts`, modelPath, JSON.stringify(requests)], {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, HEARTH_LOG_LEVEL: "error" },
  });
  return { exitCode: proc.exitCode, signal: proc.signalCode ?? null, stderr: proc.stderr.toString(), outcomes: proc.success ? JSON.parse(proc.stdout.toString()) : null };
}

test("a trigger completed by a token the grammar cannot take: the token is refused, the call goes on, the plain request beside it finishes", () => {
  const run = runChild([toolRequest(), greedyRequest("Once upon a time", 24)]);
  expect({ signal: run.signal, exitCode: run.exitCode }).toEqual({ signal: null, exitCode: 0 });
  const [tool, plain] = run.outcomes;
  // ">\n\n" was refused; ">\n" completed the trigger; the grammar wrote the rest and ended the turn.
  expect(tool).toEqual({ text: "<tool_call>\n{}\n</tool_call>", finish: "stop" });
  expect(plain.error).toBeUndefined();
  expect(plain.finish).toBe("length");
}, 60_000);
