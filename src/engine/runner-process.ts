// One runner child process as its supervisor sees it: the IPC channel, the load it was started
// for, its last stderr lines (a native abort explains itself there), a watchdog for a runner that
// owes work and says nothing, and why it died. The model's state is not kept here: RunnerEngine
// holds this object inside the states that have a runner (lifecycle.ts).
import type { Subprocess } from "bun";
import { withHugePages } from "./huge-pages.ts";
import { relayRunnerStderr } from "./load-progress.ts";
import type { FromRunner, RunnerConfig, ToRunner } from "./runner-protocol.ts";
import type { ModelInfo } from "./types.ts";

export interface RunnerExit {
  /** "exit code N" or "signal SIGX". */
  why: string;
  /** Exit code 0 without a signal: a runner told to stop, or whose IPC channel closed. */
  clean: boolean;
}

export interface RunnerHandlers {
  /** Every message, in order. */
  message(message: FromRunner): void;
  /** The process is gone (called at once; `ended` settles once its stderr is read). */
  exit(): void;
}

export class RunnerProcess {
  private readonly child: Subprocess;
  private stderrTail: string[] = [];
  private lastHeardAt = Date.now();
  private killReason: string | null = null;
  private watchdog: ReturnType<typeof setInterval> | null = null;
  /** The load this runner was started for: settled by the supervisor on "ready", "failed" or an early death. */
  readonly load = Promise.withResolvers<ModelInfo>();
  /** What the runner said when its load failed ("failed" message), if it did. */
  failedMessage: string | undefined;
  /** The process has exited. */
  readonly exited: Promise<void>;
  /** The process has exited and its stderr has been read to the end (bounded: 1 s). */
  readonly ended: Promise<RunnerExit>;
  readonly startedAt = performance.now();

  constructor(command: string[], config: RunnerConfig, label: string, handlers: RunnerHandlers) {
    this.load.promise.catch(() => {}); // rejected with nobody waiting (a recovery attempt) is not an error
    const exit = Promise.withResolvers<RunnerExit>();
    this.child = Bun.spawn(command, {
      stdio: ["ignore", "inherit", "pipe"],
      // JSON, not "advanced" (structured clone): measured here, sending a step's events took the
      // runner's token loop 0.12-0.19 ms as JSON against 0.26-0.39 ms cloned (20 against 72 us
      // in isolation), time spent between two decodes. The typed arrays of two replies travel as
      // plain arrays.
      serialization: "json",
      env: withHugePages(process.env),
      ipc: (message: FromRunner) => {
        this.lastHeardAt = Date.now();
        handlers.message(message);
      },
      onExit: (_proc, exitCode, signalCode) => {
        if (this.watchdog) clearInterval(this.watchdog);
        this.watchdog = null;
        exit.resolve(signalCode ? { why: `signal ${signalCode}`, clean: false } : { why: `exit code ${exitCode}`, clean: exitCode === 0 });
        handlers.exit();
      },
    });
    const stderrDone = relayRunnerStderr(this.child.stderr as ReadableStream<Uint8Array>, label, process.stderr, line => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > 200) this.stderrTail.shift(); // ggml prints a gdb backtrace after its abort line
    });
    this.exited = exit.promise.then(() => {});
    // The abort line may still be in the stderr pipe: read it to the end first (bounded).
    this.ended = exit.promise.then(e => Promise.race([stderrDone, Bun.sleep(1000)]).then(() => e));
    this.child.send({ type: "init", config } satisfies ToRunner);
  }

  send(message: ToRunner): void {
    this.child.send(message);
  }

  /** Kills the process; `reason` (if given) is what deathReason() reports. */
  kill(reason?: string): void {
    if (reason) this.killReason = reason;
    this.child.kill("SIGKILL");
  }

  /** Kills the runner once it owes work (`owes()`) and has said nothing for `limitMs` (an RPC worker that hangs). */
  watch(limitMs: number, owes: () => boolean, onKill: (reason: string) => void): void {
    this.watchdog = setInterval(() => {
      if (!owes() || Date.now() - this.lastHeardAt < limitMs) return;
      const reason = `no progress for ${limitMs / 1000} s: an RPC worker stopped answering`;
      onKill(reason);
      this.kill(reason);
    }, Math.min(1000, limitMs / 4));
    this.watchdog.unref?.();
  }

  /** Why the runner died: the watchdog's reason, or ggml's abort line when there is one. */
  deathReason(why: string): string {
    // ggml's own abort line ("ggml-rpc.cpp:566: Remote RPC server crashed …") beats Bun's "panic: abort() called".
    const tail = [...this.stderrTail].reverse();
    const native = this.killReason ?? (tail.find(l => /\.(c|cpp|h):\d+: /.test(l)) ?? tail.find(l => /GGML_ASSERT|error|abort/i.test(l)))?.trim();
    return `the model runner stopped unexpectedly (${why})${native ? `: ${native}` : ""}`;
  }
}
