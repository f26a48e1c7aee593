// Prometheus metrics (GET /metrics): request counts by route and status, token counters, and
// per-model slot and queue gauges read from the model source at scrape time.
import type { ModelSource } from "./model-source.ts";

class Counters {
  readonly requests = new Map<string, number>();
  promptTokens = 0;
  completionTokens = 0;
  cachedTokens = 0;

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
  metric("hearth_requests_total", "counter", "HTTP requests by route and status.",
    [...counters.requests].map(([key, n]) => {
      const [route, status] = key.split("\u0000");
      return [`{route="${label(route!)}",status="${status}"}`, n];
    }));
  metric("hearth_prompt_tokens_total", "counter", "Prompt tokens of finished generations.", [["", counters.promptTokens]]);
  metric("hearth_prompt_tokens_cached_total", "counter", "Prompt tokens served from the KV cache.", [["", counters.cachedTokens]]);
  metric("hearth_completion_tokens_total", "counter", "Generated tokens.", [["", counters.completionTokens]]);
  const health = models.health().models;
  metric("hearth_model_loaded", "gauge", "1 when the model's runner is up.", health.map(m => [`{model="${label(m.id)}"}`, m.state === "loaded" ? 1 : 0]));
  metric("hearth_slots_busy", "gauge", "Sequences being decoded.", health.map(m => [`{model="${label(m.id)}"}`, m.slotsBusy]));
  metric("hearth_slots_total", "gauge", "Sequence slots (--parallel).", health.map(m => [`{model="${label(m.id)}"}`, m.slotsTotal]));
  metric("hearth_queue_depth", "gauge", "Requests waiting for a slot.", health.map(m => [`{model="${label(m.id)}"}`, m.queued]));
  metric("hearth_model_layers", "gauge", "Repeating layers of a loaded model held by each device (RPC workers by endpoint).",
    health.flatMap(m => (m.devices ?? []).map(d => [
      `{model="${label(m.id)}",device="${label(d.name)}",type="${d.type}",endpoint="${label(d.endpoint ?? "")}"}`, d.layers] as [string, number])));
  return lines.join("\n") + "\n";
}
