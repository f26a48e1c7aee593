// Where Hearth keeps its files: $HEARTH_HOME, default ~/.hearth (`models/` for pulled, imported and
// the embedded model's copy; `cache/` for anything derived). Read here only.
import { homedir } from "node:os";
import { join } from "node:path";

export function hearthHome(): string {
  return process.env.HEARTH_HOME ?? join(homedir(), ".hearth");
}
