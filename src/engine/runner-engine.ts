// RunnerEngine: the Engine interface, implemented by supervising one runner child process.
//
// The HTTP process never touches libllama. It spawns the runner (this same program with a
// hidden `__runner` command), sends it requests, and turns its per-step event batches back into
// one async stream per request. If the runner dies (a native abort, a kill), every request it
// had fails with a clean error and a new runner is started for the next request.
//
// A model split over RPC workers also fails when a worker goes away (ggml aborts the runner).
// Then the model is "failed" with the reason, requests get that reason at once, and the engine
// probes the workers with back-off and reloads the model as soon as they answer again. A worker
// that stops answering without closing its socket would block the runner forever: a watchdog
// kills a runner that owes requests and has said nothing for --rpc-timeout seconds.
//
// The model's state is one value (lifecycle.ts: its states, the moves between them and how each
// is shown); every change goes through to(), which refuses a move the table does not allow.
// (Past 350 lines on purpose: every move of that state is here, where it can be read in one go;
// the process itself is runner-process.ts.)
import { basename, resolve } from "node:path";
import { checkTransition, publicState, type Supervised } from "./lifecycle.ts";
import { EventChannel } from "./event-channel.ts";
import { RunnerProcess } from "./runner-process.ts";
import { probeWorkers } from "./rpc-workers.ts";
import { recordRunnerCacheStats } from "./prompt-cache/totals.ts";
import type { SlotAction, SlotActionResult } from "./slot-files.ts";
import { recordRunnerVision } from "./vision-totals.ts";
import { log } from "../util/log.ts";
import { SERVE_DEFAULTS } from "../options/serve.ts";
import type { FromRunner, RunnerConfig, ToRunner } from "./runner-protocol.ts";
import {
  type Engine,
  type EngineHealth,
  EngineError,
  type GenerateEvent,
  type GenerateRequest,
  type ImageInput,
  type ModelInfo,
  type PromptSegment,
} from "./types.ts";

/** The command that starts a runner: the compiled binary itself, or bun with our CLI source. */
export function runnerCommand(): string[] {
  const compiled = import.meta.dir.startsWith("/$bunfs") || import.meta.dir.includes("~BUN");
  return compiled ? [process.execPath, "__runner"] : [process.execPath, resolve(import.meta.dir, "../cli.ts"), "__runner"];
}

export interface SupervisorOptions {
  /** The command that starts a runner (default: runnerCommand()); tests start a fake one. */
  command?: string[];
  /**
   * Makes the GGUF to load and returns its path, before every start from a state without a
   * runner (a checkpoint's import: converted on first use, found in the cache after).
   */
  prepare?: () => Promise<string>;
  /** Begin as "needs-import" (a checkpoint not converted yet) rather than "unloaded". */
  needsImport?: boolean;
  /** Called when a load ends and when the last request in flight ends (the registry's idle clock). */
  onIdle?: () => void;
}

type State = Supervised<RunnerProcess>;

const unloadedError = () => new EngineError("model_unavailable", "the model was unloaded");

export class RunnerEngine implements Engine {
  private state: State;
  private readonly channels = new Map<string, EventChannel>();
  private readonly replies = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  /** The runner's last "status" (slots and queue lag a step; zeroed when it dies). */
  private status = { slotsBusy: 0, queued: 0, kvTokens: 0, kvCapacity: 0 };
  /** Failed reloads in a row while RPC workers are away (the back-off's exponent). */
  private recoveryAttempt = 0;
  private readonly name: string;

  /** Retry delays while a model's workers are away: 1 s, doubling up to 30 s. */
  private readonly backoff = { firstMs: 1000, maxMs: 30_000 };

  constructor(
    private readonly config: RunnerConfig,
    private readonly options: SupervisorOptions = {},
  ) {
    this.name = basename(config.modelPath);
    this.state = { state: options.needsImport ? "needs-import" : "unloaded" };
  }

  private get usesWorkers(): boolean {
    return (this.config.rpc?.length ?? 0) > 0;
  }

  /** The one place the state changes; a move lifecycle.ts does not allow throws. */
  private to(next: State): void {
    checkTransition(this.state.state, next.state);
    log("debug", `${this.name}: ${this.state.state} → ${next.state}`);
    this.state = next;
    if (next.state === "loaded") {
      this.recoveryAttempt = 0;
      this.options.onIdle?.();
    }
  }

