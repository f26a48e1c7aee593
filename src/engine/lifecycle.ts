// A model's lifecycle: every state a served model can be in, the moves allowed between them, and
// how each state is shown (meta.state in /v1/models, state in /health). The supervisor
// (RunnerEngine) owns the state and changes it only after checkTransition(); the registry,
// /health, /v1/models, /metrics and `hearth ps` read it through Engine.health(). ARCHITECTURE.md
// shows the same table (a test keeps the two equal).
import type { ModelInfo } from "./types.ts";

/**
 * A model's state together with what the supervisor holds in it: `R` is its runner process, and
 * `done` the start under way while a checkpoint is imported. Readers get ModelState (without them).
 */
export type Supervised<R> =
  | { state: "needs-import" }
  | { state: "unloaded" }
  | { state: "importing"; done: Promise<ModelInfo> }
  | { state: "loading"; runner: R }
  | { state: "loaded"; runner: R; info: ModelInfo }
  | { state: "exiting"; runner: R }
  | { state: "crashed"; error: string }
  /** retryAt: when the next reload is tried (ms since epoch; RPC workers lost), or null: on the next request. */
  | { state: "failed"; error: string; retryAt: number | null }
  | { state: "stopping"; runner: R }
  | { state: "closed" };

type WithoutHeld<S> = S extends unknown ? Omit<S, "runner" | "done"> : never;

/** A model's state as plain data, for everything that reads it. */
export type ModelState = WithoutHeld<Supervised<unknown>>;
export type StateName = ModelState["state"];

/** meta.state in /v1/models (the wire values stay as they were). */
export type ListedState = "available" | "loading" | "loaded" | "failed" | "needs-import";
/** state in /health. */
export type HealthState = "starting" | "loaded" | "failed";

/** Each state: what it means, where it may go next, and how it is shown. */
export const LIFECYCLE = {
  "needs-import": { next: ["importing", "closed"], listed: "needs-import", health: "starting", means: "a checkpoint folder not converted to GGUF yet" },
  unloaded: { next: ["importing", "loading", "closed"], listed: "available", health: "starting", means: "no runner; the next request loads the model" },
  importing: { next: ["loading", "failed", "closed"], listed: "loading", health: "starting", means: "a checkpoint is converted (on first use; from the cache after)" },
  loading: { next: ["loaded", "failed", "exiting", "stopping"], listed: "loading", health: "starting", means: "a runner was started and loads the weights" },
  loaded: { next: ["exiting", "stopping"], listed: "loaded", health: "loaded", means: "the runner serves requests" },
  exiting: { next: ["unloaded", "crashed", "failed"], listed: "available", health: "starting", means: "the runner died; its last stderr lines are read to say why (≤ 1 s)" },
  crashed: { next: ["importing", "loading", "closed"], listed: "available", health: "starting", means: "the runner died while serving; the next request starts a new one" },
  failed: { next: ["importing", "loading", "failed", "closed"], listed: "failed", health: "failed", means: "the load or import failed (the next request tries again), or an RPC worker was lost (probed and reloaded with back-off)" },
  stopping: { next: ["closed"], listed: "available", health: "starting", means: "unloading: the runner was told to stop (killed after 3 s)" },
  closed: { next: [], listed: "available", health: "starting", means: "unloaded for good; later requests on this engine are refused" },
} as const satisfies Record<StateName, { next: readonly StateName[]; listed: ListedState; health: HealthState; means: string }>;

export class IllegalTransition extends Error {
  override name = "IllegalTransition";
  constructor(readonly from: StateName, readonly to: StateName) {
    super(`illegal model state transition ${from} → ${to}`);
  }
}

/** Throws IllegalTransition unless the table allows `from → to`: a bug in the supervisor, caught by its tests. */
export function checkTransition(from: StateName, to: StateName): void {
  if (!(LIFECYCLE[from].next as readonly StateName[]).includes(to)) throw new IllegalTransition(from, to);
}

/** The plain-data view of a supervised state. */
export function publicState<R>(s: Supervised<R>): ModelState {
  switch (s.state) {
    case "loaded":
      return { state: "loaded", info: s.info };
    case "crashed":
      return { state: "crashed", error: s.error };
    case "failed":
      return { state: "failed", error: s.error, retryAt: s.retryAt };
    default:
      return { state: s.state };
  }
}
