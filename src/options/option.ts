// What one command-line flag is: its forms, its type, its default, its help, and where else the
// same setting can come from (a hearth.json key, an environment variable). A command's flags are
// one table of these (serve.ts, commands.ts); the parser, `--help`, the defaults other modules use
// and the flag block of docs/configuration.md are all derived from it. Plain data: no Elysia, no
// TypeBox, so the engine may import a default from here.

export type OptionKind =
  /** A whole number, checked against `min` (0 unless given) and `max`. */
  | "int"
  /** Any text. */
  | "string"
  /** One of `choices`. */
  | "enum"
  /** A switch: present is true. */
  | "bool"
  /** Comma-separated items, trimmed, empty ones dropped; numbers when `item` is "number". */
  | "list";

export interface OptionSpec {
  kind: OptionKind;
  /** Other spellings without the dash, e.g. "c" or llama-server's two-letter "np". */
  short?: readonly string[];
  /** The value's name in the help: N, PATH, HOST:PORT[,…]. Not for "bool". */
  arg?: string;
  /** The flag may be given more than once; the values gather in one array. */
  repeat?: boolean;
  choices?: readonly string[];
  min?: number;
  max?: number;
  /** For "list": the type of its items, and how many it may have. */
  item?: "string" | "number";
  maxItems?: number;
  /** Used when neither the flag nor its environment variable is given; a function when it depends on the machine. */
  default?: number | string | boolean | (() => number);
  /** How the help states the default when the value alone would not say it ("all cores"). */
  defaultText?: string;
  /** What the default value means, after it in the help: "(default 0: no limit)". */
  defaultMeans?: string;
  /** "bytes": the help shows a default like 4194304 as "4 MiB". */
  unit?: "bytes";
  help: string;
  /** The key of a model's entry in hearth.json that overrides this flag for that model. */
  config?: string;
  /** An environment variable that gives the value too: added to a repeatable flag's values, else used when the flag is absent. */
  env?: string;
}

export type OptionTable = Readonly<Record<string, OptionSpec>>;

type ItemValue<S extends OptionSpec> = S["kind"] extends "int"
  ? number
  : S["kind"] extends "bool"
    ? boolean
    : S["kind"] extends "list"
      ? S["item"] extends "number" ? number[] : string[]
      : S["kind"] extends "enum"
        ? S["choices"] extends readonly (infer C)[] ? C : string
        : string;

/** A flag's parsed value: repeatable flags give an array (a repeated list flag: one flat list). */
type OptionValue<S extends OptionSpec> = S["repeat"] extends true ? (S["kind"] extends "list" ? ItemValue<S> : ItemValue<S>[]) : ItemValue<S>;

/** What parsing a table gives: flags with a default (and switches) are always set. */
export type OptionValues<T extends OptionTable> = {
  -readonly [K in keyof T]: T[K] extends { default: unknown } | { kind: "bool" } ? OptionValue<T[K]> : OptionValue<T[K]> | undefined;
};

/** A flag's default value (a machine-dependent one computed now), or undefined. */
export function defaultValue(spec: OptionSpec): number | string | boolean | undefined {
  return typeof spec.default === "function" ? spec.default() : spec.default;
}

/** The defaults of a table, for modules that need one when a caller gave none. */
export function defaultsOf<T extends OptionTable>(table: T): { [K in keyof T]: T[K] extends { default: infer D } ? (D extends () => infer R ? R : D) : undefined } {
  return Object.fromEntries(Object.entries(table).map(([name, spec]) => [name, defaultValue(spec)])) as never;
}
