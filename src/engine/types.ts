// The narrow engine interface the API talks to. Plain data only: no HTTP, no pointers.
// RunnerEngine implements it over a child process; tests implement it with fakes.

/** A piece of prompt text and whether special-token text in it may become control tokens. */
export interface PromptSegment {
  text: string;
  parseSpecial: boolean;
}

export interface GenerateRequest {
  /** The prompt: raw text segments (tokenized by the engine) or token ids. */
  prompt: PromptSegment[] | number[];
  /** Add BOS etc. as the vocabulary wants (true for raw completions; chat templates write their own). */
  addSpecial: boolean;
  /** null = up to the end of the context. */
  maxTokens: number | null;
  stop: string[];
  ignoreEos: boolean;
  /** Extra tokens that end the turn (a chat family's stop tokens), beyond the vocab's end-of-generation set. */
  stopTokens?: string[];
  /** Control tokens whose text is kept in the output (e.g. `<|python_tag|>`), where it is otherwise dropped. */
  preserveTokens?: string[];
  cachePrompt: boolean;
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

export type FinishReason = "stop" | "length";

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
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
  | { kind: "text"; text: string; tokens: number[] }
  /** The last event; carries the final text (if any) so it arrives with finish_reason. */
  | { kind: "done"; text: string; tokens: number[]; finishReason: FinishReason; usage: Usage; timings: Timings }
  | { kind: "error"; code: EngineErrorCode; message: string };

export interface EngineHealth {
  state: "starting" | "ready" | "failed";
  slotsTotal: number;
  slotsBusy: number;
  queued: number;
  /** Tokens held in the KV cache, and its capacity (0 when not loaded). */
  kvTokens: number;
  kvCapacity: number;
  /** Generations this side is still waiting on (authoritative; slotsBusy/queued lag a step). */
  inFlight: number;
  error?: string;
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
}

export interface Engine {
  /** Streams the events of one generation; aborting `signal` stops it at the next step. */
  generate(request: GenerateRequest, signal?: AbortSignal): AsyncIterable<GenerateEvent>;
  tokenize(text: string, addSpecial: boolean, parseSpecial: boolean): Promise<number[]>;
  /** Token ids of a prompt exactly as generate() would decode them. */
  tokenizePrompt(prompt: PromptSegment[], addSpecial: boolean): Promise<number[]>;
  detokenize(tokens: number[]): Promise<string>;
  info(): Promise<ModelInfo>;
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
