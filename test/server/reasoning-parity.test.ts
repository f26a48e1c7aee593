// Reasoning models under a thinking budget and a JSON schema: greedy answers equal llama-server
// v0.5.0's (--jinja, same file, same request) on random-weight Qwen3 and DeepSeek-R1-distill
// templated models — the same number of tokens, the same thinking and the same answer. The budget
// closes the thinking (the marker is forced), then the schema constrains the answer. On Qwen3 the
// model opens its thinking itself: a logit bias on `<think>` makes it, on both servers.
// (Between an object's members and an array's items Hearth's JSON Schema converter allows blanks
// where llama-server's chat grammar does not, a difference of the converters, not of the thinking
// (docs/reasoning.md): the schemas here have one member at most.)
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { basename } from "node:path";
import { generatedModel, type ReasoningModel } from "../helpers/models.ts";
import { postJson, startHearth, startLlamaServer, type Running } from "../helpers/server.ts";

const schemas: Array<[string, unknown]> = [
  ["a short string", { type: "string", maxLength: 12 }],
  ["an enum", { enum: ["alpha", "beta", "gamma"] }],
  ["an object of one boolean", { type: "object", properties: { ok: { type: "boolean" } }, required: ["ok"] }],
];

const cases: Array<[ReasoningModel, Record<string, unknown>]> = [
  ["family-deepseek-r1", {}],
  // <think> is 151667 in Qwen3's vocabulary (test/helpers/models.ts).
  ["family-qwen3", { logit_bias: { "151667": 3 } }],
];

/** Reasoning and content as both servers split them; Hearth trims blanks at the reasoning's edges. */
const split = (m: any) => ({ reasoning: (m.reasoning_content ?? "").trim(), content: m.content ?? "" });

describe.each(cases)("%s", (preset, extra) => {
  let hearth: Running;
  let reference: Running;
  let model: string;
  beforeAll(async () => {
    const path = await generatedModel(preset);
    model = basename(path, ".gguf");
    [hearth, reference] = await Promise.all([
      startHearth(["--model", path, "--threads", "1", "--parallel", "1", "--ctx-size", "1024"]),
      startLlamaServer(["-m", path, "--jinja", "-t", "1", "-np", "1", "-c", "1024"]),
    ]);
  }, 90_000);
  afterAll(async () => {
    await Promise.all([hearth?.stop(), reference?.stop()]);
  });

  const ask = (server: Running, body: object) => postJson(`${server.url}/v1/chat/completions`, { model, messages: [{ role: "user", content: "Hi" }], temperature: 0, max_tokens: 80, ...extra, ...body }).then(r => r.json() as Promise<any>);

  test.each(schemas)("thinking_budget_tokens 16 and %s: same tokens, same split", async (_, schema) => {
    const body = { thinking_budget_tokens: 16, json_schema: schema };
    const [ours, theirs] = await Promise.all([ask(hearth, body), ask(reference, body)]);
    expect(ours.error ?? null).toBeNull();
    const [a, b] = [ours.choices[0], theirs.choices[0]];
    expect(split(a.message)).toEqual(split(b.message));
    expect(a.message.reasoning_content.length).toBeGreaterThan(0);
    expect(ours.usage.completion_tokens).toBe(theirs.usage.completion_tokens);
    expect(a.finish_reason).toBe(b.finish_reason);
    expect(a.finish_reason).toBe("stop");
    // The budget closed the thinking: 16 tokens (DeepSeek-R1's prompt already wrote one, its "\n").
    expect(ours.usage.completion_tokens_details.reasoning_tokens).toBe(preset === "family-deepseek-r1" ? 15 : 16);
    expect(JSON.parse(a.message.content)).toBeDefined();
  });

  test("without a budget or a constraint the answer is llama-server's too", async () => {
    const body = { max_tokens: 24 };
    const [ours, theirs] = await Promise.all([ask(hearth, body), ask(reference, body)]);
    expect(split(ours.choices[0].message)).toEqual(split(theirs.choices[0].message));
    expect(ours.usage.completion_tokens).toBe(theirs.usage.completion_tokens);
  });
});
