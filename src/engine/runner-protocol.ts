// Messages between the HTTP process and a model's runner process (Bun IPC, JSON serialization:
// typed arrays travel as plain arrays). Per step, never per byte: one "events" message carries
// every job's output.
import type { LoadModeSetting } from "./load-mode.ts";
import type { FlashAttnMode, KvCacheType } from "../llama/kv-cache-types.ts";
import type { PromptCacheConfig, PromptCacheStats } from "./prompt-cache/prompt-cache.ts";
import type { SlotAction } from "./slot-files.ts";
import type { GenerateEvent, GenerateRequest, ImageInput, ModelInfo, PromptSegment } from "./types.ts";

export interface RunnerConfig {
  modelPath: string;
  nCtx: number;
  parallel: number;
  nBatch: number;
  threads: number;
  gpuLayers: number;
  /** -ctk / -ctv / -fa (default f16, f16, auto). */
  cacheTypeK?: KvCacheType;
  cacheTypeV?: KvCacheType;
  flashAttn?: FlashAttnMode;
  /** The prompt cache on disk (prompt-cache/); absent or a budget of 0: off. */
  promptCache?: PromptCacheConfig;
  /** The vision projector (mmproj GGUF) paired with the model; absent: the model takes no images. */
  mmproj?: string;
  /** How the weights reach memory (load-mode.ts); default "auto". */
  loadMode?: LoadModeSetting;
  /** RPC workers (HOST:PORT) whose devices take layers, as llama-server's --rpc. */
  rpc?: string[];
  /** Weights of the offload devices in llama.cpp's order (RPC workers first, then GPUs). */
  tensorSplit?: number[];
  /** Kill a runner that owes requests and has been silent this long (a hung worker); 0 = never. */
  rpcTimeoutS?: number;
  queueSize: number;
  /** Text of a request already streaming is sent at most this often, several steps' tokens in one message (outbox.ts); 0 or absent: every step. */
  streamIntervalMs?: number;
  /** Output limit of a request that sets none (--n-predict / a model's max_tokens); -1 or absent: until end of generation or context. */
  nPredict?: number;
  verbose: boolean;
  /** Write load progress lines to stderr for the supervisor (see hearth_shim.c). */
  reportProgress?: boolean;
}

export type ToRunner =
  | { type: "init"; config: RunnerConfig }
  | { type: "generate"; id: string; request: GenerateRequest }
  | { type: "cancel"; id: string }
  | { type: "tokenize"; id: string; text: string; addSpecial: boolean; parseSpecial: boolean }
  | { type: "detokenize"; id: string; tokens: number[] }
  | { type: "tokenize-prompt"; id: string; prompt: PromptSegment[]; addSpecial: boolean; images?: ImageInput[] }
  | { type: "pieces"; id: string; tokens: number[] }
  | { type: "embed"; id: string; inputs: Array<string | number[]>; normalize?: boolean }
  | { type: "rerank"; id: string; query: string; documents: string[] }
  /** llama-server's POST /slots/{id}?action=… (slot-files.ts); the reply is a SlotActionResult. */
  | { type: "slot-action"; id: string; action: SlotAction }
  | { type: "shutdown" };

export type FromRunner =
  | { type: "ready"; info: ModelInfo }
  | { type: "failed"; message: string }
  | { type: "events"; events: Array<[string, GenerateEvent]> }
  | { type: "status"; slotsBusy: number; queued: number; kvTokens: number; kvCapacity: number }
  /** The runner's prompt cache counters since it started, after each change; diskBytes: the cache directory's size. */
  | { type: "prompt-cache"; stats: PromptCacheStats; diskBytes: number }
  /** The vision encoder's counters since the runner started, after each change (engine/vision.ts). */
  | { type: "vision"; encodes: number; cacheHits: number }
  | { type: "reply"; id: string; result?: unknown; error?: string };
