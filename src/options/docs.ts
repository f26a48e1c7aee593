// The generated part of docs/configuration.md: the commands' flags as their --help prints them,
// between two markers. `bun scripts/gen-docs.ts` writes it; test/options/options-table.test.ts
// fails when the file and the tables differ.
import { LIST, PS, PULL, SERVE, WORKER, type Command } from "./commands.ts";
import { optionLines } from "./help.ts";
import type { OptionTable } from "./option.ts";

export const DOCS_FILE = "docs/configuration.md";
export const FLAGS_START = "<!-- flags:start: generated from src/options/ by `bun scripts/gen-docs.ts`; edit the tables, not this block -->";
export const FLAGS_END = "<!-- flags:end -->";

function block(command: Command<OptionTable>): string {
  return ["```", command.usage, ...optionLines(command.options), "```"].join("\n");
}

/** The text between the markers (markers included). */
export function flagsRegion(): string {
  const others = [WORKER, PULL, LIST, PS].map(c => `\`${c.usage}\`: ${c.summary}\n\n${block(c)}`);
  return [FLAGS_START, block(SERVE), "", "The other commands' flags:", "", others.join("\n\n"), FLAGS_END].join("\n");
}

/** `text` with its region replaced by a fresh one; throws when the markers are missing. */
export function withFlagsRegion(text: string): string {
  const start = text.indexOf("<!-- flags:start");
  const end = text.indexOf(FLAGS_END);
  if (start < 0 || end < start) throw new Error(`${DOCS_FILE} has no <!-- flags:start … --> … ${FLAGS_END} region`);
  return text.slice(0, start) + flagsRegion() + text.slice(end + FLAGS_END.length);
}
