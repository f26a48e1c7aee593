// The metrics label of a request: the pattern of the app's route that serves its path, or
// "unmatched". Labels come from the routes the app registered, so a new route is labelled without
// a hand-kept list, and clients cannot create series at will by inventing paths.

/** Builds a labeller over route patterns (`/v1/models`, `/v1/models/*`, `/x/:id`), read on first use. */
export function routeLabeller(patterns: () => string[]): (path: string) => string {
  let exact: Set<string> | null = null;
  let wild: Array<{ pattern: string; match: RegExp }> = [];
  const compile = () => {
    const all = [...new Set(patterns())];
    exact = new Set(all.filter(p => !p.includes("*") && !p.includes(":")));
    wild = all
      .filter(p => !exact!.has(p))
      .map(pattern => ({ pattern, match: new RegExp(`^${pattern.split("/").map(segment).join("/")}$`) }))
      // The most specific pattern first: `/v1/models/:id/x` before `/v1/models/*`.
      .sort((a, b) => b.pattern.length - a.pattern.length);
  };
  return path => {
    if (!exact) compile();
    if (exact!.has(path)) return path;
    return wild.find(w => w.match.test(path))?.pattern ?? "unmatched";
  };
}

/** One path segment of a route pattern as a regular expression. */
function segment(part: string): string {
  if (part === "*") return ".*";
  if (part.startsWith(":")) return "[^/]+";
  return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
