// What a request is refused for before it is queued (check-request.ts), on tiny-qwen2's vocabulary
// alone: each limit on its own, and the output limit a request that sets none gets.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { checkRequest, type RequestLimits } from "../../src/engine/check-request.ts";
import type { GenerateRequest } from "../../src/engine/types.ts";
import { LlamaModel } from "../../src/llama/index.ts";
import { generatedModel } from "../helpers/models.ts";
import { greedyRequest } from "./scheduler-driver.ts";

let model: LlamaModel;
beforeAll(async () => {
  model = LlamaModel.load(await generatedModel("tiny-qwen2"), { vocabOnly: true });
});
afterAll(() => model?.dispose());

const limits: RequestLimits = { slotCtx: 64, maxChoices: 4 };
const check = (extra: Partial<GenerateRequest>, l: RequestLimits = limits) => checkRequest(model.vocab, { ...greedyRequest("Hello there", 8), ...extra }, l);

describe("checkRequest", () => {
  test("a request within every limit gets its prompt tokens and max_tokens", () => {
    const r = check({});
    expect(r).toEqual({ prompt: Array.from(model.vocab.tokenize("Hello there", true, false)), maxTokens: 8 });
  });

  test("token ids outside the vocabulary, an empty prompt", () => {
    expect(check({ prompt: [model.vocab.nTokens] })).toMatchObject({ code: "invalid_request", message: expect.stringMatching(/outside the vocabulary/) });
    expect(check({ prompt: [], addSpecial: false })).toEqual({ code: "invalid_request", message: "the prompt is empty" });
  });

  test("a prompt the context cannot hold, or cannot hold with max_tokens", () => {
    const long = Array.from({ length: 64 }, () => 42);
    expect(check({ prompt: long, addSpecial: false })).toMatchObject({ code: "context_length_exceeded", message: expect.stringMatching(/the prompt has 64 tokens/) });
    expect(check({ prompt: long.slice(0, 60), addSpecial: false, maxTokens: 5 })).toMatchObject({ code: "context_length_exceeded", message: expect.stringMatching(/plus max_tokens \(5\)/) });
  });

  test("without max_tokens: the room left, or nPredict when it is less", () => {
    const prompt = Array.from({ length: 40 }, () => 42);
    expect(check({ prompt, addSpecial: false, maxTokens: null })).toMatchObject({ maxTokens: 24 });
    expect(check({ prompt, addSpecial: false, maxTokens: null }, { ...limits, nPredict: 10 })).toMatchObject({ maxTokens: 10 });
    expect(check({ prompt, addSpecial: false, maxTokens: null }, { ...limits, nPredict: 100 })).toMatchObject({ maxTokens: 24 });
  });

  test("n and top logprobs out of range, a grammar llama.cpp does not take", () => {
    expect(check({ n: 5 })).toEqual({ code: "invalid_request", message: "n must be between 1 and 4 for this model" });
    expect(check({ n: 1.5 })).toMatchObject({ code: "invalid_request" });
    expect(check({ logprobs: 21 })).toEqual({ code: "invalid_request", message: "top logprobs must be between 0 and 20" });
    expect(check({ grammar: { gbnf: "root ::= undefined-rule" } })).toMatchObject({ code: "invalid_grammar" });
  });
});
