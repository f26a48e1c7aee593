// Which of llama.cpp's pre-tokenizers (tokenizer.ggml.pre) a byte-level BPE tokenizer.json needs.
// llama.cpp hard-codes each pre-tokenizer's split regex (src/llama-vocab.cpp); the name is found
// here from the Split regex in tokenizer.json itself, so an unknown regex is refused instead of
// silently tokenizing differently.
import { ImportError } from "../errors.ts";

const KNOWN: Record<string, string> = {
  // Llama 3 (and GLM-4, Falcon 3 … share it): digits in runs of up to three.
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+": "llama-bpe",
  // Qwen 2 / 2.5 / 3: single digits.
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+": "qwen2",
  // Qwen 3.5: marks join letters.
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+": "qwen35",
  // GPT-2.
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+": "gpt-2",
};

type PreTok = { type?: string; pattern?: { Regex?: string }; pretokenizers?: PreTok[]; use_regex?: boolean };

function regexes(p: PreTok | null | undefined): string[] {
  if (!p) return [];
  if (p.type === "Sequence") return (p.pretokenizers ?? []).flatMap(regexes);
  if (p.type === "Split" && p.pattern?.Regex) return [p.pattern.Regex];
  // ByteLevel with use_regex applies GPT-2's own split.
  if (p.type === "ByteLevel" && p.use_regex !== false) return [Object.keys(KNOWN).find(k => KNOWN[k] === "gpt-2")!];
  return [];
}

export function preTokenizerName(preTokenizer: PreTok | null | undefined): string {
  const found = regexes(preTokenizer);
  if (found.length === 1 && KNOWN[found[0]!]) return KNOWN[found[0]!]!;
  throw new ImportError(
    `tokenizer.json: pre-tokenizer ${JSON.stringify(found)} is not one llama.cpp knows by name ` +
      `(known: ${[...new Set(Object.values(KNOWN))].join(", ")})`,
  );
}
