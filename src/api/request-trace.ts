// One request's record: its id, what it generated and how long it took. It ends in one log line
// (`--log-format json|pretty`) and feeds the latency histograms of /metrics.
import { log } from "../util/log.ts";
import { counters } from "./metrics.ts";

export class RequestTrace {
  readonly t0 = performance.now();
  model: string | undefined;
  promptTokens = 0;
  completionTokens = 0;
  cachedTokens = 0;
  finishReason: string | undefined;
  error: string | undefined;
  /** A stream ends after its handler returned: the stream, not the app, ends the trace. */
  streaming = false;
  private firstTokenAt: number | undefined;
  private lastTokenAt: number | undefined;
  private ended = false;

  constructor(
    readonly id: string,
    readonly method: string,
    readonly path: string,
  ) {}

  /** Generated text arrived carrying `tokens` tokens. */
  tokens(tokens: number): void {
    if (tokens <= 0) return;
    const now = performance.now();
    if (this.firstTokenAt === undefined) {
      this.firstTokenAt = now;
      counters.timeToFirstToken.observe((now - this.t0) / 1000);
    } else if (this.lastTokenAt !== undefined) {
      // A step's event may carry several tokens: spread its gap over them.
      const gap = (now - this.lastTokenAt) / 1000 / tokens;
      for (let i = 0; i < tokens; i++) counters.tokenLatency.observe(gap);
    }
    this.lastTokenAt = now;
  }

  /** A generation finished (prompt tokens are set once by the handler: n choices share a prompt). */
  usage(u: { completionTokens: number; cachedTokens: number }, finishReason: string): void {
    this.completionTokens += u.completionTokens;
    this.cachedTokens = Math.max(this.cachedTokens, u.cachedTokens);
    this.finishReason = finishReason;
  }

  /** Logs the request's one line (once). */
  end(status: number): void {
    if (this.ended) return;
    this.ended = true;
    const ms = performance.now() - this.t0;
    const generated = this.model !== undefined;
    if (generated) counters.requestDuration.observe(ms / 1000);
    log(status >= 500 ? "warn" : "info", "request", {
      id: this.id,
      method: this.method,
      path: this.path,
      status,
      ms: Math.round(ms),
      model: this.model,
      prompt_tokens: generated ? this.promptTokens : undefined,
      cached_tokens: generated ? this.cachedTokens : undefined,
      completion_tokens: generated ? this.completionTokens : undefined,
      ttft_ms: this.firstTokenAt !== undefined ? Math.round(this.firstTokenAt - this.t0) : undefined,
      finish_reason: this.finishReason,
      error: this.error,
    });
  }
}
