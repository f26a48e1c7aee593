// The vision encoder's counters across runners, in the HTTP process (for /metrics): each runner
// reports its own since it started (engine/vision.ts), and runners come and go with loads and
// unloads, so the supervisor adds what changed since that runner's last report.
import type { VisionCounters } from "./vision.ts";

export const visionTotals: VisionCounters = { encodes: 0, cacheHits: 0 };

const lastSeen = new WeakMap<object, VisionCounters>();

/** Adds a runner's report (`runner`: any object that stands for that runner process). */
export function recordRunnerVision(runner: object, counters: VisionCounters): void {
  const before = lastSeen.get(runner) ?? { encodes: 0, cacheHits: 0 };
  visionTotals.encodes += counters.encodes - before.encodes;
  visionTotals.cacheHits += counters.cacheHits - before.cacheHits;
  lastSeen.set(runner, { ...counters });
}
