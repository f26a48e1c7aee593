// The prompt cache's counters across runners, in the HTTP process (for /metrics): each runner
// reports its own since it started, and runners come and go with loads and unloads, so the
// supervisor adds what changed since a runner's last report.
import { emptyStats, type PromptCacheStats } from "./prompt-cache.ts";

export const promptCacheTotals = { ...emptyStats(), diskBytes: 0 };

const lastSeen = new WeakMap<object, PromptCacheStats>();

/** Adds a runner's report (`runner`: any object that stands for that runner process). */
export function recordRunnerCacheStats(runner: object, stats: PromptCacheStats, diskBytes: number): void {
  const before = lastSeen.get(runner) ?? emptyStats();
  for (const key of Object.keys(stats) as Array<keyof PromptCacheStats>) promptCacheTotals[key] += stats[key] - before[key];
  lastSeen.set(runner, stats);
  promptCacheTotals.diskBytes = diskBytes;
}
