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
import type { Subprocess } from "bun";
import { basename, resolve } from "node:path";
import { relayRunnerStderr } from "./load-progress.ts";
import { probeWorkers } from "./rpc-workers.ts";
import { log } from "../util/log.ts";
import { SERVE_DEFAULTS } from "../options/serve.ts";
import type { FromRunner, RunnerConfig, ToRunner } from "./runner-protocol.ts";
import {
  type Engine,
  type EngineHealth,
  EngineError,
  type GenerateEvent,
  type GenerateRequest,
  type ModelInfo,
  type PromptSegment,
} from "./types.ts";

/** The command that starts a runner: the compiled binary itself, or bun with our CLI source. */
export function runnerCommand(): string[] {
  const compiled = import.meta.dir.startsWith("/$bunfs") || import.meta.dir.includes("~BUN");
  return compiled ? [process.execPath, "__runner"] : [process.execPath, resolve(import.meta.dir, "../cli.ts"), "__runner"];
}

/** A stream of events for one request (all of its n choices), fed by the IPC handler. */
class EventChannel {
  private items: GenerateEvent[] = [];
  private waiting: (() => void) | null = null;
  closed = false;
  private pendingChoices: number;

  constructor(choices: number) {
    this.pendingChoices = choices;
  }

  /** The request ends with an error or when every choice is done. */
  private ends(event: GenerateEvent): boolean {
    return event.kind === "error" || (event.kind === "done" && --this.pendingChoices === 0);
  }

  push(event: GenerateEvent): void {
    this.items.push(event);
    if (this.ends(event)) this.closed = true;
    this.waiting?.();
  }

  async *drain(): AsyncGenerator<GenerateEvent> {
    for (;;) {
      while (this.items.length > 0) {
        const event = this.items.shift()!;
        yield event;
        if (this.closed && this.items.length === 0) return;
      }
      await new Promise<void>(resolve => (this.waiting = resolve));
      this.waiting = null;
    }
  }
}

export class RunnerEngine implements Engine {
  private child: Subprocess | null = null;
  private starting: Promise<ModelInfo> | null = null;
  private modelInfo: ModelInfo | null = null;
  private readonly channels = new Map<string, EventChannel>();
  private readonly replies = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private state: EngineHealth["state"] = "starting";
  private lastError: string | undefined;
  private slotsBusy = 0;
  private queued = 0;
  private kvTokens = 0;
  private kvCapacity = 0;
  private closing = false;
  /** The runner's last stderr lines: a native abort explains itself there. */
  private stderrTail: string[] = [];
  // Recovery of a model whose RPC workers went away (see the file comment).
  private recovering = false;
  private recoveryAttempt = 0;
  private recoveryTimer: ReturnType<typeof setTimeout> | null = null;
  private nextRetryAt = 0;
  private lastHeardAt = 0;
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private killReason: string | null = null;
  /** Set while a dead runner's exit is being handled. */
  private exiting: Promise<void> | null = null;

  /** Retry delays while a model's workers are away: 1 s, doubling up to 30 s. */
  private readonly backoff = { firstMs: 1000, maxMs: 30_000 };

  constructor(private readonly config: RunnerConfig) {}

  private get usesWorkers(): boolean {
    return (this.config.rpc?.length ?? 0) > 0;
  }

  /** Starts the runner if it is not running; concurrent callers share one start. */
  start(): Promise<ModelInfo> {
    if (this.modelInfo && this.child) return Promise.resolve(this.modelInfo);
    if (this.exiting) return this.exiting.then(() => this.start());
    if (this.recovering && !this.starting) {
      const wait = Math.max(0, Math.ceil((this.nextRetryAt - Date.now()) / 1000));
      return Promise.reject(new EngineError("model_unavailable", `${this.lastError ?? "an RPC worker is unavailable"} (next retry in ${wait} s)`));
    }
    this.starting ??= this.spawn().finally(() => (this.starting = null));
    return this.starting;
  }

  /** Waits with back-off until every worker answers, then reloads; until then the model is "failed". */
  private scheduleRecovery(): void {
    if (this.closing || this.recoveryTimer || !this.usesWorkers) return;
    this.recovering = true;
    const delay = Math.min(this.backoff.maxMs, this.backoff.firstMs * 2 ** this.recoveryAttempt++);
    this.nextRetryAt = Date.now() + delay;
    this.recoveryTimer = setTimeout(async () => {
      this.recoveryTimer = null;
      if (this.closing) return;
      try {
        await probeWorkers(this.config.rpc!);
      } catch (err) {
        this.lastError = (err as Error).message;
        return this.scheduleRecovery();
      }
      this.starting ??= this.spawn().finally(() => (this.starting = null));
      await this.starting.then(
        () => {
          this.recovering = false;
          this.recoveryAttempt = 0;
          log("info", `${basename(this.config.modelPath)} is back: its RPC workers answer again`);
        },
        () => this.scheduleRecovery(),
      );
    }, delay);
    this.recoveryTimer.unref?.();
  }

