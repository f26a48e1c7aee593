// A SentencePiece tokenizer.model (trained by Debian's sentencepiece, committed with its generator
// fixtures/make-spm.py) imports to a GGUF that tokenizes llama.cpp's SPM test strings exactly as
// SentencePiece itself did (ids committed in expected.json) and decodes them back the same way.
import { afterAll, expect, test } from "bun:test";
import { copyFileSync, cpSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { importCheckpoint } from "../../src/import/import.ts";
import { LlamaModel } from "../../src/llama/index.ts";
import { checkpoint, cleanup, tempRoot } from "./checkpoints.ts";

afterAll(cleanup);

const fixtures = resolve(import.meta.dir, "fixtures/spm");

test("tokenizer.model: same ids and text as SentencePiece", () => {
  // The Llama 2 checkpoint with a tokenizer.model beside its tokenizer.json: the model file wins.
  const dir = join(tempRoot(), "spm-llama");
  cpSync(checkpoint("llama2"), dir, { recursive: true });
  copyFileSync(join(fixtures, "tokenizer.model"), join(dir, "tokenizer.model"));
  const out = join(tempRoot(), "spm.gguf");
  importCheckpoint({ src: dir, out, quant: "f32" });
  using model = LlamaModel.load(out, { vocabOnly: true });
  const meta = model.metadata();
  expect(meta["tokenizer.ggml.model"]).toBe("llama");

  const expected = JSON.parse(readFileSync(join(fixtures, "expected.json"), "utf8")) as { texts: string[]; ids: number[][]; decoded: string[] };
  expect(expected.texts.length).toBeGreaterThan(20);
  const diffs: string[] = [];
  expected.texts.forEach((text, i) => {
    const got = [...model.vocab.tokenize(text, false, false)];
    if (JSON.stringify(got) !== JSON.stringify(expected.ids[i])) diffs.push(`${JSON.stringify(text)}: got ${got} want ${expected.ids[i]}`);
    const back = model.vocab.detokenize(expected.ids[i]!);
    if (back !== expected.decoded[i]) diffs.push(`decode ${JSON.stringify(text)}: got ${JSON.stringify(back)}`);
  });
  expect(diffs).toEqual([]);
});
