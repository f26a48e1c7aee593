// GBNF rules for JSON's building blocks and for the string formats a schema may ask for. Each
// rule that ends a value also eats the whitespace after it (`space`), so rules compose by sequence.
// Repetitions are bounded where JSON allows it (whitespace, digits): a model with nothing to
// say about its output still reaches the end of it.
import { RuleSet } from "./gbnf.ts";

/** Rule bodies, by name. Rules may refer to each other; `use` adds one with its dependencies. */
const PRIMITIVES: Record<string, { body: string; deps: string[] }> = {
  space: { body: '| " " | "\\n" [ \\t]{0,20}', deps: [] },
  hex: { body: "[0-9a-fA-F]", deps: [] },
  // A JSON string character; \u escapes never name a UTF-16 surrogate (lengths count code points).
  char: { body: '[^"\\\\\\x7F\\x00-\\x1F] | [\\\\] (["\\\\/bfnrt] | "u" ([0-9a-cA-CefEF] hex{3} | [dD] [0-7] hex{2}))', deps: ["hex"] },
  string: { body: '"\\"" char* "\\"" space', deps: ["char", "space"] },
  "integral-part": { body: "[0] | [1-9] [0-9]{0,15}", deps: [] },
  "decimal-part": { body: "[0-9]{1,16}", deps: [] },
  number: { body: '"-"? integral-part ("." decimal-part)? ([eE] [-+]? [0-9]{1,2})? space', deps: ["integral-part", "decimal-part", "space"] },
  integer: { body: '"-"? integral-part space', deps: ["integral-part", "space"] },
  boolean: { body: '("true" | "false") space', deps: ["space"] },
  null: { body: '"null" space', deps: ["space"] },
  value: { body: "object | array | string | number | boolean | null", deps: ["object", "array", "string", "number", "boolean", "null"] },
  object: {
    body: '"{" space (string ":" space value ("," space string ":" space value)*)? "}" space',
    deps: ["space", "string", "value"],
  },
  array: { body: '"[" space (value ("," space value)*)? "]" space', deps: ["space", "value"] },

  // String formats (ajv-formats' "full" checks: real calendar days, hours ≤ 23, a time zone).
  "date-year": { body: "[0-9]{4}", deps: [] },
  "date-md": {
    body: '("0" [13578] | "1" [02]) "-" ("0" [1-9] | [12] [0-9] | "3" [01]) | ("0" [469] | "11") "-" ("0" [1-9] | [12] [0-9] | "30") | "02" "-" ("0" [1-9] | "1" [0-9] | "2" [0-8])',
    deps: [],
  },
  date: { body: 'date-year "-" date-md', deps: ["date-year", "date-md"] },
  time: {
    body: '([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9] ":" [0-5] [0-9] ("." [0-9]{1,6})? ("Z" | [+-] ([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9])',
    deps: [],
  },
  // UTC only ("Z"): also what zod's date-time pattern demands.
  "date-time": { body: 'date "T" ([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9] ":" [0-5] [0-9] ("." [0-9]{1,6})? "Z"', deps: ["date"] },
  uuid: { body: 'hex{8} "-" hex{4} "-" hex{4} "-" hex{4} "-" hex{12}', deps: ["hex"] },
  "email-atom": { body: "[a-zA-Z0-9_+-]{1,32}", deps: [] },
  "email-label": { body: "[a-zA-Z0-9] ([a-zA-Z0-9-]{0,30} [a-zA-Z0-9])?", deps: [] },
  // The top-level domain is letters only, as zod's email pattern demands.
  email: { body: 'email-atom ("." email-atom){0,3} "@" (email-label "."){1,3} [a-zA-Z]{2,10}', deps: ["email-atom", "email-label"] },
  "ipv4-octet": { body: '"25" [0-5] | "2" [0-4] [0-9] | "1" [0-9] [0-9] | [1-9]? [0-9]', deps: [] },
  ipv4: { body: 'ipv4-octet "." ipv4-octet "." ipv4-octet "." ipv4-octet', deps: ["ipv4-octet"] },
};

/** Names of the primitive rules: a schema's own rules never take them. */
export const PRIMITIVE_NAMES: ReadonlySet<string> = new Set(Object.keys(PRIMITIVES));

/** The string formats with a grammar of their own; other formats are annotations only. */
export const STRING_FORMATS = new Set(["date", "time", "date-time", "uuid", "email", "ipv4"]);

/** Adds the named primitive (and what it refers to) to `rules`; returns its rule name. */
export function use(rules: RuleSet, name: keyof typeof PRIMITIVES | string): string {
  const primitive = PRIMITIVES[name];
  if (!primitive) throw new Error(`no JSON primitive named ${name}`);
  if (!rules.has(name)) {
    rules.define(name, primitive.body);
    for (const dep of primitive.deps) use(rules, dep);
  }
  return name;
}

/** The GBNF of any JSON object (`response_format: {"type": "json_object"}`). */
export function jsonObjectGrammar(): string {
  const rules = new RuleSet();
  rules.define("root", "object");
  use(rules, "object");
  return rules.toString();
}