  /** Kills a runner that owes requests and has been silent too long (a worker that hangs). */
  private watch(child: Subprocess): void {
    const limitMs = (this.config.rpcTimeoutS ?? SERVE_DEFAULTS["rpc-timeout"]) * 1000;
    if (!this.usesWorkers || limitMs <= 0) return;
    this.watchdog = setInterval(() => {
      if (this.child !== child || this.channels.size === 0 || Date.now() - this.lastHeardAt < limitMs) return;
      this.killReason = `no progress for ${limitMs / 1000} s: an RPC worker stopped answering`;
      log("error", `${basename(this.config.modelPath)}: ${this.killReason}; stopping its runner`);
      child.kill("SIGKILL");
    }, Math.min(1000, limitMs / 4));
    this.watchdog.unref?.();
  }

  /** Why a runner died: ggml's abort line when there is one. */
  private deathReason(why: string): string {
    // ggml's own abort line ("ggml-rpc.cpp:566: Remote RPC server crashed …") beats Bun's "panic: abort() called".
    const tail = [...this.stderrTail].reverse();
    const native = this.killReason ?? (tail.find(l => /\.(c|cpp|h):\d+: /.test(l)) ?? tail.find(l => /GGML_ASSERT|error|abort/i.test(l)))?.trim();
    this.killReason = null;
    return `the model runner stopped unexpectedly (${why})${native ? `: ${native}` : ""}`;
  }

