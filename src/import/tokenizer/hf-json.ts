// tokenizer.json (Hugging Face `tokenizers`) → GGUF vocabulary. Two shapes occur in the supported
// families: byte-level BPE (Llama 3, Qwen, GLM) → llama.cpp's "gpt2" model with merges and a
// pre-tokenizer name; and SentencePiece models exported as BPE with byte fallback and "▁" for
// spaces (Llama 2, Gemma) → llama.cpp's "llama" (SPM) model. SPM merges by piece score, HF BPE by
// merge rank; giving each piece the rank of the first merge that forms it makes the two agree.
import { ImportError } from "../errors.ts";
import { preTokenizerName } from "./pre-tokenizer.ts";
import { type GgufVocab, TokenType } from "./vocab.ts";

interface AddedToken { id: number; content: string; special: boolean }
interface TokenizerJson {
  model: { type: string; vocab: Record<string, number>; merges?: (string | [string, string])[]; byte_fallback?: boolean; unk_token?: string | null };
  added_tokens?: AddedToken[];
  normalizer?: { type: string; normalizers?: { type: string; prepend?: string }[]; prepend?: string } | null;
  pre_tokenizer?: { type: string; prepend_scheme?: string; add_prefix_space?: boolean; pretokenizers?: unknown[] } | null;
  decoder?: { type: string } | null;
}

function isSentencePieceStyle(tj: TokenizerJson): boolean {
  return tj.model.byte_fallback === true && Object.hasOwn(tj.model.vocab, "<0x00>");
}

/** Whether the SentencePiece-style normalizer puts "▁" in front of the text (Llama 2: yes, Gemma: no). */
function addsSpacePrefix(tj: TokenizerJson): boolean {
  const norms = tj.normalizer?.type === "Sequence" ? tj.normalizer.normalizers ?? [] : tj.normalizer ? [tj.normalizer] : [];
  if (norms.some(n => n.type === "Prepend" && n.prepend === "\u2581")) return true;
  const pre = tj.pre_tokenizer;
  return pre?.type === "Metaspace" && (pre.prepend_scheme === "first" || pre.prepend_scheme === "always");
}

export function vocabFromTokenizerJson(text: string): GgufVocab {
  let tj: TokenizerJson;
  try {
    tj = JSON.parse(text);
  } catch (err) {
    throw new ImportError(`tokenizer.json is not valid JSON (${(err as Error).message})`);
  }
  if (tj?.model?.type !== "BPE" || typeof tj.model.vocab !== "object") {
    throw new ImportError(`tokenizer.json: model type ${tj?.model?.type} is not supported (only BPE)`);
  }
  const tokens: string[] = [];
  const types: number[] = [];
  for (const [piece, id] of Object.entries(tj.model.vocab)) {
    tokens[id] = piece;
    types[id] = TokenType.NORMAL;
  }
  const spmStyle = isSentencePieceStyle(tj);
  for (const a of tj.added_tokens ?? []) {
    tokens[a.id] = a.content;
    // Gemma lists its "▁▁…" space runs as added tokens; they are ordinary pieces the merges reach,
    // and llama.cpp turns "▁" back into spaces only for normal tokens.
    const pieceOfSpaces = spmStyle && !a.special && a.content.includes("\u2581");
    types[a.id] = a.special ? TokenType.CONTROL : pieceOfSpaces ? TokenType.NORMAL : TokenType.USER_DEFINED;
  }
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] === undefined) {
      tokens[i] = `[PAD${i}]`;
      types[i] = TokenType.UNUSED;
    }
  }
  const merges = (tj.model.merges ?? []).map(m => (Array.isArray(m) ? `${m[0]} ${m[1]}` : m));

  if (spmStyle) {
    const ids = new Map(tokens.map((t, i) => [t, i]));
    const scores = new Float32Array(tokens.length).fill(-1e9);
    merges.forEach((m, rank) => {
      const sp = m.indexOf(" ", 1);
      const id = ids.get(m.slice(0, sp) + m.slice(sp + 1));
      if (id !== undefined && scores[id] === -1e9) scores[id] = -rank;
    });
    for (let i = 0; i < tokens.length; i++) {
      if (types[i] === TokenType.NORMAL && /^<0x[0-9A-F]{2}>$/.test(tokens[i]!)) types[i] = TokenType.BYTE;
      // Pieces no merge forms (single characters) start every word; their score never decides.
      if (scores[i] === -1e9) scores[i] = 0;
    }
    const unk = tj.model.unk_token ? ids.get(tj.model.unk_token) : undefined;
    if (unk !== undefined) types[unk] = TokenType.UNKNOWN;
    return { model: "llama", tokens, types, scores, addSpacePrefix: addsSpacePrefix(tj), special: { unk } };
  }
  const pre = preTokenizerName(tj.pre_tokenizer as never);
  return { model: "gpt2", pre, tokens, types, merges, special: {} };
}

/** Post-processor of tokenizer.json: does it put a BOS in front (Llama 3 has no add_bos_token)? */
export function postProcessorAddsBos(text: string, bos: string | undefined): boolean | undefined {
  if (!bos) return undefined;
  const tj = JSON.parse(text) as { post_processor?: { type: string; single?: { SpecialToken?: { id: string } }[]; processors?: unknown[] } | null };
  const procs = tj.post_processor?.type === "Sequence" ? (tj.post_processor.processors as typeof tj.post_processor[]) : [tj.post_processor];
  for (const p of procs) {
    if (p?.type === "TemplateProcessing") return p.single?.[0]?.SpecialToken?.id === bos;
  }
  return undefined;
}
