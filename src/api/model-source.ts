// What the API needs from the model layer: find a model by id and get its engine. The real one
// is the ModelRegistry; route tests pass a fake one with a fake engine.
import type { ChatRenderer } from "../chat/renderer.ts";
import type { HealthState, ListedState } from "../engine/lifecycle.ts";
import type { DevicePlacement, Engine, ModelInfo } from "../engine/types.ts";
import type { Defaults } from "./sampling-schema.ts";

export interface ModelListing {
  id: string;
  created: number;
  sizeBytes: number;
  /** The GGUF file served (absent for a checkpoint folder): Ollama's digest and /api/show read it. */
  file?: { path: string; mtimeMs: number };
  /** The model's lifecycle state as /v1/models shows it (engine/lifecycle.ts); "loaded" means its runner is up. */
  state: ListedState;
  /** Why it failed (state "failed"). */
  error?: string;
  slots?: { total: number; busy: number };
  info?: ModelInfo;
  /** Detected chat family and how prompts are rendered, once loaded. */
  family?: string;
  chatTemplate?: string;
  /** RPC workers (HOST:PORT) configured for this model. */
  workers?: string[];
  /** Other names (aliases and `*` patterns, as given) that resolve to this model. */
  aliases?: string[];
  /** From the GGUF header, without loading the model. */
  architecture?: string | null;
  parameters?: number;
  quantization?: string | null;
  contextLength?: number | null;
}

export interface AcquiredModel {
  id: string;
  engine: Engine;
  info: ModelInfo;
  chat: ChatRenderer;
  defaults?: Defaults;
  /** Thinking budget of a request that sets none (hearth.json's reasoning_budget, --reasoning-budget); -1 or absent: no limit. */
  reasoningBudget?: number;
  /** A fingerprint of the model file and build, for system_fingerprint. */
  fingerprint: string;
  /** The model file (llama-server's /props model_path). */
  path?: string;
}

export interface ModelSource {
  list(): Promise<ModelListing[]>;
  /** The model of a request that names none (--default-model, else the only model), if there is one. */
  defaultId(): string | undefined;
  /**
   * Resolves a request's `model` (src/models/model-names.ts: alias, id, `*` pattern; omitted or
   * empty: the default model) and loads it if needed. Throws ModelNotFoundError for unknown names,
   * ModelNotNamedError when none is named and no default applies.
   */
  acquire(name?: string | null): Promise<AcquiredModel>;
  /** Stops the named model's runner (its requests fail); false when it was not loaded. Throws as acquire. */
  unload(name?: string | null): Promise<boolean>;
  // Model management Ollama's API offers (the registry has them; test fakes may not).
  /** keep_alive for a loaded model (seconds; negative: keep, 0: unload once idle). */
  keepAlive?(id: string, seconds: number): Promise<void>;
  /** When a loaded model is unloaded if it stays idle (ms since epoch), or null. */
  expiresAt?(id: string): number | null;
  /** A new name for a model. */
  addAlias?(name: string, id: string): void;
  /** Deletes a model Hearth pulled or imported under `home`/models; returns its id. */
  remove?(name: string, home: string): Promise<string>;
  /** Readiness for /health. */
  health(): {
    ok: boolean;
    models: Array<{
      id: string; state: HealthState; slotsBusy: number; slotsTotal: number; queued: number; inFlight?: number;
      kvTokens?: number; kvCapacity?: number; devices?: DevicePlacement[];
    }>;
  };
}
