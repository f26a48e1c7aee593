// Ollama's model names: `NAME:TAG`, where a missing tag means `latest`. Hearth's ids have no tags,
// so `ID` and `ID:latest` are the same model and listings show `ID:latest` (CONVENTIONS.md).
// Any other tag is part of the name (an alias such as `llama3:8b` may carry one).

export const LATEST = ":latest";

/** The name a request's `model` stands for in Hearth: `:latest` dropped. */
export function hearthName(name: string | undefined | null): string | undefined {
  if (!name) return undefined;
  return name.endsWith(LATEST) ? name.slice(0, -LATEST.length) : name;
}

/** How an id is listed (`ID:latest`); a name that already has a tag keeps it. */
export function ollamaName(id: string): string {
  const last = id.slice(id.lastIndexOf("/") + 1);
  return last.includes(":") ? id : `${id}${LATEST}`;
}