  /** The state holds `runner` (it is the current one, not one given up on). */
  private holds(runner: RunnerProcess): boolean {
    return "runner" in this.state && this.state.runner === runner;
  }

  /** Loads the model if it is not loaded; concurrent callers share one start. */
  start(): Promise<ModelInfo> {
    const s = this.state;
    switch (s.state) {
      case "loaded":
        return Promise.resolve(s.info);
      case "loading":
        return s.runner.load.promise;
      case "importing":
        return s.done;
      case "exiting":
        // Until the dead runner's exit is handled, a new runner's requests could be failed with its reason.
        return s.runner.ended.then(() => this.start());
      case "stopping":
      case "closed":
        return Promise.reject(unloadedError());
      case "failed":
        if (s.retryAt !== null) {
          const wait = Math.max(0, Math.ceil((s.retryAt - Date.now()) / 1000));
          return Promise.reject(new EngineError("model_unavailable", `${s.error} (next retry in ${wait} s)`));
        }
        return this.bringUp();
      case "needs-import":
      case "unloaded":
      case "crashed":
        return this.bringUp();
    }
  }

  /** Prepares (imports) if there is a step for it, then spawns a runner. */
  private bringUp(): Promise<ModelInfo> {
    const prepare = this.options.prepare;
    if (!prepare) return this.spawn();
    const done = Promise.withResolvers<ModelInfo>();
    const importing: State = { state: "importing", done: done.promise };
    this.to(importing);
    prepare().then(
      path => {
        if (this.state !== importing) return done.reject(unloadedError());
        this.config.modelPath = path;
        done.resolve(this.spawn());
      },
      (err: Error) => {
        if (this.state === importing) this.to({ state: "failed", error: err.message, retryAt: null });
        done.reject(new EngineError("model_unavailable", err.message));
      },
    );
    return done.promise;
  }

  private spawn(): Promise<ModelInfo> {
    let runner: RunnerProcess;
    try {
      runner = new RunnerProcess(this.options.command ?? runnerCommand(), this.config, this.name, {
        message: message => this.onMessage(runner, message),
        exit: () => this.onExit(runner),
      });
    } catch (err) {
      return Promise.reject(new EngineError("model_unavailable", `could not start the model runner: ${(err as Error).message}`));
    }
    this.to({ state: "loading", runner });
    const limitMs = (this.config.rpcTimeoutS ?? SERVE_DEFAULTS["rpc-timeout"]) * 1000;
    if (this.usesWorkers && limitMs > 0) {
      runner.watch(limitMs, () => this.holds(runner) && this.channels.size > 0, reason => {
        log("error", `${this.name}: ${reason}; stopping its runner`);
      });
    }
    return runner.load.promise;
  }

  /** Goes to "failed"; with RPC workers, probes them after a back-off and reloads when they answer. */
  private fail(error: string): void {
    if (!this.usesWorkers) return this.to({ state: "failed", error, retryAt: null });
    const delay = Math.min(this.backoff.maxMs, this.backoff.firstMs * 2 ** this.recoveryAttempt++);
    const failed: State = { state: "failed", error, retryAt: Date.now() + delay };
    this.to(failed);
    const timer = setTimeout(() => void this.retry(failed), delay);
    timer.unref?.();
  }

  private async retry(failed: State): Promise<void> {
    if (this.state !== failed) return; // unloaded meanwhile
    try {
      await probeWorkers(this.config.rpc!);
    } catch (err) {
      if (this.state === failed) this.fail((err as Error).message);
      return;
    }
    if (this.state !== failed) return;
    // A load that fails goes back to "failed" with the next retry (onMessage / afterExit).
    await this.spawn().then(
      () => log("info", `${this.name} is back: its RPC workers answer again`),
      () => {},
    );
  }

