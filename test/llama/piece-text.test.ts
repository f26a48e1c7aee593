// Vocab.pieceText: a token's piece as remembered text when its bytes are whole UTF-8 characters
// (the token loop's path with no native call per token), null when not; over every token of a
// byte-level BPE vocabulary (Qwen2: many pieces are parts of a character) and a SentencePiece one
// with byte tokens (LLaMA SPM), with and without special rendering.
import { afterAll, expect, test } from "bun:test";
import { LlamaModel } from "../../src/llama/index.ts";
import { vocabFile } from "../helpers/paths.ts";

const loaded: LlamaModel[] = [];
afterAll(() => loaded.forEach(m => m.dispose()));
const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

test.each(["qwen2", "llama-spm"])("%s: every token's pieceText is its piece when whole, null when not, and the same when asked again", name => {
  const model = LlamaModel.load(vocabFile(name), { vocabOnly: true });
  loaded.push(model);
  const vocab = model.vocab;
  let whole = 0;
  let partial = 0;
  for (const special of [false, true]) {
    for (let t = 0; t < vocab.nTokens; t++) {
      const bytes = vocab.pieceBytes(t, special).slice();
      let expected: string | null;
      try {
        expected = strict.decode(bytes);
      } catch {
        expected = null;
      }
      const text = vocab.pieceText(t, special);
      if (text !== expected) expect({ t, special, text }).toEqual({ t, special, text: expected });
      if (text === null) partial++;
      else whole++;
      if (t % 997 === 0) expect(vocab.pieceText(t, special)).toBe(text);
    }
  }
  expect(whole).toBeGreaterThan(vocab.nTokens);
  expect(partial).toBeGreaterThan(100);
  expect(() => vocab.pieceText(vocab.nTokens)).toThrow(RangeError);
});
