// $HEARTH_HOME/aliases.json: names given to models with Ollama's /api/copy, `{ "name": "model-id" }`,
// read at start-up (under hearth.json's aliases and --alias) and rewritten whole on each copy
// (a temporary file renamed over it, so a crash never leaves half a file).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { log } from "../util/log.ts";

export const aliasFilePath = (home: string) => join(home, "aliases.json");

/** The aliases kept in the file; a missing file is none, an unreadable one is warned about and ignored. */
export function readAliasFile(path: string): Record<string, string> {
  if (!existsSync(path)) return {};
  try {
    const value = JSON.parse(readFileSync(path, "utf8"));
    if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error("not a JSON object");
    return Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === "string" && e[0].length > 0));
  } catch (err) {
    log("warn", `${path}: ignored (${(err as Error).message})`);
    return {};
  }
}

/** Adds one alias to the file. */
export function addToAliasFile(path: string, name: string, id: string): void {
  const aliases = { ...readAliasFile(path), [name]: id };
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(aliases, null, 2)}\n`);
  renameSync(tmp, path);
}
