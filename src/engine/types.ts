// The narrow engine interface the API talks to. Plain data only: no HTTP, no pointers.
// RunnerEngine implements it over a child process; tests implement it with fakes.
import type { ModelState } from "./lifecycle.ts";
import type { SlotAction, SlotActionResult } from "./slot-files.ts";

/** A piece of prompt text and whether special-token text in it may become control tokens. */
export interface PromptSegment {
  text: string;
  parseSpecial: boolean;
  /** Set on an image's place in the prompt (text is then empty): index into GenerateRequest.images. */
  image?: number;
}

/** An image a prompt shows (vision models): the file's bytes, and what the request calls it. */
export interface ImageInput {
  /** Base64 of the file (PNG, JPEG, GIF or BMP). */
  data: string;
  /** For errors, e.g. `messages[0].content[1]`. */
  name?: string;
}

export interface GenerateRequest {
  /** The prompt: raw text segments (tokenized by the engine) or token ids. */
  prompt: PromptSegment[] | number[];
  /** Add BOS etc. as the vocabulary wants (true for raw completions; chat templates write their own). */
  addSpecial: boolean;
  /** Images the prompt's image segments point at (a model with a projector only; see engine/vision.ts). */
  images?: ImageInput[];
  /** null = up to the end of the context. */
  maxTokens: number | null;
  stop: string[];
  ignoreEos: boolean;
  /** Extra tokens that end the turn (a chat family's stop tokens), beyond the vocab's end-of-generation set. */
  stopTokens?: string[];
  /** Control tokens whose text is kept in the output (e.g. `<|python_tag|>`), where it is otherwise dropped. */
  preserveTokens?: string[];
  cachePrompt: boolean;
  /** llama-server's id_slot: run in this slot (0-based; it waits for it), else the scheduler picks. */
  slot?: number;
  sampling: {
    temperature: number;
    topK: number;
    topP: number;
    minP: number;
    seed: number | null;
    repeatPenalty: number;
    presencePenalty: number;
    frequencyPenalty: number;
    penaltyLastN: number;
    logitBias: Array<[number, number]>;
  };
  /** Constrains the output to a GBNF grammar (structured output, later tool calls). */
  grammar?: GrammarConstraint;
  /** A reasoning model's thinking: counted, and closed when its budget is spent (thinking-budget.ts). */
  thinking?: ThinkingControl;
  /**
   * Choices decoded from one prefill of the prompt (default 1): the prompt's KV is copied into a
   * sequence per choice; choice i samples with seed + i. Events carry their choice's `index`.
   */
  n?: number;
  /** Report each sampled token's log-probability and this many top alternatives (0..MAX_TOP_LOGPROBS). */
  logprobs?: number;
  /**
   * Report them from the distribution the token was drawn from (after logit bias, penalties,
   * truncation, temperature and grammar; llama-server's post_sampling_probs) instead of the model's.
   */
  postSamplingProbs?: boolean;
}

/** Most alternatives per token a request may ask for (OpenAI's top_logprobs limit). */
export const MAX_TOP_LOGPROBS = 20;

/**
 * Log-probability of one sampled token under the model's own distribution at that step (softmax
 * of the raw logits, before logit bias, penalties, temperature, truncation and grammar), with the
 * most likely alternatives. Bytes are the token's piece (it may be part of a character).
 */
export interface TokenLogprob {
  token: number;
  bytes: number[];
  logprob: number;
  top: Array<{ token: number; bytes: number[]; logprob: number }>;
}

export interface GrammarConstraint {
  /** GBNF text, start rule `root`. */
  gbnf: string;
  /** Free output until a trigger word or token appears; constrained from the trigger on. */
  lazy?: { words: string[]; tokens: number[] };
  /**
   * The grammar describes text only (JSON): control tokens other than end-of-generation are banned.
   * The grammar reads a control token as its text (`<|im_start|>` may sit inside a JSON string),
   * but the client never sees that text, so what it reads could break the grammar's rules.
   */
  textOnly?: boolean;
}

/**
 * Where a reasoning model's thinking starts and ends, as the template writes it. The engine counts
 * the tokens between the markers and, once `budget` of them are spent, forces `end` + `after` into
 * the sequence (the template's way of closing the thinking) so that the answer begins.
 */
export interface ThinkingControl {
  /** Marker texts (tokenized with special tokens parsed, as llama.cpp does). */
  start: string;
  end: string;
  /** Text forced after `end` when the budget closes the thinking (the family's newline), may be "". */
  after: string;
  /** The prompt left the thinking open (DeepSeek-R1's `<think>`), closed it (thinking off), or to the model (Qwen3). */
  prompt: "open" | "closed" | "optional";
  /** What an open prompt wrote after the start marker (R1: "\n"): thinking already, so it counts against the budget, as in llama.cpp. */
  promptThinking?: string;
  /** Most tokens of thinking (-1: no limit, only counted; 0: closed at once). */
  budget: number;
}

export type FinishReason = "stop" | "length";

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  /** Tokens of thinking (between the markers), for requests with a ThinkingControl. */
  reasoningTokens?: number;
}

