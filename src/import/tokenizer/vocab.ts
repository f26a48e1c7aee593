// The tokenizer as GGUF stores it (tokenizer.ggml.*), whatever file it came from.

/** llama.cpp's token attribute types (llama.h: LLAMA_TOKEN_TYPE_*; same numbers as SentencePiece). */
export const TokenType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

export interface GgufVocab {
  /** tokenizer.ggml.model: "gpt2" (byte-level BPE) or "llama" (SentencePiece). */
  model: "gpt2" | "llama";
  /** tokenizer.ggml.pre (BPE only). */
  pre?: string;
  tokens: string[];
  types: number[];
  scores?: Float32Array;
  merges?: string[];
  addSpacePrefix?: boolean;
  /** Token ids by role, from the checkpoint's special-token settings. */
  special: { bos?: number; eos?: number; unk?: number; pad?: number; addBos?: boolean; addEos?: boolean };
}

/** Fills ids no file names with placeholder tokens, as llama.cpp needs one entry per embedding row. */
export function padVocab(vocab: GgufVocab, rows: number): void {
  for (let i = vocab.tokens.length; i < rows; i++) {
    vocab.tokens.push(`[PAD${i}]`);
    vocab.types.push(TokenType.UNUSED);
  }
  if (vocab.scores && vocab.scores.length < rows) {
    const s = new Float32Array(rows);
    s.set(vocab.scores);
    s.fill(-1000, vocab.scores.length);
    vocab.scores = s;
  }
}
