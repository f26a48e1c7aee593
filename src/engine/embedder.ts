// Embeddings for models that declare a pooling type (BERT-style encoders, embedding decoders):
// one context with embeddings on, each input decoded alone as sequence 0, its pooled vector read
// back and L2-normalized (as llama-server's /v1/embeddings does). Rerankers (rank pooling) score a
// query and a document decoded together instead. Runs in the runner process.
import { Batch, LlamaContext, type LlamaModel } from "../llama/index.ts";

/** llama.cpp's `enum llama_pooling_type` values that a model can declare, and their names. */
export const POOLING_NAMES: Record<number, string> = { 1: "mean", 2: "cls", 3: "last", 4: "rank" };
/** LLAMA_POOLING_TYPE_RANK: a reranker, which scores pairs instead of producing embeddings. */
export const RANK_POOLING = 4;

export class Embedder {
  private readonly ctx: LlamaContext;
  private readonly batch: Batch;
  readonly width: number;

  constructor(
    private readonly model: LlamaModel,
    options: { nCtx: number; threads: number },
  ) {
    // A non-causal model attends to the whole input at once: it must fit one (u)batch.
    this.ctx = new LlamaContext(model, {
      nCtx: options.nCtx,
      nBatch: options.nCtx,
      nUbatch: options.nCtx,
      nSeqMax: 1,
      threads: options.threads,
      kvUnified: true,
      embeddings: true,
    });
    this.batch = new Batch(this.ctx.nBatch);
    this.rank = model.declaredPooling === RANK_POOLING;
    // A reranker's pooled output is its classifier's scores, not a vector of n_embd.
    this.width = this.rank ? model.nClsOut : model.nEmbdOut;
  }

  /** Rank pooling: the model scores (query, document) pairs and makes no embeddings. */
  readonly rank: boolean;

  /** Tokens one input may have. */
  get maxTokens(): number {
    return this.ctx.nBatch;
  }

  /** Token ids of an input (text gets BOS/CLS/SEP as the vocabulary wants; special-token text parses). */
  tokens(input: string | number[]): number[] {
    const vocab = this.model.vocab;
    if (typeof input !== "string") {
      const bad = input.find(t => !vocab.isValidToken(t));
      if (bad !== undefined) throw new Error(`token id ${bad} is outside the vocabulary (0..${vocab.nTokens - 1})`);
      return input;
    }
    return Array.from(vocab.tokenize(input, true, true));
  }

  /** One vector per input (L2-normalized unless `normalized` is false); throws (before any decode) when an input is empty or too long. */
  embed(inputs: Array<string | number[]>, normalized = true): { vectors: Float32Array[]; promptTokens: number } {
    const all = inputs.map(i => this.tokens(i));
    const vectors = this.pooled(all, "input").map(v => (normalized ? normalize(v) : v));
    return { vectors, promptTokens: all.reduce((n, ids) => n + ids.length, 0) };
  }

  /**
   * A reranker's score of each document for the query (its first classifier output), as
   * llama-server builds the pair (format_prompt_rerank): the model's "rerank" template with
   * {query} and {document} filled in when it has one (Qwen3-Reranker), else
   * [BOS] query [EOS] [SEP] document [EOS] with each marker where the vocabulary adds it.
   */
  rerank(query: string, documents: string[]): { scores: number[]; promptTokens: number } {
    const vocab = this.model.vocab;
    const template = this.model.chatTemplate("rerank");
    const pair = (doc: string): number[] => {
      if (template) return this.templatedPair(template, query, doc);
      const eos = vocab.eos >= 0 ? vocab.eos : vocab.sep;
      const out: number[] = [];
      if (vocab.addBos) out.push(vocab.bos);
      out.push(...vocab.tokenize(query, false, false));
      if (vocab.addEos) out.push(eos);
      if (vocab.addSep) out.push(vocab.sep);
      out.push(...vocab.tokenize(doc, false, false));
      if (vocab.addEos) out.push(eos);
      return out;
    };
    const all = documents.map(pair);
    const scores = this.pooled(all, "document").map(v => v[0]!);
    return { scores, promptTokens: all.reduce((n, ids) => n + ids.length, 0) };
  }

  private templatedPair(template: string, query: string, doc: string): number[] {
    const vocab = this.model.vocab;
    return rerankTemplateTokens(template, query, doc, (text, special) => Array.from(vocab.tokenize(text, false, special)));
  }

  /** Each token sequence decoded alone, its pooled output read back. */
  private pooled(all: number[][], what: string): Float32Array[] {
    all.forEach((ids, i) => {
      if (ids.length === 0) throw new Error(`${what}[${i}] is empty`);
      if (ids.length > this.maxTokens) throw new Error(`${what}[${i}] has ${ids.length} tokens, too large for this model's batch of ${this.maxTokens}`);
    });
    return all.map(ids => {
      this.ctx.clearMemory();
      this.batch.clear();
      ids.forEach((t, pos) => this.batch.add(t, pos, 0, true));
      this.ctx.decode(this.batch);
      const v = this.ctx.sequenceEmbedding(0, this.width);
      if (!v) throw new Error("the model produced no pooled output");
      return v;
    });
  }

  dispose(): void {
    this.ctx.dispose();
  }
}

/** Scales v to unit L2 length (a zero vector stays zero). */
export function normalize(v: Float32Array): Float32Array {
  let sum = 0;
  for (const x of v) sum += x * x;
  const norm = Math.sqrt(sum);
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i] = v[i]! / norm;
  return v;
}

/**
 * A query–document pair through a reranker's template (Qwen3-Reranker's `{query}` / `{document}`).
 * The template's markup parses special tokens; the query and the document never become control
 * tokens. When neither spells special-token text the filled template is tokenized whole, as
 * llama-server does (same tokens at the seams); otherwise piece by piece, the user's text as plain
 * text. Placeholders are filled in one pass, so a query that contains "{document}" stays as typed.
 */
export function rerankTemplateTokens(
  template: string,
  query: string,
  doc: string,
  tokenize: (text: string, parseSpecial: boolean) => number[],
): number[] {
  const pieces = template.split(/(\{query\}|\{document\})/);
  const fill = (p: string) => (p === "{query}" ? query : p === "{document}" ? doc : p);
  const spellsControl = (text: string) => {
    const special = tokenize(text, true);
    const plain = tokenize(text, false);
    return special.length !== plain.length || special.some((t, i) => t !== plain[i]);
  };
  if (!spellsControl(query) && !spellsControl(doc)) return tokenize(pieces.map(fill).join(""), true);
  return pieces.flatMap((p, i) => (i % 2 === 1 ? tokenize(fill(p), false) : p ? tokenize(p, true) : []));
}
