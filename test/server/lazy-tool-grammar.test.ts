// Through the server: a tool request whose model writes the Hermes trigger "<tool_call>" as plain
// text and completes it with a token the call grammar cannot take (">\n\n" where it wants ">\n{").
// llama.cpp throws on that token; before the shim caught it, the runner aborted and took the
// other request on the model with it. Now the token is refused, the call is made, the runner
// lives on and the stream beside it finishes. family-qwen: random weights, Qwen2.5's template
// (Hermes tool calls) and vocabulary; the tokens are forced by logit bias and a repeat penalty,
// greedy: "<" (+100) "tool" (+90) "_call" (+80) ">\n\n" (+70) ">\n" (+60) — each biased token,
// once used, falls to a tenth of its logit.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { basename } from "node:path";
import { LlamaModel } from "../../src/llama/index.ts";
import { generatedModel } from "../helpers/models.ts";
import { childPids, postJson, readSse, startHearth, type Running } from "../helpers/server.ts";

let server: Running;
let model: string;
const bias: Record<string, number> = {};

beforeAll(async () => {
  const path = await generatedModel("family-qwen");
  model = basename(path, ".gguf");
  const vocab = LlamaModel.load(path, { vocabOnly: true });
  for (const [text, value] of [["<", 100], ["tool", 90], ["_call", 80], [">\n\n", 70], [">\n", 60]] as const) {
    const ids = vocab.vocab.tokenize(text, false, false);
    if (ids.length !== 1) throw new Error(`${JSON.stringify(text)} is not one token of this vocabulary`);
    bias[String(ids[0])] = value;
  }
  vocab.dispose();
  server = await startHearth(["--model", path, "--parallel", "2", "--threads", "1", "--ctx-size", "4096"]);
}, 120_000);
afterAll(() => server?.stop());

test("a tool call whose trigger ends in a token the grammar refuses is made; the runner and the request beside it live on", async () => {
  const runners = childPids(server.proc.pid);
  // A long plain stream first, still running when the tool request reaches its trigger.
  const long = await postJson(`${server.url}/v1/completions`, { model, prompt: "Once upon a time", max_tokens: 400, ignore_eos: true, temperature: 0, stream: true });
  const reader = long.body!.getReader();
  await reader.read();
  const tool = await postJson(`${server.url}/v1/chat/completions`, {
    model,
    messages: [{ role: "user", content: "Call the tool." }],
    tools: [{ type: "function", function: { name: "ping", parameters: { type: "object", properties: {}, additionalProperties: false } } }],
    parallel_tool_calls: false,
    temperature: 0,
    repeat_penalty: 10,
    logit_bias: bias,
    max_tokens: 48,
  });
  expect(tool.status).toBe(200);
  const choice = ((await tool.json()) as any).choices[0];
  expect(choice.finish_reason).toBe("tool_calls");
  expect(choice.message.tool_calls.map((c: any) => [c.function.name, JSON.parse(c.function.arguments)])).toEqual([["ping", {}]]);

  let rest = "";
  for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
  const events = await readSse(new Response(rest));
  expect(events.at(-1)).toBe("[DONE]");
  const chunks = events.slice(0, -1).map(e => JSON.parse(e));
  expect(chunks.some(c => c.error)).toBe(false);
  expect(chunks.at(-1).choices[0].finish_reason).toBe("length");
  expect(childPids(server.proc.pid)).toEqual(runners);
}, 60_000);