  private onMessage(runner: RunnerProcess, message: FromRunner): void {
    if (!this.holds(runner)) return; // a runner given up on (its load failed) may still be talking
    const hadWork = this.channels.size + this.replies.size > 0;
    switch (message.type) {
      case "ready":
        if (this.state.state !== "loading") return; // told to stop meanwhile
        log("info", `loaded ${this.name} in ${((performance.now() - runner.startedAt) / 1000).toFixed(1)} s`);
        this.to({ state: "loaded", runner, info: message.info });
        runner.load.resolve(message.info);
        return;
      case "failed":
        runner.failedMessage = message.message;
        if (this.state.state !== "loading") return;
        this.fail(message.message);
        runner.load.reject(new EngineError("model_unavailable", message.message));
        return;
      case "events":
        for (const [id, event] of message.events) {
          const channel = this.channels.get(id);
          channel?.push(event);
          if (channel?.closed) this.channels.delete(id);
        }
        break;
      case "prompt-cache":
        recordRunnerCacheStats(runner, message.stats, message.diskBytes);
        break;
      case "vision":
        recordRunnerVision(runner, message);
        break;
      case "status":
        this.status = { slotsBusy: message.slotsBusy, queued: message.queued, kvTokens: message.kvTokens, kvCapacity: message.kvCapacity };
        break;
      case "reply": {
        const waiter = this.replies.get(message.id);
        this.replies.delete(message.id);
        if (message.error !== undefined) waiter?.reject(new EngineError("invalid_request", message.error));
        else waiter?.resolve(message.result);
        break;
      }
    }
    if (hadWork && this.channels.size + this.replies.size === 0) this.options.onIdle?.();
  }

  /** The process is gone: unless it was told to stop (close() handles that), say why once stderr is read. */
  private onExit(runner: RunnerProcess): void {
    const s = this.state;
    if (!this.holds(runner) || s.state === "stopping" || s.state === "exiting") return;
    this.to({ state: "exiting", runner });
    void runner.ended.then(exit => {
      if (!this.holds(runner)) return;
      this.status = { slotsBusy: 0, queued: 0, kvTokens: 0, kvCapacity: 0 };
      const wasLoading = s.state === "loading";
      const reason = runner.deathReason(exit.why);
      if (wasLoading) {
        const error = runner.failedMessage ?? reason.replace("unexpectedly", "while loading");
        this.fail(error);
        runner.load.reject(new EngineError("model_unavailable", error));
      } else if (exit.clean) {
        // A clean exit is a runner whose IPC channel closed, not a lost worker.
        this.to({ state: "unloaded" });
        this.failInFlight(reason, "engine_failure");
      } else if (this.usesWorkers) {
        // Most likely a worker went away: the model is unavailable until the workers answer.
        log("error", `${this.name} is unavailable: ${reason}; retrying with back-off`);
        this.fail(reason);
        this.failInFlight(reason, "model_unavailable");
      } else {
        log("error", `model runner for ${this.config.modelPath} stopped (${exit.why}); it restarts on the next request`);
        this.to({ state: "crashed", error: reason });
        this.failInFlight(reason, "engine_failure");
      }
    });
  }

  private failInFlight(message: string, code: "engine_failure" | "model_unavailable"): void {
    for (const channel of this.channels.values()) channel.push({ kind: "error", code, message });
    this.channels.clear();
    for (const waiter of this.replies.values()) waiter.reject(new EngineError(code, message));
    this.replies.clear();
  }

  /** The loaded model's runner; throws when the model is not (or no longer) loaded. */
  private serving(): RunnerProcess {
    if (this.state.state === "loaded") return this.state.runner;
    throw new EngineError("engine_failure", `the model runner stopped (the model is ${this.state.state})`);
  }

  generate(request: GenerateRequest, signal?: AbortSignal): AsyncIterable<GenerateEvent> {
    const id = `g${++this.nextId}`;
    let runner: RunnerProcess | null = null;
    const onAbort = () => {
      if (runner && this.holds(runner)) runner.send({ type: "cancel", id });
    };
    // No generator around the channel: each event goes from the IPC handler to the consumer's
    // pending next() directly (event-channel.ts).
    const channel = new EventChannel(request.n ?? 1, {
      open: async () => {
        await this.start();
        runner = this.serving();
        this.channels.set(id, channel);
        signal?.addEventListener("abort", onAbort, { once: true });
        runner.send({ type: "generate", id, request });
        if (signal?.aborted) onAbort();
      },
      stop: finished => {
        signal?.removeEventListener("abort", onAbort);
        // A consumer that stops early (client gone) frees the slot.
        if (!finished) onAbort();
      },
    });
    return channel;
  }

