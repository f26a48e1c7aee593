// A thinking budget on a reasoning model (random-weight DeepSeek-R1-distill template, whose prompt
// opens the thinking): the budget closes the thinking and the answer that follows keeps its
// constraint — a JSON schema or a forced tool call — over many seeds at temperature 0.8. The budget
// comes through each dialect's own field (chat completions, Anthropic Messages, Responses), and
// from --reasoning-budget and hearth.json when the request sets none.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Ajv2020 from "ajv/dist/2020";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { compatModel, tinyGptOssArgs } from "../compat/models.ts";
import { generatedModel } from "../helpers/models.ts";
import { postJson, readSse, startHearth, type Running } from "../helpers/server.ts";

const ajv = new Ajv2020({ strict: false });
const schema = {
  type: "object",
  properties: { name: { type: "string", maxLength: 12 }, n: { type: "integer", minimum: 0, maximum: 99 } },
  required: ["name", "n"],
};
const tool = {
  type: "function",
  function: { name: "lookup", description: "Look a word up", parameters: { type: "object", properties: { word: { type: "string", maxLength: 12 } }, required: ["word"] } },
};
const seeds = Array.from({ length: 20 }, (_, i) => i + 1);
const messages = [{ role: "user", content: "Hi" }];

let hearth: Running;
let model: string;
beforeAll(async () => {
  const path = await generatedModel("family-deepseek-r1");
  model = basename(path, ".gguf");
  hearth = await startHearth(["--model", path, "--threads", "1", "--parallel", "4", "--ctx-size", "4096", "--reasoning-budget", "8"]);
}, 90_000);
afterAll(async () => {
  await hearth?.stop();
});

const chat = (body: object) => postJson(`${hearth.url}/v1/chat/completions`, { model, messages, ...body }).then(r => r.json() as Promise<any>);
/** Thinking tokens the model wrote (DeepSeek-R1's prompt writes the first, its "\n": it counts against the budget too). */
const thought = (r: any) => r.usage.completion_tokens_details.reasoning_tokens as number;

describe("budget 16 at temperature 0.8, 20 seeds", () => {
  test("a bounded JSON schema: stop answers parse and validate, thinking within budget", async () => {
    const results = await Promise.all(seeds.map(seed => chat({ temperature: 0.8, seed, max_tokens: 200, thinking_budget_tokens: 16, response_format: { type: "json_schema", json_schema: { name: "r", schema } } })));
    const validate = ajv.compile(schema);
    const stops = results.filter(r => r.choices[0].finish_reason === "stop");
    expect(stops.length).toBeGreaterThanOrEqual(15);
    for (const r of stops) {
      const value = JSON.parse(r.choices[0].message.content);
      expect(validate(value)).toBe(true);
    }
    for (const r of results) {
      expect(r.choices[0].message.reasoning_content.length).toBeGreaterThan(0);
      expect(thought(r)).toBeLessThanOrEqual(16);
    }
  }, 60_000);

  test("a forced tool call: calls that parse and validate, thinking within budget", async () => {
    const results = await Promise.all(seeds.map(seed => chat({ temperature: 0.8, seed, max_tokens: 200, thinking_budget_tokens: 16, tools: [tool], tool_choice: "required", parallel_tool_calls: false })));
    const validate = ajv.compile(tool.function.parameters);
    const calls = results.filter(r => r.choices[0].finish_reason === "tool_calls");
    expect(calls.length).toBeGreaterThanOrEqual(15);
    for (const r of calls) {
      const call = r.choices[0].message.tool_calls[0];
      expect(call.function.name).toBe("lookup");
      expect(validate(JSON.parse(call.function.arguments))).toBe(true);
    }
    for (const r of results) expect(thought(r)).toBeLessThanOrEqual(16);
  }, 60_000);
});