export interface Timings {
  promptN: number;
  promptMs: number;
  predictedN: number;
  predictedMs: number;
}

export type EngineErrorCode =
  | "context_length_exceeded"
  | "queue_full"
  | "invalid_request"
  | "invalid_grammar"
  | "model_unavailable"
  | "engine_failure"
  | "cancelled";

export type GenerateEvent =
  | { kind: "accepted"; promptTokens: number }
  /** `index`: the choice (0 when n is 1); `logprobs` (when asked) lines up with `tokens`. */
  | { kind: "text"; index?: number; text: string; tokens: number[]; logprobs?: TokenLogprob[] }
  /**
   * The last event of a choice; carries its final text (if any) so it arrives with finish_reason.
   * With n > 1 the prompt counts in choice 0's usage only.
   */
  | {
      kind: "done"; index?: number; text: string; tokens: number[]; logprobs?: TokenLogprob[]; finishReason: FinishReason;
      /** The entry of the request's `stop` that ended the choice (finish "stop"), if one did. */
      stopString?: string;
      usage: Usage; timings: Timings;
    }
  | { kind: "error"; code: EngineErrorCode; message: string };

export interface EngineHealth {
  /** Where the model is in its lifecycle (lifecycle.ts), with the error of a failed or crashed one. */
  state: ModelState;
  slotsTotal: number;
  slotsBusy: number;
  queued: number;
  /** Tokens held in the KV cache, and its capacity (0 when not loaded). */
  kvTokens: number;
  kvCapacity: number;
  /** Generations this side is still waiting on (authoritative; slotsBusy/queued lag a step). */
  inFlight: number;
}

/** One device and the model layers it holds (snake_case: it goes out as JSON as is). */
export interface DevicePlacement {
  name: string;
  type: "cpu" | "gpu" | "rpc";
  /** HOST:PORT of an RPC worker. */
  endpoint: string | null;
  /** Repeating layers held here, and their index range. */
  layers: number;
  first_layer: number | null;
  last_layer: number | null;
  /** Holds the output layer. */
  output: boolean;
}

export interface ModelInfo {
  nCtx: number;
  nCtxTrain: number;
  nVocab: number;
  nParams: number;
  sizeBytes: number;
  description: string;
  chatTemplate: string | null;
  bosText: string;
  eosText: string;
  metadata: Record<string, string>;
  /** Where the layers live (the CPU also holds the input layer). */
  devices?: DevicePlacement[];
  /** Most choices (n) one request may ask for. */
  maxChoices?: number;
  /** Set for embedding models: the width of their vectors (they serve embeddings, not generation). */
  nEmbd?: number;
  /** How the model pools token vectors ("mean", "cls", "last", "rank"), or null when it does not (a generative model). */
  pooling?: string | null;
  /** The model takes images (a vision projector is loaded with it). */
  vision?: boolean;
  /** Most tokens one decode step takes (--batch-size), and the output limit of a request that sets none (-1: none). */
  nBatch?: number;
  nPredict?: number;
  /** End-of-generation token ids (what ignore_eos bans), for llama-server's generation_settings. */
  eogTokens?: number[];
  /** Fill-in-the-middle tokens (null where the vocabulary has none) and the BOS a prompt starts with. */
  fim?: { pre: number | null; suf: number | null; mid: number | null; pad: number | null; rep: number | null; sep: number | null; bos: number | null; addBos: boolean };
}

export interface Engine {
  /** Streams the events of one generation; aborting `signal` stops it at the next step. */
  generate(request: GenerateRequest, signal?: AbortSignal): AsyncIterable<GenerateEvent>;
  tokenize(text: string, addSpecial: boolean, parseSpecial: boolean): Promise<number[]>;
  /**
   * Token ids of a prompt exactly as generate() would decode them; with `images` (vision models),
   * one negative id per image embedding, for counting.
   */
  tokenizePrompt(prompt: PromptSegment[], addSpecial: boolean, images?: ImageInput[]): Promise<number[]>;
  detokenize(tokens: number[]): Promise<string>;
  /** Each token's piece, as bytes (a piece may be part of a multi-byte character). */
  tokenPieces(tokens: number[]): Promise<Uint8Array[]>;
  /** One pooled vector per input, L2-normalized unless `normalize` is false (embedding models only). */
  embed(inputs: Array<string | number[]>, options?: { normalize?: boolean }): Promise<{ vectors: Float32Array[]; promptTokens: number }>;
  /** A reranker's (rank pooling) score of each document for the query, in order. */
  rerank(query: string, documents: string[]): Promise<{ scores: number[]; promptTokens: number }>;
  info(): Promise<ModelInfo>;
  /** llama-server's slot save / restore / erase (engine/slot-files.ts); engines without slots leave it out. */
  slotAction?(action: SlotAction): Promise<SlotActionResult>;
  health(): EngineHealth;
  close(): Promise<void>;
}

export class EngineError extends Error {
  constructor(
    readonly code: EngineErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "EngineError";
  }
}
