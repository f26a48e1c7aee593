// Writes an option table as help text: one entry per flag, its forms in a column, then its help
// with what the table knows besides (repeatable, default, hearth.json key, environment variable),
// wrapped. `hearth COMMAND --help` and docs/configuration.md print exactly these lines.
import type { OptionSpec, OptionTable } from "./option.ts";

const WIDTH = 96;
const COLUMN = 27;
const MiB = 1 << 20;

function shownDefault(spec: OptionSpec): string | undefined {
  if (spec.defaultText) return spec.defaultText;
  if (spec.default === undefined || typeof spec.default === "function" || spec.kind === "bool") return undefined;
  const value = spec.unit === "bytes" && typeof spec.default === "number" && spec.default % MiB === 0 ? `${spec.default / MiB} MiB` : String(spec.default);
  return spec.defaultMeans ? `${value}: ${spec.defaultMeans}` : value;
}

/** The help of one flag, with the table's other facts in brackets after it. */
export function helpText(spec: OptionSpec): string {
  const def = shownDefault(spec);
  const facts = [
    spec.repeat && "repeatable",
    def !== undefined && `default ${def}`,
    spec.config && `hearth.json "${spec.config}"`,
    spec.env && `env ${spec.env}`,
  ].filter(Boolean);
  return facts.length ? `${spec.help} (${facts.join("; ")})` : spec.help;
}

/** "  -c, --ctx-size N" */
export function forms(name: string, spec: OptionSpec): string {
  const shorts = spec.short?.length ? spec.short.map(s => `-${s}, `).join("") : "    ";
  return `  ${shorts}--${name}${spec.arg ? ` ${spec.arg}` : ""}`;
}

function wrap(words: string[], firstWidth: number, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of words) {
    const limit = lines.length === 0 ? firstWidth : width;
    if (line && line.length + 1 + word.length > limit) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  lines.push(line);
  return lines;
}

/** One flag's lines: forms, then the help from column 27 (after two spaces when the forms are longer). */
export function entryLines(name: string, spec: OptionSpec): string[] {
  const head = forms(name, spec);
  const start = head.length + 2 <= COLUMN ? COLUMN : head.length + 2;
  const [first, ...rest] = wrap(helpText(spec).split(" "), WIDTH - start, WIDTH - COLUMN);
  return [head.padEnd(start) + first, ...rest.map(l => " ".repeat(COLUMN) + l)];
}

/** Every flag of a table, in its order. */
export function optionLines(table: OptionTable): string[] {
  return Object.entries(table).flatMap(([name, spec]) => entryLines(name, spec));
}

/** A command's whole --help: usage, what it does, recipes (if any), its flags. */
export function commandHelp(usage: string, summary: string, table: OptionTable, examples: readonly string[] = []): string {
  const recipes = examples.length ? ["Examples:", ...examples.map(e => `  ${e}`), ""] : [];
  return [`Usage: ${usage}`, "", summary, "", ...recipes, "Options:", ...optionLines(table), ...entryLines("help", { kind: "bool", short: ["h"], help: "show this help" }), ""].join("\n");
}
