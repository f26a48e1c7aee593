// Building blocks for GBNF text (llama.cpp's grammar format, see grammars/README.md in its source):
// a rule set that names and deduplicates rules, and escaping for literals.

/** GBNF rule names are letters, digits and dashes. */
export function ruleName(hint: string): string {
  const name = hint.replace(/[^a-zA-Z0-9-]+/g, "-").replace(/^-+|-+$/g, "");
  return name || "r";
}

function escapeChar(ch: string, inClass: boolean): string {
  const code = ch.codePointAt(0)!;
  if (ch === "\\") return "\\\\";
  if (!inClass && ch === '"') return '\\"';
  if (inClass && (ch === "]" || ch === "[")) return `\\${ch}`;
  // llama.cpp knows no `\^` or `\-` escape (it refuses the grammar): these two by code.
  if (inClass && (ch === "^" || ch === "-")) return `\\x${code.toString(16).toUpperCase()}`;
  if (ch === "\n") return "\\n";
  if (ch === "\r") return "\\r";
  if (ch === "\t") return "\\t";
  if (code < 0x20 || code === 0x7f) return `\\x${code.toString(16).padStart(2, "0")}`;
  return ch;
}

/** One character inside a GBNF character class (`[...]`). */
export function classChar(ch: string): string {
  return escapeChar(ch, true);
}

/** A GBNF string literal matching exactly `text`. */
export function literal(text: string): string {
  let out = '"';
  for (const ch of text) out += escapeChar(ch, false);
  return `${out}"`;
}

/** `item` repeated min..max times (max undefined: no upper bound), in GBNF's {m,n} form. */
export function repeat(item: string, min: number, max?: number): string {
  if (max === undefined) return min === 0 ? `${item}*` : min === 1 ? `${item}+` : `${item}{${min},}`;
  if (min === 0 && max === 1) return `${item}?`;
  if (min === max) return min === 1 ? item : `${item}{${min}}`;
  return `${item}{${min},${max}}`;
}

/** Called for every rule a RuleSet gains (`rules` 1) or whose body grows once defined (`rules` 0). */
export type RuleGrowth = (rules: number, bytes: number) => void;

/** Named rules in definition order; the same body under the same name is one rule. */
export class RuleSet {
  private readonly rules = new Map<string, string>();
  /** `base + "\n" + body` → the first name `add` gave that body under that base. */
  private readonly byBody = new Map<string, string>();
  /** The suffix below which every `base-i` name is taken (so `add` never rescans them). */
  private readonly nextSuffix = new Map<string, number>();
  private readonly baseOf = new Map<string, string>();
  private pending = 0;

  /**
   * `reserved` names are never handed out by `add`/`reserve` (they belong to `define`d rules);
   * `onGrow` sees each rule as it is added (a converter's budget).
   */
  constructor(
    private readonly reserved: ReadonlySet<string> = new Set(),
    private readonly onGrow?: RuleGrowth,
  ) {}

  get size(): number {
    return this.rules.size;
  }

  /** Adds a rule and returns the name it got (a suffix when `hint` names a different rule). */
  add(hint: string, body: string): string {
    const base = ruleName(hint);
    const same = this.byBody.get(`${base}\n${body}`);
    if (same !== undefined) return same;
    // The first of base, base-1, base-2, … that is free (names are never removed, so the
    // search resumes where the last one for this base stopped).
    let i = this.nextSuffix.get(base) ?? 0;
    let name = i === 0 ? base : `${base}-${i}`;
    while (this.reserved.has(name) || this.rules.has(name)) name = `${base}-${++i}`;
    this.nextSuffix.set(base, i + 1);
    this.byBody.set(`${base}\n${body}`, name);
    this.baseOf.set(name, base);
    this.set(name, body);
    return name;
  }

  /** Claims a name before its body is known (for recursive references); `define` fills it in. */
  reserve(hint: string): string {
    return this.add(hint, `\0pending ${this.pending++}`);
  }

  define(name: string, body: string): void {
    const base = this.baseOf.get(name);
    if (base !== undefined && !this.byBody.has(`${base}\n${body}`)) this.byBody.set(`${base}\n${body}`, name);
    this.set(name, body);
  }

  has(name: string): boolean {
    return this.rules.has(name);
  }

  private set(name: string, body: string): void {
    const before = this.rules.get(name);
    this.rules.set(name, body);
    if (!this.onGrow) return;
    const bytes = Buffer.byteLength(body, "utf8");
    if (before === undefined) this.onGrow(1, name.length + bytes + 5); // "name ::= body\n"
    else if (bytes > before.length) this.onGrow(0, bytes - before.length); // after reserve: a short placeholder
  }

  /** The grammar text, `root` first (readers start there). */
  toString(): string {
    const root = this.rules.get("root");
    let out = root === undefined ? "" : `root ::= ${root}\n`;
    for (const [name, body] of this.rules) if (name !== "root") out += `${name} ::= ${body}\n`;
    return out;
  }
}
