// Prometheus metrics (GET /metrics): request counts by route and status, token counters, latency
// histograms, and per-model slot, queue and KV-cache gauges read from the model source at scrape
// time. Written by hand: the text format is small, and it keeps a dependency out.
import { visionTotals } from "../engine/vision-totals.ts";
import type { ModelSource } from "./model-source.ts";
import { promptCacheTotals } from "../engine/prompt-cache/totals.ts";

/** A Prometheus histogram with fixed upper bounds (seconds). */
class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly bounds: number[]) {
    this.counts = bounds.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    for (let i = 0; i < this.bounds.length; i++) if (value <= this.bounds[i]!) this.counts[i]!++;
  }
}

class Counters {
  readonly requests = new Map<string, number>();
  promptTokens = 0;
  completionTokens = 0;
  cachedTokens = 0;
  /** From the request's arrival to its first generated text. */
  readonly timeToFirstToken = new Histogram([0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]);
  /** Between generated tokens, as the HTTP process sees them arrive. */
  readonly tokenLatency = new Histogram([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]);
  /** Whole request, arrival to last byte produced. */
  readonly requestDuration = new Histogram([0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]);

  request(route: string, status: number): void {
    const key = `${route}\u0000${status}`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }

  usage(u: { promptTokens: number; completionTokens: number; cachedTokens: number }): void {
    this.promptTokens += u.promptTokens;
    this.completionTokens += u.completionTokens;
    this.cachedTokens += u.cachedTokens;
  }
}

/** One set of counters per process. */
export const counters = new Counters();

const label = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

export function renderMetrics(models: ModelSource): string {
  const lines: string[] = [];
  const metric = (name: string, type: string, help: string, samples: Array<[string, number]>) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
  };
  const histogram = (name: string, help: string, h: Histogram) => {
    metric(name, "histogram", help, [
      ...h.bounds.map((b, i): [string, number] => [`_bucket{le="${b}"}`, h.counts[i]!]),
      [`_bucket{le="+Inf"}`, h.count],
    ]);
    lines.push(`${name}_sum ${h.sum}`, `${name}_count ${h.count}`);
  };
  metric("hearth_requests_total", "counter", "HTTP requests by route and status.",
    [...counters.requests].map(([key, n]) => {
      const [route, status] = key.split("\u0000");
      return [`{route="${label(route!)}",status="${status}"}`, n];
    }));
  metric("hearth_prompt_tokens_total", "counter", "Prompt tokens of finished generations.", [["", counters.promptTokens]]);
  metric("hearth_prompt_tokens_cached_total", "counter", "Prompt tokens served from the KV cache.", [["", counters.cachedTokens]]);
  metric("hearth_completion_tokens_total", "counter", "Generated tokens.", [["", counters.completionTokens]]);
  histogram("hearth_time_to_first_token_seconds", "From a generation request's arrival to its first text.", counters.timeToFirstToken);
  histogram("hearth_token_latency_seconds", "Time between generated tokens as the HTTP process receives them.", counters.tokenLatency);
  histogram("hearth_request_duration_seconds", "Generation requests, arrival to last token.", counters.requestDuration);
  const health = models.health().models;
  const perModel = (pick: (m: (typeof health)[number]) => number) => health.map((m): [string, number] => [`{model="${label(m.id)}"}`, pick(m)]);
  metric("hearth_models_loaded", "gauge", "Models whose runner is up.", [["", health.filter(m => m.state === "loaded").length]]);
  metric("hearth_model_loaded", "gauge", "1 when the model's runner is up.", perModel(m => (m.state === "loaded" ? 1 : 0)));
  metric("hearth_slots_busy", "gauge", "Sequences being decoded.", perModel(m => m.slotsBusy));
  metric("hearth_slots_total", "gauge", "Sequence slots (--parallel).", perModel(m => m.slotsTotal));
  metric("hearth_queue_depth", "gauge", "Requests waiting for a slot.", perModel(m => m.queued));
  metric("hearth_kv_cache_tokens", "gauge", "Tokens held in the model's KV cache by its slots (a shared prefix counts once per slot).", perModel(m => m.kvTokens ?? 0));
  metric("hearth_kv_cache_capacity_tokens", "gauge", "Tokens the model's KV cache holds (--ctx-size).", perModel(m => m.kvCapacity ?? 0));
  metric("hearth_model_layers", "gauge", "Repeating layers of a loaded model held by each device (RPC workers by endpoint).",
    health.flatMap(m => (m.devices ?? []).map(d => [
      `{model="${label(m.id)}",device="${label(d.name)}",type="${d.type}",endpoint="${label(d.endpoint ?? "")}"}`, d.layers] as [string, number])));
  const disk = promptCacheTotals;
  metric("hearth_prompt_cache_lookups_total", "counter", "Prompts looked up in the prompt cache on disk.", [["", disk.lookups]]);
  metric("hearth_prompt_cache_hits_total", "counter", "Prompts that started from a sequence restored from disk.", [["", disk.hits]]);
  metric("hearth_prompt_cache_restored_tokens_total", "counter", "Prompt tokens restored from disk instead of prefilled.", [["", disk.restoredTokens]]);
  metric("hearth_prompt_cache_saves_total", "counter", "Sequences saved to disk before their KV was lost.", [["", disk.saves]]);
  metric("hearth_prompt_cache_saved_bytes_total", "counter", "Bytes of KV state written to disk.", [["", disk.savedBytes]]);
  metric("hearth_prompt_cache_discarded_total", "counter", "Cache files that failed their checks (corrupt, truncated, foreign) and were removed.", [["", disk.discarded]]);
  metric("hearth_prompt_cache_bytes", "gauge", "Bytes of the prompt cache directory (--prompt-cache-dir).", [["", disk.diskBytes]]);
  metric("hearth_image_encodes_total", "counter", "Images run through a vision encoder (an image resent in a later turn is not encoded again).", [["", visionTotals.encodes]]);
  metric("hearth_image_cache_hits_total", "counter", "Images decoded from cached encoder output instead.", [["", visionTotals.cacheHits]]);
  return lines.join("\n") + "\n";
}