test("streamed, the same thinking and answer as whole, and the usage chunk counts the thinking", async () => {
  const body = { temperature: 0, max_tokens: 120, thinking_budget_tokens: 16, response_format: { type: "json_schema", json_schema: { name: "r", schema } } };
  const whole = await chat(body);
  const events = await readSse(await postJson(`${hearth.url}/v1/chat/completions`, { model, messages, ...body, stream: true, stream_options: { include_usage: true } }));
  const chunks = events.filter(e => e !== "[DONE]").map(e => JSON.parse(e));
  const joined = { content: "", reasoning: "" };
  for (const c of chunks) {
    joined.content += c.choices[0]?.delta?.content ?? "";
    joined.reasoning += c.choices[0]?.delta?.reasoning_content ?? "";
  }
  expect(joined).toEqual({ content: whole.choices[0].message.content, reasoning: whole.choices[0].message.reasoning_content });
  expect(chunks.at(-1).usage.completion_tokens_details.reasoning_tokens).toBe(thought(whole));
});

describe("the budget through each dialect", () => {
  const greedy = { temperature: 0, max_tokens: 300 };

  test("chat completions: reasoning_budget_tokens wins over thinking_budget_tokens; reasoning_effort none is no thinking", async () => {
    const both = await chat({ ...greedy, reasoning_budget_tokens: 5, thinking_budget_tokens: 40 });
    const alone = await chat({ ...greedy, thinking_budget_tokens: 5 });
    expect(thought(both)).toBe(4);
    expect(both.choices[0].message).toEqual(alone.choices[0].message);
    const none = await chat({ ...greedy, reasoning_effort: "none" });
    expect(thought(none)).toBe(0);
    expect(none.choices[0].message.reasoning_content ?? "").toBe("");
    expect(none.choices[0].message.content.length).toBeGreaterThan(0);
    // low is 1024 tokens (docs/reasoning.md): more than this answer's room, so the thinking runs on.
    const low = await chat({ ...greedy, max_tokens: 40, reasoning_effort: "low" });
    expect(thought(low)).toBeGreaterThan(8);
  });

  test("--reasoning-budget is the default of a request that sets none", async () => {
    const r = await chat(greedy);
    expect(thought(r)).toBe(7);
    expect(r.choices[0].message.content.length).toBeGreaterThan(0);
    expect(thought(await chat({ ...greedy, thinking_budget_tokens: -1, max_tokens: 40 }))).toBe(7);
    expect(thought(await chat({ ...greedy, thinking_budget_tokens: 12 }))).toBe(11);
  });

  test("Anthropic thinking.budget_tokens: the thinking chat completions gives for that budget", async () => {
    const res = await postJson(`${hearth.url}/v1/messages`, { model, messages, max_tokens: 300, temperature: 0, thinking: { type: "enabled", budget_tokens: 6 } });
    const body: any = await res.json();
    const thinking = body.content.find((b: any) => b.type === "thinking")?.thinking;
    const text = body.content.find((b: any) => b.type === "text")?.text;
    const reference = await chat({ ...greedy, thinking_budget_tokens: 6 });
    expect(thought(reference)).toBe(5);
    expect(thinking).toBe(reference.choices[0].message.reasoning_content);
    expect(text).toBe(reference.choices[0].message.content);
  });

  test("Responses reasoning.effort: minimal thinks at most 256 tokens, none not at all", async () => {
    const ask = (effort: string) => postJson(`${hearth.url}/v1/responses`, { model, input: "Hi", temperature: 0, max_output_tokens: 400, reasoning: { effort } }).then(r => r.json() as Promise<any>);
    const minimal = await ask("minimal");
    const reference = await chat({ ...greedy, max_tokens: 400, thinking_budget_tokens: 256 });
    expect(minimal.usage.output_tokens_details.reasoning_tokens).toBe(thought(reference));
    expect(thought(reference)).toBeLessThanOrEqual(256);
    const message = minimal.output.find((i: any) => i.type === "message");
    expect(message.content[0].text).toBe(reference.choices[0].message.content);
    const none = await ask("none");
    expect(none.usage.output_tokens_details.reasoning_tokens).toBe(0);
    expect(none.output.some((i: any) => i.type === "reasoning")).toBe(false);
  });

  test("Ollama think: true takes the server's budget, a level the effort table's, false none", async () => {
    const ask = (think: boolean | string, num_predict = 300) =>
      postJson(`${hearth.url}/api/chat`, { model, messages, stream: false, think, options: { temperature: 0, num_predict } }).then(r => r.json() as Promise<any>);
    const plain = await ask(true);
    const reference = await chat(greedy); // --reasoning-budget 8: seven tokens of thinking after the prompt's "\n"
    expect(thought(reference)).toBe(7);
    expect(plain.message.thinking).toBe(reference.choices[0].message.reasoning_content);
    expect(plain.message.content).toBe(reference.choices[0].message.content);
    // low is 1024 tokens: more than this answer's room, so the thinking runs past the server's 8.
    const low = await ask("low", 40);
    const lowReference = await chat({ ...greedy, max_tokens: 40, reasoning_effort: "low" });
    expect(thought(lowReference)).toBeGreaterThan(8);
    expect(low.message.thinking).toBe(lowReference.choices[0].message.reasoning_content);
    const off = await ask(false);
    expect(off.message.thinking ?? "").toBe("");
    expect(off.message.content.length).toBeGreaterThan(0);
  });
});

