// Fidelity under a grammar: greedy /v1/completions from Hearth with a GBNF grammar produces
// exactly llama-server's tokens (its /completion with the same `grammar`, `return_tokens`) on the
// same model. Both servers are built from the same llama.cpp source and run here, one thread each.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { jsonSchemaToGbnf } from "../../src/grammar/json-schema-grammar.ts";
import { schemaCases } from "../fixtures/json-schemas.ts";
import { generatedModel } from "../helpers/models.ts";
import { defaultModel } from "../helpers/paths.ts";
import { postJson, startHearth, startLlamaServer, type Running } from "../helpers/server.ts";

const schema = (name: string) => schemaCases.find(([n]) => n === name)![1];
const grammars: Array<[string, string]> = [
  ["raw GBNF", 'root ::= [A-Z] [a-z]{2,8} (" " [a-z]{1,8}){2,6} "."'],
  ["required properties", jsonSchemaToGbnf(schema("required properties"))],
  ["string formats", jsonSchemaToGbnf(schema("string formats"))],
  ["oneOf of tagged objects", jsonSchemaToGbnf(schema("oneOf of tagged objects"))],
  ["array of objects", jsonSchemaToGbnf(schema("array of objects"))],
];

for (const [label, modelPath, maxTokens] of [
  ["stories260K", async () => defaultModel, 90],
  ["tiny-qwen2", () => generatedModel("tiny-qwen2"), 200],
] as const) {
  describe(`${label}: grammar-constrained tokens equal llama-server's`, () => {
    let hearth: Running;
    let reference: Running;
    let model: string;
    beforeAll(async () => {
      const path = await modelPath();
      model = path.split("/").pop()!.replace(/\.gguf$/, "");
      [hearth, reference] = await Promise.all([
        startHearth(["--model", path, "--ctx-size", "2048", "--parallel", "2", "--threads", "1"]),
        startLlamaServer(["-m", path, "-c", "2048", "-np", "2", "-t", "1", "-kvu"]),
      ]);
    });
    afterAll(async () => {
      await Promise.all([hearth?.stop(), reference?.stop()]);
    });

    test.each(grammars)("%s", async (_, grammar) => {
      const prompt = "Once upon a time";
      const ours: any = await (await postJson(`${hearth.url}/v1/completions`, { model, prompt, grammar, max_tokens: maxTokens, temperature: 0 })).json();
      const theirs: any = await (await postJson(`${reference.url}/completion`, { prompt, grammar, n_predict: maxTokens, temperature: 0, return_tokens: true })).json();
      expect(ours.error ?? null).toBeNull();
      const text = ours.choices[0].text as string;
      expect(text.length).toBeGreaterThan(0);
      expect(text).toBe(theirs.content);
      // Same ids, not just the same text: their ids detokenize (by Hearth) to our text, one for one.
      // (/detokenize renders control tokens as llama-server does: leave out the end-of-generation one.)
      const ids = theirs.stop_type === "eos" ? theirs.tokens.slice(0, -1) : theirs.tokens;
      const detok: any = await (await postJson(`${hearth.url}/detokenize`, { model, tokens: ids })).json();
      expect(detok.content).toBe(text);
      // (Both count the end-of-generation token; it renders as no text.)
      expect(ours.usage.completion_tokens).toBe(theirs.tokens.length);
      expect(ours.usage.completion_tokens).toBe(theirs.tokens_predicted);
      expect(ours.choices[0].finish_reason).toBe(theirs.stop_type === "limit" ? "length" : "stop");
    });

    // Rejection sampling as llama.cpp does it (chain first, grammar-masked redraw when rejected)
    // draws from the RNG the same way: seeded sampling gives the same text too.
    test.each(grammars.slice(0, 3))("seeded sampling: %s", async (_, grammar) => {
      const prompt = "Once upon a time";
      const sampling = { temperature: 0.9, top_k: 40, top_p: 0.95, min_p: 0.05, seed: 1234 };
      const ours: any = await (await postJson(`${hearth.url}/v1/completions`, { model, prompt, grammar, max_tokens: maxTokens, ...sampling })).json();
      const theirs: any = await (await postJson(`${reference.url}/completion`, { prompt, grammar, n_predict: maxTokens, ...sampling })).json();
      expect(ours.choices[0].text.length).toBeGreaterThan(0);
      expect(ours.choices[0].text).toBe(theirs.content);
    });
  });
}
