// truncation: "auto": a conversation that does not fit the context loses its oldest turns until it
// does, as OpenAI drops items from the start. Instructions stay (they are not items), and a cut is
// made only where a user message begins, so no call is left without the turn that made it and no
// tool output without its call. The fewest items are left out: bisection over those places,
// tokenizing each candidate prompt (a prompt only shrinks as more is cut).
import type { InputItem } from "./schema.ts";

/** Where a cut may start the conversation: every user message but the first item. */
export function cutPoints(items: InputItem[]): number[] {
  const points: number[] = [];
  items.forEach((item, i) => {
    if (i > 0 && (item.type ?? "message") === "message" && (item as { role?: string }).role === "user") points.push(i);
  });
  return points;
}

/**
 * The first cut of `items` whose prompt `fits` (the items kept and what `fits` made of them), or
 * null when even the shortest does not. `fits` resolves to its prepared prompt, or null if too long.
 */
export async function truncateToFit<T>(items: InputItem[], fits: (kept: InputItem[]) => Promise<T | null>): Promise<{ kept: InputItem[]; result: T } | null> {
  const points = cutPoints(items);
  let best: { kept: InputItem[]; result: T } | null = null;
  let lo = 0;
  let hi = points.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const kept = items.slice(points[mid]);
    const result = await fits(kept);
    if (result !== null) {
      best = { kept, result };
      hi = mid - 1;
    } else lo = mid + 1;
  }
  return best;
}