  private async call<T>(message: ToRunner & { id: string }): Promise<T> {
    await this.start();
    const runner = this.serving();
    return new Promise<T>((resolve, reject) => {
      this.replies.set(message.id, { resolve: v => resolve(v as T), reject });
      runner.send(message);
    });
  }

  tokenize(text: string, addSpecial: boolean, parseSpecial: boolean): Promise<number[]> {
    return this.call({ type: "tokenize", id: `t${++this.nextId}`, text, addSpecial, parseSpecial });
  }

  tokenizePrompt(prompt: PromptSegment[], addSpecial: boolean, images?: ImageInput[]): Promise<number[]> {
    return this.call({ type: "tokenize-prompt", id: `t${++this.nextId}`, prompt, addSpecial, ...(images?.length ? { images } : {}) });
  }

  detokenize(tokens: number[]): Promise<string> {
    return this.call({ type: "detokenize", id: `t${++this.nextId}`, tokens });
  }

  async tokenPieces(tokens: number[]): Promise<Uint8Array[]> {
    const pieces = await this.call<number[][]>({ type: "pieces", id: `t${++this.nextId}`, tokens });
    return pieces.map(bytes => Uint8Array.from(bytes));
  }

  rerank(query: string, documents: string[]): Promise<{ scores: number[]; promptTokens: number }> {
    return this.call({ type: "rerank", id: `t${++this.nextId}`, query, documents });
  }

  async embed(inputs: Array<string | number[]>, options: { normalize?: boolean } = {}): Promise<{ vectors: Float32Array[]; promptTokens: number }> {
    const message = { type: "embed" as const, id: `t${++this.nextId}`, inputs, ...(options.normalize === false ? { normalize: false } : {}) };
    const { vectors, promptTokens } = await this.call<{ vectors: number[][]; promptTokens: number }>(message);
    // float32 → JSON number → float32 is exact (the shortest decimal that reads back as the same double).
    return { vectors: vectors.map(v => Float32Array.from(v)), promptTokens };
  }

  slotAction(action: SlotAction): Promise<SlotActionResult> {
    return this.call({ type: "slot-action", id: `t${++this.nextId}`, action });
  }

  info(): Promise<ModelInfo> {
    return this.start();
  }

  health(): EngineHealth {
    const loaded = this.state.state === "loaded";
    return {
      state: publicState(this.state),
      slotsTotal: this.config.parallel,
      slotsBusy: this.status.slotsBusy,
      queued: this.status.queued,
      kvTokens: loaded ? this.status.kvTokens : 0,
      kvCapacity: loaded ? this.status.kvCapacity : 0,
      inFlight: this.channels.size,
    };
  }

  /** Stops the runner (if any) for good; in-flight requests fail, and later ones get model_unavailable. */
  async close(): Promise<void> {
    const s = this.state;
    switch (s.state) {
      case "closed":
        return;
      case "stopping":
        await s.runner.ended;
        return;
      case "exiting":
        await s.runner.ended; // its exit is handled first (that callback was registered first)
        return this.close();
      case "loading":
      case "loaded": {
        const runner = s.runner;
        this.to({ state: "stopping", runner });
        runner.send({ type: "shutdown" });
        // With the prompt cache on, the runner first writes its slots' sequences to disk (a 7B
        // model's 12k-token slot is ~1.5 GB): it exits as soon as they are written.
        const graceMs = this.config.promptCache?.maxBytes ? 30_000 : 3000;
        const exited = await Promise.race([runner.exited.then(() => true), Bun.sleep(graceMs).then(() => false)]);
        if (!exited) runner.kill();
        const exit = await runner.ended;
        this.status = { slotsBusy: 0, queued: 0, kvTokens: 0, kvCapacity: 0 };
        this.to({ state: "closed" });
        runner.load.reject(unloadedError());
        this.failInFlight(runner.deathReason(exit.why), "engine_failure");
        return;
      }
      default:
        // A retry timer still pending finds the state changed and does nothing; an import under way
        // finishes without starting a runner.
        this.to({ state: "closed" });
    }
  }
}