  private spawn(): Promise<ModelInfo> {
    this.state = "starting";
    if (!this.recovering) this.lastError = undefined;
    this.stderrTail = [];
    return new Promise<ModelInfo>((resolveStart, rejectStart) => {
      let started = false;
      let failedMessage: string | undefined;
      const t0 = performance.now();
      const child = Bun.spawn(runnerCommand(), {
        stdio: ["ignore", "inherit", "pipe"],
        // JSON, not "advanced" (structured clone): measured here, sending a step's events took the
        // runner's token loop 0.12-0.19 ms as JSON against 0.26-0.39 ms cloned (20 against 72 us
        // in isolation), time spent between two decodes. The typed arrays of two replies travel as
        // plain arrays.
        serialization: "json",
        env: { ...process.env },
        ipc: (message: FromRunner) => {
          this.lastHeardAt = Date.now();
          if (message.type === "ready") {
            started = true;
            log("info", `loaded ${basename(this.config.modelPath)} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
            this.modelInfo = message.info;
            this.state = "ready";
            this.lastError = undefined;
            resolveStart(message.info);
          } else if (message.type === "failed") {
            this.lastError = failedMessage = message.message;
            this.state = "failed";
            rejectStart(new EngineError("model_unavailable", message.message));
            this.scheduleRecovery();
          } else {
            this.onMessage(message);
          }
        },
        onExit: (_proc, exitCode, signalCode) => {
          if (this.child === child) this.child = null;
          if (this.watchdog) clearInterval(this.watchdog);
          this.watchdog = null;
          if (started) this.modelInfo = null;
          // The abort line may still be in the stderr pipe: read it to the end first (bounded).
          // Until then start() waits, so a new runner's requests are not failed with this one's.
          this.exiting = Promise.race([stderrDone, Bun.sleep(1000)]).then(() => {
            this.exiting = null;
            onRunnerExit(exitCode, signalCode ? String(signalCode) : null);
          });
        },
      });
      const onRunnerExit = (exitCode: number | null, signalCode: string | null) => {
        const why = signalCode ? `signal ${signalCode}` : `exit code ${exitCode}`;
        if (!started) {
          this.state = "failed";
          this.lastError = failedMessage ?? this.deathReason(why).replace("unexpectedly", "while loading");
          rejectStart(new EngineError("model_unavailable", this.lastError));
          this.scheduleRecovery();
          return;
        }
        this.slotsBusy = this.queued = this.kvTokens = this.kvCapacity = 0;
        const reason = this.deathReason(why);
        // A clean exit is a runner told to stop (shutdown, or its IPC channel closed), not a lost worker.
        if (this.closing || (exitCode === 0 && !signalCode)) {
          this.state = "starting";
          return this.failInFlight(reason, "engine_failure");
        }
        if (this.usesWorkers) {
          // Most likely a worker went away: the model is unavailable until the workers answer.
          log("error", `${basename(this.config.modelPath)} is unavailable: ${reason}; retrying with back-off`);
          this.lastError = reason;
          this.state = "failed";
          this.failInFlight(reason, "model_unavailable");
          this.scheduleRecovery();
          return;
        }
        log("error", `model runner for ${this.config.modelPath} stopped (${why}); it restarts on the next request`);
        this.failInFlight(reason, "engine_failure");
        this.state = "starting";
      };
      this.child = child;
      this.lastHeardAt = Date.now();
      this.watch(child);
      const stderrDone = relayRunnerStderr(child.stderr as ReadableStream<Uint8Array>, basename(this.config.modelPath), process.stderr, line => {
        this.stderrTail.push(line);
        if (this.stderrTail.length > 200) this.stderrTail.shift(); // ggml prints a gdb backtrace after its abort line
      });
      child.send({ type: "init", config: this.config } satisfies ToRunner);
    });
  }

  private onMessage(message: FromRunner): void {
    switch (message.type) {
      case "events":
        for (const [id, event] of message.events) {
          const channel = this.channels.get(id);
          channel?.push(event);
          if (channel?.closed) this.channels.delete(id);
        }
        break;
      case "status":
        this.slotsBusy = message.slotsBusy;
        this.queued = message.queued;
        this.kvTokens = message.kvTokens;
        this.kvCapacity = message.kvCapacity;
        break;
      case "reply": {
        const waiter = this.replies.get(message.id);
        this.replies.delete(message.id);
        if (message.error !== undefined) waiter?.reject(new EngineError("invalid_request", message.error));
        else waiter?.resolve(message.result);
        break;
      }
    }
  }

  private failInFlight(message: string, code: "engine_failure" | "model_unavailable"): void {
    for (const channel of this.channels.values()) channel.push({ kind: "error", code, message });
    this.channels.clear();
    for (const waiter of this.replies.values()) waiter.reject(new EngineError(code, message));
    this.replies.clear();
  }

  private post(message: ToRunner): void {
    this.child?.send(message);
  }

  async *generate(request: GenerateRequest, signal?: AbortSignal): AsyncGenerator<GenerateEvent> {
    await this.start();
    const id = `g${++this.nextId}`;
    const channel = new EventChannel(request.n ?? 1);
    this.channels.set(id, channel);
    const onAbort = () => this.post({ type: "cancel", id });
    signal?.addEventListener("abort", onAbort, { once: true });
    this.post({ type: "generate", id, request });
    let finished = false;
    try {
      if (signal?.aborted) onAbort();
      for await (const event of channel.drain()) {
        if (channel.closed && event.kind !== "text") finished = true;
        yield event;
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
      // A consumer that stops early (client gone) frees the slot.
      if (!finished) onAbort();
    }
  }

  private async call<T>(message: ToRunner & { id: string }): Promise<T> {
    await this.start();
    return new Promise<T>((resolve, reject) => {
      this.replies.set(message.id, { resolve: v => resolve(v as T), reject });
      this.post(message);
    });
  }

  tokenize(text: string, addSpecial: boolean, parseSpecial: boolean): Promise<number[]> {
    return this.call({ type: "tokenize", id: `t${++this.nextId}`, text, addSpecial, parseSpecial });
  }

  tokenizePrompt(prompt: PromptSegment[], addSpecial: boolean): Promise<number[]> {
    return this.call({ type: "tokenize-prompt", id: `t${++this.nextId}`, prompt, addSpecial });
  }

  detokenize(tokens: number[]): Promise<string> {
    return this.call({ type: "detokenize", id: `t${++this.nextId}`, tokens });
  }

  async tokenPieces(tokens: number[]): Promise<Uint8Array[]> {
    const pieces = await this.call<number[][]>({ type: "pieces", id: `t${++this.nextId}`, tokens });
    return pieces.map(bytes => Uint8Array.from(bytes));
  }

  async embed(inputs: Array<string | number[]>): Promise<{ vectors: Float32Array[]; promptTokens: number }> {
    const { vectors, promptTokens } = await this.call<{ vectors: number[][]; promptTokens: number }>({ type: "embed", id: `t${++this.nextId}`, inputs });
    // float32 → JSON number → float32 is exact (the shortest decimal that reads back as the same double).
    return { vectors: vectors.map(v => Float32Array.from(v)), promptTokens };
  }

  info(): Promise<ModelInfo> {
    return this.start();
  }

  health(): EngineHealth {
    return {
      state: this.recovering ? "failed" : this.child && this.modelInfo ? "ready" : this.state,
      slotsTotal: this.config.parallel,
      slotsBusy: this.slotsBusy,
      queued: this.queued,
      kvTokens: this.loaded ? this.kvTokens : 0,
      kvCapacity: this.loaded ? this.kvCapacity : 0,
      inFlight: this.channels.size,
      error: this.lastError,
    };
  }

  get loaded(): boolean {
    return this.child !== null && this.modelInfo !== null;
  }

  /** Kills the runner (if any); in-flight requests fail. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.recoveryTimer) clearTimeout(this.recoveryTimer);
    this.recoveryTimer = null;
    this.recovering = false;
    const child = this.child;
    if (!child) return;
    this.post({ type: "shutdown" });
    const exited = await Promise.race([child.exited.then(() => true), Bun.sleep(3000).then(() => false)]);
    if (!exited) child.kill("SIGKILL");
    this.closing = false;
  }
}
