// RunnerEngine: the Engine interface, implemented by supervising one runner child process.
//
// The HTTP process never touches libllama. It spawns the runner (this same program with a
// hidden `__runner` command), sends it requests, and turns its per-step event batches back into
// one async stream per request. If the runner dies (a native abort, a kill), every request it
// had fails with a clean error and a new runner is started for the next request.
import type { Subprocess } from "bun";
import { basename, resolve } from "node:path";
import { relayRunnerStderr } from "./load-progress.ts";
import { log } from "../util/log.ts";
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

  constructor(private readonly config: RunnerConfig) {}

  /** Starts the runner if it is not running; concurrent callers share one start. */
  start(): Promise<ModelInfo> {
    if (this.modelInfo && this.child) return Promise.resolve(this.modelInfo);
    this.starting ??= this.spawn().finally(() => (this.starting = null));
    return this.starting;
  }

  private spawn(): Promise<ModelInfo> {
    this.state = "starting";
    this.lastError = undefined;
    return new Promise<ModelInfo>((resolveStart, rejectStart) => {
      let started = false;
      const t0 = performance.now();
      const child = Bun.spawn(runnerCommand(), {
        stdio: ["ignore", "inherit", "pipe"],
        serialization: "advanced",
        env: { ...process.env },
        ipc: (message: FromRunner) => {
          if (message.type === "ready") {
            started = true;
            log("info", `loaded ${basename(this.config.modelPath)} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
            this.modelInfo = message.info;
            this.state = "ready";
            resolveStart(message.info);
          } else if (message.type === "failed") {
            this.lastError = message.message;
            this.state = "failed";
            rejectStart(new EngineError("model_unavailable", message.message));
          } else {
            this.onMessage(message);
          }
        },
        onExit: (_proc, exitCode, signalCode) => {
          if (this.child === child) this.child = null;
          const why = signalCode ? `signal ${signalCode}` : `exit code ${exitCode}`;
          if (!started) {
            this.state = "failed";
            this.lastError ??= `the model runner stopped while loading (${why})`;
            rejectStart(new EngineError("model_unavailable", this.lastError));
            return;
          }
          this.modelInfo = null;
          this.slotsBusy = this.queued = this.kvTokens = this.kvCapacity = 0;
          if (!this.closing) log("error", `model runner for ${this.config.modelPath} stopped (${why}); it restarts on the next request`);
          this.failInFlight(`the model runner stopped unexpectedly (${why})`);
          this.state = "starting";
        },
      });
      this.child = child;
      relayRunnerStderr(child.stderr as ReadableStream<Uint8Array>, basename(this.config.modelPath));
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

  private failInFlight(message: string): void {
    for (const channel of this.channels.values()) channel.push({ kind: "error", code: "engine_failure", message });
    this.channels.clear();
    for (const waiter of this.replies.values()) waiter.reject(new EngineError("engine_failure", message));
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

  tokenPieces(tokens: number[]): Promise<Uint8Array[]> {
    return this.call({ type: "pieces", id: `t${++this.nextId}`, tokens });
  }

  embed(inputs: Array<string | number[]>): Promise<{ vectors: Float32Array[]; promptTokens: number }> {
    return this.call({ type: "embed", id: `t${++this.nextId}`, inputs });
  }

  info(): Promise<ModelInfo> {
    return this.start();
  }

  health(): EngineHealth {
    return {
      state: this.child && this.modelInfo ? "ready" : this.state,
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
    const child = this.child;
    if (!child) return;
    this.post({ type: "shutdown" });
    const exited = await Promise.race([child.exited.then(() => true), Bun.sleep(3000).then(() => false)]);
    if (!exited) child.kill("SIGKILL");
    this.closing = false;
  }
}
