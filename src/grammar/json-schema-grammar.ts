// JSON Schema → GBNF, so that llama.cpp's grammar sampler can only produce JSON the schema accepts.
//
// Semantics follow llama.cpp's common/json-schema-to-grammar.cpp where it makes sense (required
// properties first, then the optional ones in declared order; whitespace bounded), with one rule:
// the grammar may generate a *subset* of what the schema accepts, never more. So keywords that
// only narrow what we generate are fine (a maximum we cannot express exactly is met by generating
// fewer values), and a keyword we cannot honour is a SchemaGrammarError, never silently dropped.
// Undeclared properties are generated only when a schema allows them explicitly or declares none.
//
// Work is bounded (src/grammar/schema-budget.ts): a sub-schema seen before — the same JSON apart
// from annotations, however it was reached (anyOf beside properties, each entry of a `type`
// array, allOf merges) — is the rule it became the first time, never expanded again.
// (Past 350 lines on purpose: the keyword visitors call one another recursively through one
// converter's rule set and budget; primitives, integer ranges and keys are already their own files.)
import { ContentKeys } from "./content-keys.ts";
import { classChar, literal, repeat, RuleSet } from "./gbnf.ts";
import { integerRange } from "./integer-range.ts";
import { PRIMITIVE_NAMES, STRING_FORMATS, use } from "./json-primitives.ts";
import { SchemaBudget } from "./schema-budget.ts";
import { SchemaGrammarError } from "./schema-error.ts";
import { bound, inferType, integerBounds, isAnnotation, UNSUPPORTED } from "./schema-keywords.ts";

export { SchemaBudget } from "./schema-budget.ts";
export { SchemaBudgetError, SchemaGrammarError } from "./schema-error.ts";

type Obj = Record<string, unknown>;
type Schema = boolean | Obj;

/** `$ref`s followed in a row to reach a schema to merge (a chain or a loop of references). */
const MAX_REF_HOPS = 64;

/**
 * The GBNF grammar of the JSON values `schema` accepts, its start rule named `rootName` (other
 * grammars, like tool calls, embed it under another name). Throws SchemaBudgetError past
 * `budget`, which several conversions for one request may share.
 */
export function jsonSchemaToGbnf(schema: unknown, rootName = "root", budget = new SchemaBudget()): string {
  if (typeof schema !== "boolean" && !isObject(schema)) throw new SchemaGrammarError("a schema must be an object or a boolean", "");
  const converter = new Converter(schema, budget);
  const top = converter.visit(schema, rootName, "");
  if (top !== rootName) converter.rules.add(rootName, top);
  use(converter.rules, "space"); // most rules end with it
  return converter.rules.toString();
}

