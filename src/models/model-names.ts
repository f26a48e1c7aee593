// What a request's `model` names, decided in one place for every dialect (the registry's find and
// acquire call it): an alias, a model id, a `*` pattern alias, or, when the name is omitted or
// empty, the default model. Plain data in, an id (or a model-layer error) out; no files, no HTTP.
//
// Order: an exact alias, then an id, then the longest matching pattern (patterns of equal length:
// the one given first). So `"claude-*": "qwen3-coder"` sends every `claude-…` name that is not
// itself an alias or an id to qwen3-coder.
import { ModelNotNamedError } from "./errors.ts";

/** Where a name's aliases come from, and the default model. */
export interface NameRules {
  /** NAME or PATTERN → model id: hearth.json's "aliases" with `--alias NAME=MODEL` over them. */
  aliases?: Readonly<Record<string, string>>;
  /** Bare `--alias NAME` (llama-server's form): more names of the default model. */
  bareAliases?: readonly string[];
  /** --default-model: the model of a request that names none (an id or an alias). */
  defaultModel?: string;
}

interface Pattern {
  pattern: string;
  regex: RegExp;
  id: string;
}

export const isPattern = (name: string): boolean => name.includes("*");

function globRegex(pattern: string): RegExp {
  const body = pattern.split("*").map(part => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*");
  return new RegExp(`^${body}$`, "s");
}

export class ModelNames {
  private readonly exact = new Map<string, string | null>();
  private readonly patterns: Pattern[];

  constructor(private readonly rules: NameRules = {}) {
    const patterns: Pattern[] = [];
    for (const [name, id] of Object.entries(rules.aliases ?? {})) {
      if (isPattern(name)) patterns.push({ pattern: name, regex: globRegex(name), id });
      else this.exact.set(name, id);
    }
    // null: the default model, whichever that is when asked.
    for (const name of rules.bareAliases ?? []) this.exact.set(name, null);
    this.patterns = patterns.sort((a, b) => b.pattern.length - a.pattern.length); // stable: equal lengths keep their order
  }

  /** Whether bare aliases were given (they need a default model to name). */
  get hasBareAliases(): boolean {
    return (this.rules.bareAliases?.length ?? 0) > 0;
  }

  /**
   * The default model among `ids`: --default-model (resolved like any name), else the only model;
   * undefined when neither applies.
   */
  defaultId(ids: readonly string[]): string | undefined {
    const wanted = this.rules.defaultModel;
    // (A bare alias names the default model, so it cannot name it too.)
    if (wanted && this.exact.get(wanted) !== null) return this.named(wanted, ids);
    return ids.length === 1 ? ids[0] : undefined;
  }

  /**
   * The id `name` stands for, given the ids served now. An omitted or empty name is the default
   * model (ModelNotNamedError when there is none); a name nothing matches comes back as given, for
   * the caller to look up (and refuse) as an id.
   */
  resolve(name: string | null | undefined, ids: readonly string[]): string {
    if (name) return this.named(name, ids);
    const id = this.defaultId(ids);
    if (id === undefined) throw new ModelNotNamedError(ids.length);
    return id;
  }

  private named(name: string, ids: readonly string[]): string {
    const alias = this.exact.get(name);
    if (alias !== undefined) return alias ?? this.resolve(undefined, ids);
    if (ids.includes(name)) return name;
    return this.patterns.find(p => p.regex.test(name))?.id ?? name;
  }

  /** The names (aliases and patterns, as given) that stand for `id`, for /v1/models' meta.aliases. */
  aliasesOf(id: string, ids: readonly string[]): string[] {
    const names = [...this.exact].filter(([, target]) => (target ?? this.defaultId(ids)) === id).map(([name]) => name);
    return [...names, ...this.patterns.filter(p => p.id === id).map(p => p.pattern)];
  }
}
