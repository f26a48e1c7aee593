// Ollama's `options` and `keep_alive` → the chat core's generation options, the context a request
// may use, and how long its model stays loaded. Names differ from OpenAI's; values mean the same.
import type { GenerationOptions } from "../chat-core/sampling.ts";
import { badRequest } from "../errors.ts";
import type { ChatBody } from "./schema.ts";

export type OllamaOptions = NonNullable<ChatBody["options"]>;

/** num_predict: a positive count limits the answer; -1 (infinite), -2 (fill the context) and 0 leave it to the context. */
function maxTokens(numPredict: number | undefined): number | null {
  return numPredict !== undefined && numPredict > 0 ? numPredict : null;
}

/** The AI SDK provider's top-level settings (see schema.ts), under `options`. */
export interface TopLevelSettings {
  temperature?: number;
  top_p?: number;
  max_output_tokens?: number;
}

export function generationOptions(options: OllamaOptions | undefined, top: TopLevelSettings = {}): GenerationOptions {
  const o = { temperature: top.temperature, top_p: top.top_p, num_predict: top.max_output_tokens, ...stripUndefined(options ?? {}) };
  const stop = o.stop === undefined ? [] : typeof o.stop === "string" ? [o.stop] : o.stop;
  return {
    maxTokens: maxTokens(o.num_predict),
    stop,
    sampling: {
      temperature: o.temperature,
      topK: o.top_k,
      topP: o.top_p,
      minP: o.min_p,
      // Ollama's seed -1 (and any negative) means a random one.
      seed: o.seed !== undefined && o.seed >= 0 ? o.seed : undefined,
      repeatPenalty: o.repeat_penalty,
      presencePenalty: o.presence_penalty,
      frequencyPenalty: o.frequency_penalty,
      penaltyLastN: o.repeat_last_n,
    },
  };
}

/**
 * The context this request may fill: `num_ctx` when given, up to the model's loaded context. Ollama
 * reloads a model for a larger num_ctx; Hearth's context is set at start-up (--ctx-size), so a
 * larger one is refused rather than silently cut.
 */
export function requestContext(options: OllamaOptions | undefined, modelCtx: number): number {
  const wanted = options?.num_ctx;
  if (wanted === undefined) return modelCtx;
  if (wanted > modelCtx) {
    throw badRequest(`options.num_ctx ${wanted} exceeds this server's context of ${modelCtx} tokens for the model: start Hearth with a larger --ctx-size (or the model's ctx_size in hearth.json)`, {
      param: "options.num_ctx",
      code: "context_length_exceeded",
    });
  }
  return wanted;
}

const stripUndefined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

const UNITS: Record<string, number> = { ns: 1e-9, us: 1e-6, "µs": 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/**
 * keep_alive in seconds: a number is seconds, a string a Go duration ("5m", "1h30m", "300ms") or a
 * bare number of seconds. Negative: keep loaded; 0: unload after this request. undefined: not given.
 */
export function keepAliveSeconds(value: number | string | null | undefined): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw badRequest("keep_alive must be a finite number of seconds", { param: "keep_alive" });
    return value;
  }
  const text = value.trim();
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  const m = /^(-?)((?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+)$/.exec(text);
  if (!m) throw badRequest(`keep_alive '${value}' is not a duration (e.g. "5m", "1h", "30s", 0 or -1)`, { param: "keep_alive" });
  let seconds = 0;
  for (const [, n, unit] of m[2]!.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) seconds += Number(n) * UNITS[unit!]!;
  return m[1] ? -seconds : seconds;
}