function isObject(x: unknown): x is Obj {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

class Converter {
  readonly rules: RuleSet;
  private readonly refs = new Map<string, string>();
  private readonly keys: ContentKeys;
  /** Content key (annotations left out) → the rule a schema became. */
  private readonly done = new Map<string, string>();
  private readonly schemaKeys = new WeakMap<Obj, string>();
  private depth = 0;
  /** Where the conversion is, for budget errors. */
  private path = "";

  constructor(
    private readonly root: Schema,
    private readonly budget: SchemaBudget,
  ) {
    this.rules = new RuleSet(PRIMITIVE_NAMES, (rules, bytes) => budget.grow(rules, bytes, this.path));
    this.keys = new ContentKeys(members => budget.step(this.path, 1 + members));
  }

  /** Returns the name of a rule matching `schema` (plus trailing whitespace). */
  visit(schema: Schema, name: string, path: string): string {
    this.budget.step(path);
    if (typeof schema === "boolean") return this.visitSchema(schema, name, path);
    const key = this.schemaKey(schema);
    const known = this.done.get(key);
    if (known !== undefined) return known;
    // Inlined schemas (allOf, $ref beside other keywords) could otherwise recurse forever.
    if (++this.depth > 200) throw new SchemaGrammarError("the schema nests too deeply (or inlines a recursive reference)", path);
    const outer = this.path;
    this.path = path;
    try {
      const rule = this.visitSchema(schema, name, path);
      this.done.set(key, rule);
      return rule;
    } finally {
      this.depth--;
      this.path = outer;
    }
  }

  /** Equal for schemas that differ only in annotations (title, description, …). */
  private schemaKey(s: Obj): string {
    let key = this.schemaKeys.get(s);
    if (key === undefined) {
      const entries = Object.entries(s);
      const kept = entries.filter(([k]) => !isAnnotation(k));
      key = this.keys.of(kept.length === entries.length ? s : Object.fromEntries(kept));
      this.schemaKeys.set(s, key);
    }
    return key;
  }

  private visitSchema(schema: Schema, name: string, path: string): string {
    if (schema === true) return use(this.rules, "value");
    if (schema === false) throw new SchemaGrammarError("the schema `false` accepts no value", path);
    const s = schema;
    for (const key of Object.keys(s)) {
      if (UNSUPPORTED.has(key) && !(key === "pattern" && STRING_FORMATS.has(String(s.format)))) {
        throw new SchemaGrammarError(`the keyword "${key}" is not supported`, `${path}/${key}`);
      }
    }
    if (s.uniqueItems === true && !(typeof s.maxItems === "number" && s.maxItems <= 1)) {
      throw new SchemaGrammarError('the keyword "uniqueItems" is not supported', `${path}/uniqueItems`);
    }
    if (typeof s.$ref === "string") return this.ref(s, path);
    if (Array.isArray(s.allOf)) {
      const { allOf, ...rest } = s;
      const merged = allOf.reduce<Obj>((acc, part, i) => this.merge(acc, this.resolve(part, `${path}/allOf/${i}`), `${path}/allOf/${i}`), rest);
      return this.visit(merged, name, path);
    }
    for (const key of ["anyOf", "oneOf"] as const) {
      if (!Array.isArray(s[key])) continue;
      const { [key]: alts, ...rest } = s;
      // Keywords beside anyOf apply to every alternative; without any, an alternative's $ref
      // stays a rule reference (so recursive schemas stay finite).
      const shared = Object.keys(rest).some(k => !isAnnotation(k));
      const names = (alts as unknown[]).map((alt, i) => {
        const p = `${path}/${key}/${i}`;
        const schema = shared ? this.merge(rest, this.resolve(alt, p), p) : (alt as Schema);
        return this.visit(schema, `${name}-${i}`, p);
      });
      if (names.length === 0) throw new SchemaGrammarError(`"${key}" is empty`, `${path}/${key}`);
      return this.rules.add(name, alternatives(names));
    }
    if (s.nullable === true) {
      const { nullable: _, ...rest } = s;
      return this.rules.add(name, `${this.visit(rest, `${name}-value`, path)} | ${use(this.rules, "null")}`);
    }
    if ("const" in s) return this.rules.add(name, `${this.literals([s.const], path)[0]} space`);
    if (Array.isArray(s.enum)) {
      if (s.enum.length === 0) throw new SchemaGrammarError('"enum" is empty', `${path}/enum`);
      this.budget.step(path, s.enum.length);
      use(this.rules, "space");
      return this.rules.add(name, this.literals(s.enum, path).map(v => `${v} space`).join(" | "));
    }
    const type = s.type;
    if (Array.isArray(type)) {
      if (type.length === 0) throw new SchemaGrammarError('"type" is empty', `${path}/type`);
      return this.rules.add(name, alternatives(type.map(t => this.visit({ ...s, type: t }, `${name}-${t}`, path))));
    }
    switch (type ?? inferType(s)) {
      case "object": return this.object(s, name, path);
      case "array": return this.array(s, name, path);
      case "string": return this.string(s, name, path);
      case "integer": return this.integer(s, name, path);
      case "number": return this.number(s, name, path);
      case "boolean": return use(this.rules, "boolean");
      case "null": return use(this.rules, "null");
      case undefined: return use(this.rules, "value");
      default: throw new SchemaGrammarError(`unknown type "${String(type)}"`, `${path}/type`);
    }
  }

  /** GBNF literals of the values' JSON texts (compact, as JSON.stringify writes them), within the budget. */
  private literals(values: unknown[], path: string): string[] {
    let bytes = 0;
    return values.map(value => {
      const text = JSON.stringify(value);
      bytes += text.length;
      this.budget.expectBytes(bytes, path);
      return literal(text);
    });
  }

  private ref(s: Obj, path: string): string {
    const ref = s.$ref as string;
    const { $ref: _, ...rest } = s;
    if (Object.keys(rest).some(k => !isAnnotation(k))) {
      // Keywords beside $ref apply too (2019-09+): the same as allOf of both.
      return this.visit({ allOf: [{ $ref: ref }], ...rest }, refName(ref), path);
    }
    const known = this.refs.get(ref);
    if (known) return known;
    const name = this.rules.reserve(refName(ref));
    this.refs.set(ref, name);
    const target = this.lookup(ref, path);
    const body = this.visit(target, `${name}-body`, ref.slice(1));
    this.rules.define(name, body);
    return name;
  }

  /** The schema a local `$ref` ("#", "#/$defs/x", any JSON pointer into the root) points at. */
  private lookup(ref: string, path: string): Schema {
    if (!ref.startsWith("#")) throw new SchemaGrammarError(`only local references ("#/...") are supported, not "${ref}"`, `${path}/$ref`);
    let target: unknown = this.root;
    let pointer: string;
    try {
      pointer = decodeURIComponent(ref.slice(1));
    } catch {
      throw new SchemaGrammarError(`"${ref}" is not a valid URI fragment`, `${path}/$ref`);
    }
    const parts = pointer.split("/").slice(1);
    this.budget.step(path, 1 + parts.length);
    if (pointer && !pointer.startsWith("/")) throw new SchemaGrammarError(`"${ref}" is not a JSON pointer`, `${path}/$ref`);
    for (const raw of parts) {
      const part = raw.replace(/~1/g, "/").replace(/~0/g, "~");
      target = isObject(target) || Array.isArray(target) ? (target as Obj)[part] : undefined;
      if (target === undefined) throw new SchemaGrammarError(`"${ref}" points at nothing`, `${path}/$ref`);
    }
    if (typeof target !== "boolean" && !isObject(target)) throw new SchemaGrammarError(`"${ref}" does not point at a schema`, `${path}/$ref`);
    return target;
  }

  /** A sub-schema with a top-level `$ref` replaced by its target (for merging). */
  private resolve(schema: unknown, path: string, hops = 0): Obj {
    if (schema === true) return {};
    if (!isObject(schema)) throw new SchemaGrammarError("expected a schema object", path);
    if (typeof schema.$ref !== "string") return schema;
    if (hops >= MAX_REF_HOPS) throw new SchemaGrammarError(`more than ${MAX_REF_HOPS} references in a row (a chain or a loop of $ref)`, `${path}/$ref`);
    const { $ref, ...rest } = schema;
    const target = this.lookup($ref, path);
    if (target === false) throw new SchemaGrammarError("the schema `false` accepts no value", path);
    return this.merge(this.resolve(target, path, hops + 1), rest, path);
  }

  /** Both schemas at once (allOf). Objects merge their properties; other keywords must agree. */
  private merge(a: Obj, b: Obj, path: string): Obj {
    // Merged schemas are new objects (never cached by identity): their cost is counted here.
    this.budget.step(path, 1 + Object.keys(a).length + Object.keys(b).length);
    const out: Obj = { ...a };
    for (const [key, value] of Object.entries(b)) {
      if (!(key in out) || isAnnotation(key)) out[key] = value;
      else if (key === "properties" && isObject(out.properties) && isObject(value)) {
        const props: Obj = { ...out.properties };
        this.budget.step(path, Object.keys(props).length + Object.keys(value).length);
        for (const [k, v] of Object.entries(value)) props[k] = k in props ? { allOf: [props[k], v] } : v;
        out.properties = props;
      } else if (key === "required" && Array.isArray(out.required) && Array.isArray(value)) {
        out.required = [...new Set([...out.required, ...value])];
      } else if (this.keys.of(out[key]) !== this.keys.of(value)) {
        throw new SchemaGrammarError(`cannot combine two different "${key}" keywords`, `${path}/${key}`);
      }
    }
    return out;
  }

  private object(s: Obj, name: string, path: string): string {
    const props: Obj = isObject(s.properties) ? { ...s.properties } : {};
    const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
    for (const key of required) if (!(key in props)) props[key] = true;
    const kv = (key: string) =>
      this.rules.add(`${name}-${key}-kv`, `${this.literals([key], path)[0]} space ":" space ${this.visit(props[key] as Schema, `${name}-${key}`, `${path}/properties/${key}`)}`);
    const keys = Object.keys(props);
    this.budget.step(path, keys.length);
    const req = keys.filter(k => required.has(k)).map(kv);
    const opt = keys.filter(k => !required.has(k)).map(kv);
    use(this.rules, "space");

    let extra: string | null = null;
    // Undeclared properties only where the schema asks for them, or where it declares none at all
    // (`{"type": "object"}` means any object, not only `{}`).
    const additional = s.additionalProperties ?? (keys.length === 0 ? true : undefined);
    if (additional === true || isObject(additional)) {
      const key = keys.length === 0 ? use(this.rules, "string") : this.keyOutside(keys, `${name}-extra-key`);
      const value = this.visit(additional as Schema, `${name}-extra-value`, `${path}/additionalProperties`);
      extra = this.rules.add(`${name}-extra-kv`, `${key} ":" space ${value}`);
    }
    // The optional properties from i on, each after a comma.
    const rest = (i: number): string => {
      if (i >= opt.length) return extra ? `("," space ${extra})*` : "";
      return this.rules.add(`${name}-rest-${i}`, `("," space ${opt[i]})? ${rest(i + 1)}`.trim());
    };
    let inner: string;
    if (req.length > 0) inner = `${req.join(' "," space ')} ${rest(0)}`.trim();
    else {
      const alts = opt.map((o, i) => `${o} ${rest(i + 1)}`.trim());
      if (extra) alts.push(`${extra} ("," space ${extra})*`);
      inner = alts.length > 0 ? `(${alts.join(" | ")})?` : "";
    }
    return this.rules.add(name, `"{" space ${inner} "}" space`.replace(/ {2,}/g, " "));
  }

  /** A JSON string key that is none of `keys` (so an extra property never repeats a declared one). */
  private keyOutside(keys: string[], name: string): string {
    interface Node { children: Map<string, Node>; end: boolean }
    const trie: Node = { children: new Map(), end: false };
    // Each trie node becomes a rule, built depth-first: count them before recursing.
    const chars = keys.reduce((n, key) => n + key.length, 0);
    this.budget.step(this.path, chars);
    this.budget.expectRules(chars, this.path);
    for (const key of keys) {
      let node = trie;
      for (const ch of key) {
        if (!node.children.has(ch)) node.children.set(ch, { children: new Map(), end: false });
        node = node.children.get(ch)!;
      }
      node.end = true;
    }
    use(this.rules, "char");
    let n = 0;
    const build = (node: Node): string => {
      const id = n++;
      // Raw characters only (no escapes) where a key could go on, so an escape cannot spell a key.
      const excluded = [...node.children.keys()].map(classChar).join("");
      const alts = [`[^${excluded}"\\\\\\x7F\\x00-\\x1F] char*`];
      for (const [ch, child] of node.children) alts.push(`${literal(JSON.stringify(ch).slice(1, -1))} ${build(child)}`);
      const body = node.end ? `(${alts.join(" | ")})` : `(${alts.join(" | ")})?`;
      return this.rules.add(`${name}-${id}`, body);
    };
    return this.rules.add(name, `"\\"" ${build(trie)} "\\"" space`);
  }

  private array(s: Obj, name: string, path: string): string {
    use(this.rules, "space");
    const tuple = Array.isArray(s.prefixItems) ? s.prefixItems : Array.isArray(s.items) ? s.items : null;
    const min = typeof s.minItems === "number" ? s.minItems : 0;
    if (tuple) {
      if (min > tuple.length) throw new SchemaGrammarError("minItems beyond the tuple's items is not supported", `${path}/minItems`);
      const items = tuple.map((t, i) => this.visit(t as Schema, `${name}-${i}`, `${path}/prefixItems/${i}`));
      return this.rules.add(name, items.length ? `"[" space ${items.join(' "," space ')} "]" space` : `"[" space "]" space`);
    }
    const item = this.visit((s.items ?? true) as Schema, `${name}-item`, `${path}/items`);
    const max = bound(s.maxItems, min, `${path}/minItems`);
    if (max === 0) return this.rules.add(name, `"[" space "]" space`);
    const more = (lo: number, hi: number | undefined) => (hi === 0 ? "" : repeat(`("," space ${item})`, lo, hi));
    const body =
      min === 0
        ? `"[" space (${item} ${more(0, max === undefined ? undefined : max - 1)})? "]" space`
        : `"[" space ${item} ${more(min - 1, max === undefined ? undefined : max - 1)} "]" space`;
    return this.rules.add(name, body.replace(/ {2,}/g, " "));
  }

  private string(s: Obj, name: string, path: string): string {
    const format = typeof s.format === "string" && STRING_FORMATS.has(s.format) ? s.format : null;
    use(this.rules, "space");
    if (format) return this.rules.add(name, `"\\"" ${use(this.rules, format)} "\\"" space`);
    const min = typeof s.minLength === "number" ? s.minLength : 0;
    const max = bound(s.maxLength, min, `${path}/minLength`);
    if (min === 0 && max === undefined) return use(this.rules, "string");
    return this.rules.add(name, `"\\"" ${repeat(use(this.rules, "char"), min, max)} "\\"" space`);
  }

  private integer(s: Obj, name: string, path: string): string {
    const [lo, hi] = integerBounds(s, path);
    if (lo === -Infinity && hi === Infinity) return use(this.rules, "integer");
    if (lo > hi) throw new SchemaGrammarError("no integer lies within minimum..maximum", path);
    return this.rules.add(name, `${integerRange(lo, hi)} space`);
  }

  /**
   * Bounded numbers: integers within the bounds, plus decimals whose integer part is non-negative
   * and below the upper bound (a subset, but every value generated is within the bounds).
   */
  private number(s: Obj, name: string, path: string): string {
    const [lo, hi] = integerBounds(s, path);
    if (lo === -Infinity && hi === Infinity) return use(this.rules, "number");
    if (lo > hi) throw new SchemaGrammarError("bounds this narrow are not supported for numbers (no integer lies within them)", path);
    const alts = [integerRange(lo, hi)];
    const fracLo = Math.max(lo, 0);
    if (fracLo <= hi - 1) alts.push(`${integerRange(fracLo, hi - 1)} "." ${use(this.rules, "decimal-part")}`);
    use(this.rules, "space");
    return this.rules.add(name, `(${alts.join(" | ")}) space`);
  }
}

/** Rule names as alternatives, each once (the same alternative twice only multiplies parser stacks). */
function alternatives(names: string[]): string {
  return [...new Set(names)].join(" | ");
}

function refName(ref: string): string {
  const last = ref.split("/").pop() ?? "";
  return last && last !== "#" ? `ref-${last}` : "ref-root";
}
