// JSON Schemas that are small as text but expensive to convert naively (issue 23, finding 1):
// shared by the converter's unit tests, the server test and the HTTP fuzz.

/** `levels` nested objects, each with an anyOf of two `required` lists beside its properties. */
export function anyOfBesideProperties(levels: number): object {
  let schema: object = { type: "string" };
  for (let i = 0; i < levels; i++) schema = { type: "object", properties: { a: schema }, anyOf: [{ required: ["a"] }, { required: ["a"], title: "x" }] };
  return schema;
}

/** `levels` nested objects whose `type` names "object" twice. */
export function typeArrayOfObjects(levels: number): object {
  let schema: object = { type: "string" };
  for (let i = 0; i < levels; i++) schema = { type: ["object", "object"], properties: { a: schema } };
  return schema;
}

/** An anyOf of `n` different constants: one rule each. */
export function wideAnyOf(n: number): object {
  return { anyOf: Array.from({ length: n }, (_, i) => ({ const: `value-${i}` })) };
}

/** An object of `n` properties, each a differently bounded string (a rule each). */
export function wideProperties(n: number): object {
  return { type: "object", properties: Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, { type: "string", maxLength: 1 + (i % 97) }])) };
}

/** An allOf of `n` references to one 20-property object (each merge copies its properties). */
export function allOfOfReferences(n: number): object {
  const p = { type: "object", properties: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, { type: "integer" }])) };
  return { $defs: { p }, allOf: Array.from({ length: n }, () => ({ $ref: "#/$defs/p" })) };
}

/** `levels` nested objects whose anyOf alternatives also constrain the nested property (merged through allOf). */
export function anyOfMergingProperties(levels: number): object {
  let schema: object = { type: "string" };
  for (let i = 0; i < levels; i++) {
    schema = { type: "object", properties: { a: schema }, anyOf: [{ properties: { a: { minLength: 1 } } }, { properties: { a: { title: "x", maxLength: 9 } } }] };
  }
  return schema;
}

/** Schemas the converter must refuse rather than crash on. */
export const brokenReferences: object[] = [
  { $defs: { a: { $ref: "#/$defs/a" } }, allOf: [{ $ref: "#/$defs/a" }] },
  { $defs: { a: { $ref: "#/$defs/b" }, b: { $ref: "#/$defs/a" } }, type: "object", properties: { x: { $ref: "#/$defs/a", title: "t" } } },
  { $ref: "#/%E0%A4%A" },
  { $ref: "#" },
];

// GBNF grammars (the `grammar` field) whose parse stacks multiply, for the shim's bounds
// (lib/shim/hearth_grammar.cpp). Both are a few hundred bytes.

/**
 * `levels` nested rules, each an "x" then the next rule then "y" or "z": every "x" doubles the
 * stacks (2^k after k characters, each waiting for a different closing sequence), whatever the model
 * picks — the grammar allows nothing but "x" until the last level.
 */
export function doublingGrammar(levels: number): string {
  const rules = ["root ::= x1"];
  for (let i = 1; i <= levels; i++) {
    const next = i < levels ? ` x${i + 1}` : "";
    rules.push(`x${i} ::= "x"${next} "y" | "x"${next} "z"`);
  }
  return rules.join("\n");
}

/** A chain of `levels` rules of two alternatives over the one before: 2^levels stacks before the first character. */
export function alternativesChain(levels: number): string {
  const rules = [`root ::= r${levels}`, 'r0 ::= "x"'];
  for (let i = 1; i <= levels; i++) rules.push(`r${i} ::= r${i - 1} "a" | r${i - 1} "b"`);
  return rules.join("\n");
}

/**
 * Two stacks only, but llama.cpp's mask follows each derivation of a candidate on its own: 2^n of
 * them to refuse a token of n spaces and a letter. (The shim's mask follows sets of stacks: fine.)
 */
export const ambiguousSpaces = 'root ::= ws "x"\nws ::= (" " | " ") ws | ""';

/**
 * `n` alternatives that each take any character but one (a different one each), then "!": `n`
 * stacks on `n` different elements that all take nearly every candidate.
 */
export function negatedClasses(n: number): string {
  const rules = [`root ::= ${Array.from({ length: n }, (_, i) => `a${i}`).join(" | ")}`];
  for (let i = 0; i < n; i++) rules.push(`a${i} ::= [^\\u${(0x4e00 + i).toString(16)}]+ "!"`);
  return rules.join("\n");
}
