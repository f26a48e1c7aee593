// Tokenizer view of a loaded model (or a vocab-only load). Valid while its model lives.
import type { Pointer } from "bun:ffi";
import { utf8 } from "./cstring.ts";
import { native } from "./library.ts";

const pieceDecoder = new TextDecoder("utf-8", { fatal: false });
/** Throws on a piece that is not whole characters (a character split over tokens, or bytes that are not UTF-8). */
const wholeDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

// llama_token_attr bits (llama.h)
const ATTR_UNKNOWN = 1 << 0;
const ATTR_CONTROL = 1 << 3;
const ATTR_LSTRIP = 1 << 7;
const ATTR_RSTRIP = 1 << 8;

export interface SpecialToken {
  id: number;
  text: string;
  /** The token eats whitespace on its left / right (llama.cpp strips it while partitioning). */
  lstrip: boolean;
  rstrip: boolean;
}

export class Vocab {
  readonly nTokens: number;
  readonly bos: number;
  readonly eos: number;
  readonly eot: number;
  readonly addBos: boolean;
  /** Appends EOS / SEP when tokenizing with add_special (BERT-style encoders and rerankers). */
  readonly addEos: boolean;
  readonly addSep: boolean;
  /** Sentence separator (-1: none). */
  readonly sep: number;
  /** Fill-in-the-middle tokens from the GGUF (or found by their text), -1 where the vocabulary has none. */
  readonly fim: { pre: number; suf: number; mid: number; pad: number; rep: number; sep: number };
  /** llama_vocab_type: 1 = SentencePiece (adds a leading space), 2 = BPE, … */
  readonly type: number;
  /** Reused for every token_to_piece call: no allocation per token on the hot path. */
  private pieceBuffer = new Uint8Array(256);
  /** pieceText's answers, without and with special rendering, filled as tokens are first asked for. */
  private readonly pieceTexts: [Map<number, string | null>, Map<number, string | null>] = [new Map(), new Map()];

  constructor(
    readonly ptr: Pointer,
    private readonly alive: () => void,
  ) {
    const { llama } = native();
    this.nTokens = llama.llama_vocab_n_tokens(ptr);
    this.bos = llama.llama_vocab_bos(ptr);
    this.eos = llama.llama_vocab_eos(ptr);
    this.eot = llama.llama_vocab_eot(ptr);
    this.addBos = llama.llama_vocab_get_add_bos(ptr);
    this.addEos = llama.llama_vocab_get_add_eos(ptr);
    this.addSep = llama.llama_vocab_get_add_sep(ptr);
    this.sep = llama.llama_vocab_sep(ptr);
    this.fim = {
      pre: llama.llama_vocab_fim_pre(ptr),
      suf: llama.llama_vocab_fim_suf(ptr),
      mid: llama.llama_vocab_fim_mid(ptr),
      pad: llama.llama_vocab_fim_pad(ptr),
      rep: llama.llama_vocab_fim_rep(ptr),
      sep: llama.llama_vocab_fim_sep(ptr),
    };
    this.type = llama.llama_vocab_type(ptr);
  }

  /** Text → token ids. addSpecial adds BOS/EOS as the model wants; parseSpecial turns `<|im_end|>`-like text into control tokens. */
  tokenize(text: string, addSpecial: boolean, parseSpecial: boolean): Int32Array {
    this.alive();
    const bytes = utf8(text);
    let out = new Int32Array(bytes.length + 8);
    let n = native().llama.llama_tokenize(this.ptr, bytes, bytes.length, out, out.length, addSpecial, parseSpecial);
    if (n < 0) {
      if (n === -2147483648) throw new RangeError("text too long to tokenize");
      out = new Int32Array(-n);
      n = native().llama.llama_tokenize(this.ptr, bytes, bytes.length, out, out.length, addSpecial, parseSpecial);
    }
    return out.subarray(0, n);
  }

  isValidToken(token: number): boolean {
    return Number.isInteger(token) && token >= 0 && token < this.nTokens;
  }

  /** The raw bytes of one token (a piece may be part of a multi-byte character). */
  pieceBytes(token: number, special = false): Uint8Array {
    this.alive();
    if (!this.isValidToken(token)) throw new RangeError(`token ${token} outside vocabulary of ${this.nTokens}`);
    const { llama } = native();
    let n = llama.llama_token_to_piece(this.ptr, token, this.pieceBuffer, this.pieceBuffer.length, 0, special);
    if (n < 0) {
      this.pieceBuffer = new Uint8Array(-n * 2);
      n = llama.llama_token_to_piece(this.ptr, token, this.pieceBuffer, this.pieceBuffer.length, 0, special);
    }
    return this.pieceBuffer.subarray(0, n);
  }

  /**
   * The token's piece as text when its bytes are whole UTF-8 characters by themselves, else null;
   * remembered per token, so a generated token costs no native call and no decoding once seen.
   */
  pieceText(token: number, special = false): string | null {
    const known = this.pieceTexts[special ? 1 : 0];
    let text = known.get(token);
    if (text === undefined) {
      try {
        text = wholeDecoder.decode(this.pieceBytes(token, special));
      } catch (err) {
        if (err instanceof RangeError) throw err; // not a token of this vocabulary
        text = null;
      }
      known.set(token, text);
    }
    return text;
  }

  piece(token: number, special = false): string {
    return pieceDecoder.decode(this.pieceBytes(token, special));
  }

  /** Token ids → text, as llama.cpp's llama_detokenize renders them. */
  detokenize(tokens: ArrayLike<number>, removeSpecial = false, unparseSpecial = false): string {
    this.alive();
    for (let i = 0; i < tokens.length; i++) {
      if (!this.isValidToken(tokens[i]!)) throw new RangeError(`token ${tokens[i]} outside vocabulary of ${this.nTokens}`);
    }
    const ids = Int32Array.from(tokens);
    const { llama } = native();
    let out = new Uint8Array(ids.length * 8 + 16);
    let n = llama.llama_detokenize(this.ptr, ids, ids.length, out, out.length, removeSpecial, unparseSpecial);
    if (n < 0) {
      out = new Uint8Array(-n);
      n = llama.llama_detokenize(this.ptr, ids, ids.length, out, out.length, removeSpecial, unparseSpecial);
    }
    return pieceDecoder.decode(out.subarray(0, n));
  }

  /**
   * Tokens that text becomes only when special-token parsing is on (control and unknown tokens),
   * longest first, with their whitespace-stripping attributes (as llama.cpp's partitioner uses them).
   */
  specialTokens(): SpecialToken[] {
    this.alive();
    const { llama } = native();
    const out: SpecialToken[] = [];
    for (let id = 0; id < this.nTokens; id++) {
      const attr = llama.llama_vocab_get_attr(this.ptr, id);
      if (!(attr & (ATTR_CONTROL | ATTR_UNKNOWN))) continue;
      const text = this.text(id);
      if (text) out.push({ id, text, lstrip: (attr & ATTR_LSTRIP) !== 0, rstrip: (attr & ATTR_RSTRIP) !== 0 });
    }
    return out.sort((a, b) => b.text.length - a.text.length);
  }

  isEog(token: number): boolean {
    return native().llama.llama_vocab_is_eog(this.ptr, token);
  }

  isControl(token: number): boolean {
    return native().llama.llama_vocab_is_control(this.ptr, token);
  }

  /** The token's text as stored in the vocabulary (e.g. `<|im_end|>`). */
  text(token: number): string {
    if (!this.isValidToken(token)) throw new RangeError(`token ${token} outside vocabulary`);
    return String(native().llama.llama_vocab_get_text(this.ptr, token) ?? "");
  }
}