test("hearth.json's reasoning_budget wins over --reasoning-budget", async () => {
  const path = await generatedModel("family-deepseek-r1");
  const dir = mkdtempSync(join(tmpdir(), "hearth-budget-"));
  const config = join(dir, "hearth.json");
  writeFileSync(config, JSON.stringify({ models: { [model]: { reasoning_budget: 5 } } }));
  const server = await startHearth(["--model", path, "--threads", "1", "--parallel", "1", "--ctx-size", "1024", "--reasoning-budget", "8", "--config", config]);
  try {
    const r: any = await (await postJson(`${server.url}/v1/chat/completions`, { model, messages, temperature: 0, max_tokens: 100 })).json();
    expect(r.usage.completion_tokens_details.reasoning_tokens).toBe(4);
  } finally {
    await server.stop();
  }
}, 60_000);

// gpt-oss: the thinking is the analysis message; the budget ends it with <|end|> and the grammar
// then takes the answer into the final channel. The random model opens an analysis message when
// "analysis" is favoured (34484 in Qwen's vocabulary).
test("gpt-oss: the budget closes the analysis, the JSON answer follows in the final channel", async () => {
  const path = await compatModel("tiny-gpt-oss-64k", tinyGptOssArgs(65536));
  const id = basename(path, ".gguf");
  const server = await startHearth(["--model", path, "--threads", "1", "--parallel", "1", "--ctx-size", "2048"]);
  try {
    const ask = (body: object) => postJson(`${server.url}/v1/chat/completions`, { model: id, messages, temperature: 0, max_tokens: 80, logit_bias: { "34484": 6 }, ...body }).then(r => r.json() as Promise<any>);
    const r = await ask({ thinking_budget_tokens: 6, json_schema: { enum: ["alpha", "beta"] } });
    expect(r.choices[0].finish_reason).toBe("stop");
    expect(["alpha", "beta"]).toContain(JSON.parse(r.choices[0].message.content));
    expect(r.choices[0].message.reasoning_content.length).toBeGreaterThan(0);
    expect(thought(r)).toBe(6);
    // Without a JSON answer the closing also opens the final channel (a raw grammar keeps this
    // random model writing harmony; it applies from the first token and takes what the budget forces).
    const grammar = 'root ::= "<|channel|>analysis<|message|>" [a-z]* "<|end|><|start|>assistant<|channel|>final<|message|>" [a-z]{1,8}';
    const free = await ask({ thinking_budget_tokens: 6, grammar });
    expect(thought(free)).toBe(6);
    expect(free.choices[0].message.reasoning_content).toMatch(/^[a-z]+$/);
    expect(free.choices[0].message.content).toMatch(/^[a-z]{1,8}$/);
  } finally {
    await server.stop();
  }
}, 60_000);
