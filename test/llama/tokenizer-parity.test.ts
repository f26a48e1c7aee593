// Tokenizer parity with llama.cpp's own vocab test files (models/ggml-vocab-*.gguf + .inp/.out),
// loaded vocab-only through our binding: exactly the .out tokens, and detokenizing round-trips.
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { LlamaModel } from "../../src/llama/index.ts";
import { vocabFile } from "../helpers/paths.ts";

const SEPARATOR = "\n__ggml_vocab_test__\n";

/** Reads the .inp/.out pair the way llama.cpp's tests/test-tokenizer-0.cpp does. */
function readCases(name: string): Array<{ input: string; tokens: number[] }> {
  const raw = readFileSync(`${vocabFile(name)}.inp`, "utf8");
  const inputs: string[] = [];
  for (let pos = 0; pos < raw.length; ) {
    const next = raw.indexOf(SEPARATOR, pos);
    if (next < 0) {
      inputs.push(raw.slice(pos));
      break;
    }
    inputs.push(raw.slice(pos, next));
    pos = next + SEPARATOR.length;
  }
  const outputs = readFileSync(`${vocabFile(name)}.out`, "utf8").split("\n");
  return inputs.map((input, i) => ({
    input,
    tokens: (outputs[i] ?? "").trim().split(" ").filter(Boolean).map(Number),
  }));
}

const vocabs = ["qwen2", "qwen35", "llama-bpe", "llama-spm", "gemma-4", "phi-3", "deepseek-llm", "gpt-2", "falcon", "starcoder", "command-r", "mpt"];
const loaded: LlamaModel[] = [];
afterAll(() => loaded.forEach(m => m.dispose()));

describe.each(vocabs)("vocab %s", name => {
  const cases = readCases(name);
  const model = LlamaModel.load(vocabFile(name), { vocabOnly: true });
  loaded.push(model);

  test(`tokenizes all ${cases.length} cases exactly as llama.cpp's .out file`, () => {
    expect(cases.length).toBeGreaterThan(10);
    for (const c of cases) {
      const got = Array.from(model.vocab.tokenize(c.input, false, false));
      expect({ input: c.input, tokens: got }).toEqual({ input: c.input, tokens: c.tokens });
    }
  });

  // The engine streams text as the concatenated bytes of each token's piece: that must round-trip.
  // (llama_detokenize may also apply a vocab's "clean up tokenization spaces" rule, which is lossy.)
  test("concatenating the tokens' pieces gives the input back", () => {
    for (const c of cases) {
      const tokens = model.vocab.tokenize(c.input, false, false);
      const bytes = Buffer.concat(Array.from(tokens, t => Buffer.from(model.vocab.pieceBytes(t))));
      const text = bytes.toString("utf8");
      // SentencePiece (vocab type 1) prefixes the text with one space: the only allowed change.
      const expected = model.vocab.type === 1 && c.input !== "" ? ` ${c.input}` : c.input;
      expect({ input: c.input, text }).toEqual({ input: c.input, text: expected });
    }
  });
});
