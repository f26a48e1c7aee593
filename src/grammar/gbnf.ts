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
  if (inClass && (ch === "]" || ch === "[" || ch === "^" || ch === "-")) return `\\${ch}`;
  if (ch === "\n") return "\\n";
  if (ch === "\r") return "\\r";
  if (ch === "\t") return "\\t";
  if (code < 0x20 || code === 0x7f) return `\\x${code.toString(16).padStart(2, "0")}`;
  return ch;
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

/** Named rules in definition order; the same body under the same name is one rule. */
export class RuleSet {
  private readonly rules = new Map<string, string>();
  private pending = 0;

  /** `reserved` names are never handed out by `add`/`reserve` (they belong to `define`d rules). */
  constructor(private readonly reserved: ReadonlySet<string> = new Set()) {}

  /** Adds a rule and returns the name it got (a suffix when `hint` names a different rule). */
  add(hint: string, body: string): string {
    const base = ruleName(hint);
    for (let i = 0; ; i++) {
      const name = i === 0 ? base : `${base}-${i}`;
      if (this.reserved.has(name)) continue;
      const existing = this.rules.get(name);
      if (existing === undefined) {
        this.rules.set(name, body);
        return name;
      }
      if (existing === body) return name;
    }
  }

  /** Claims a name before its body is known (for recursive references); `define` fills it in. */
  reserve(hint: string): string {
    return this.add(hint, `\0pending ${this.pending++}`);
  }

  define(name: string, body: string): void {
    this.rules.set(name, body);
  }

  has(name: string): boolean {
    return this.rules.has(name);
  }

  /** The grammar text, `root` first (readers start there). */
  toString(): string {
    const root = this.rules.get("root");
    let out = root === undefined ? "" : `root ::= ${root}\n`;
    for (const [name, body] of this.rules) if (name !== "root") out += `${name} ::= ${body}\n`;
    return out;
  }
}
