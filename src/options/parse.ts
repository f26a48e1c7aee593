// Parses a command's arguments by its option table (node:util parseArgs underneath): every value
// checked and converted, environment variables and defaults applied. A bad value is a UsageError
// whose message names the flag; the command turns it into exit status 2.
import { parseArgs } from "node:util";
import { defaultValue, type OptionSpec, type OptionTable, type OptionValues } from "./option.ts";

export class UsageError extends Error {
  override name = "UsageError";
}

export interface Parsed<T extends OptionTable> {
  values: OptionValues<T>;
  positionals: string[];
  /** --help or -h was given: the caller prints the help instead of running. */
  help: boolean;
}

/**
 * Arguments as parseArgs takes them: two-letter short forms (-np, -ngl) become the long form, and a
 * negative number after a flag that takes a value is that flag's value (`-ngl -1`, as llama-server
 * reads it), where parseArgs would refuse it as ambiguous.
 */
function normalize(table: OptionTable, argv: readonly string[]): string[] {
  const longForm = new Map<string, string>(); // two-letter short form → --name
  const valueFlags = new Map<string, string>(); // every form of a flag that takes a value → --name
  for (const [name, spec] of Object.entries(table)) {
    const letter = spec.short?.find(s => s.length === 1);
    for (const s of spec.short ?? []) if (s !== letter) longForm.set(`-${s}`, `--${name}`);
    if (spec.kind !== "bool") for (const form of [`--${name}`, ...(spec.short ?? []).map(s => `-${s}`)]) valueFlags.set(form, `--${name}`);
  }
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      args.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    if (valueFlags.has(arg) && next !== undefined && /^-\d/.test(next)) {
      args.push(`${valueFlags.get(arg)}=${next}`);
      i++;
    } else {
      args.push(longForm.get(arg) ?? arg);
    }
  }
  return args;
}

function integerRule(spec: OptionSpec): string {
  const min = spec.min ?? 0;
  if (spec.max !== undefined) return `${min}-${spec.max}`;
  if (min === 0) return "a non-negative integer";
  if (min === 1) return "a positive integer";
  return `an integer of at least ${min}`;
}

/** One given value (a flag's or its environment variable's) as the table's type. */
function convert(name: string, spec: OptionSpec, raw: string): unknown {
  switch (spec.kind) {
    case "int": {
      const n = Number(raw);
      if (raw.trim() === "" || !Number.isInteger(n) || n < (spec.min ?? 0) || (spec.max !== undefined && n > spec.max)) {
        throw new UsageError(`--${name} must be ${integerRule(spec)}, got '${raw}'`);
      }
      return n;
    }
    case "enum":
      if (!spec.choices!.includes(raw)) throw new UsageError(`--${name} must be one of ${spec.choices!.join(", ")}, got '${raw}'`);
      return raw;
    case "list": {
      const items = raw.split(",").map(s => s.trim()).filter(Boolean);
      const max = spec.maxItems ?? Infinity;
      if (spec.item !== "number") {
        if (items.length > max) throw new UsageError(`--${name} takes at most ${max} items, got '${raw}'`);
        return items;
      }
      const numbers = items.map(Number);
      if (numbers.length > max || numbers.some(w => !Number.isFinite(w) || w < 0)) {
        throw new UsageError(`--${name} must be ${max === Infinity ? "" : `up to ${max} `}non-negative numbers separated by commas, got '${raw}'`);
      }
      return numbers;
    }
    default:
      return raw;
  }
}

/**
 * `env` is where environment variables are read (process.env unless a test passes its own).
 * A repeatable flag's environment variable adds one more value; any other is used when the flag is absent.
 */
export function parseOptions<T extends OptionTable>(table: T, argv: readonly string[], opts: { positionals?: boolean; env?: Record<string, string | undefined> } = {}): Parsed<T> {
  const env = opts.env ?? process.env;
  const args = normalize(table, argv);
  const end = args.indexOf("--");
  const help = (end < 0 ? args : args.slice(0, end)).some(a => a === "--help" || a === "-h");
  if (help) return { values: {} as OptionValues<T>, positionals: [], help };
  const options = Object.fromEntries(
    Object.entries(table).map(([name, spec]) => {
      const letter = spec.short?.find(s => s.length === 1);
      return [name, { type: spec.kind === "bool" ? ("boolean" as const) : ("string" as const), multiple: spec.repeat ?? false, ...(letter ? { short: letter } : {}) }];
    }),
  );
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: opts.positionals ?? false });
  } catch (err) {
    // parseArgs' own words: "Unknown option '--x'", "Option '--port <value>' argument missing".
    throw new UsageError(`${(err as Error).message} (--help lists the options)`);
  }
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(table)) {
    const given = parsed.values[name] as string | boolean | string[] | undefined;
    const fromEnv = spec.env ? env[spec.env] || undefined : undefined;
    if (spec.kind === "bool") {
      values[name] = given ?? (fromEnv !== undefined ? fromEnv !== "0" && fromEnv !== "false" : (defaultValue(spec) ?? false));
    } else if (spec.repeat) {
      const raws = [...((given as string[] | undefined) ?? []), ...(fromEnv !== undefined ? [fromEnv] : [])];
      const items = raws.map(raw => convert(name, spec, raw));
      values[name] = raws.length === 0 ? defaultValue(spec) : spec.kind === "list" ? items.flat() : items;
    } else {
      const raw = (given as string | undefined) ?? fromEnv;
      values[name] = raw === undefined ? defaultValue(spec) : convert(name, spec, raw);
    }
  }
  return { values: values as OptionValues<T>, positionals: parsed.positionals, help: false };
}
