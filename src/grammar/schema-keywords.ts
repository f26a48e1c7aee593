// What JSON Schema keywords mean for the converter (src/grammar/json-schema-grammar.ts): which it
// refuses, which are annotations only, the type a schema implies, and numeric bounds.
import { SchemaGrammarError } from "./schema-error.ts";

type Obj = Record<string, unknown>;

/** Keywords that constrain values in ways no grammar here expresses. */
export const UNSUPPORTED = new Set([
  "pattern", "multipleOf", "not", "if", "then", "else", "patternProperties", "propertyNames",
  "minProperties", "maxProperties", "contains", "minContains", "maxContains", "dependentRequired",
  "dependentSchemas", "dependencies", "unevaluatedProperties", "unevaluatedItems", "$dynamicRef", "$recursiveRef",
]);

/** Repetitions beyond this are generated up to this bound (llama.cpp refuses more than 2000). */
export const MAX_REPEAT = 1000;

/** Integer bounds implied by minimum/maximum and their exclusive forms (draft 4 and 6+). */
export function integerBounds(s: Obj, path: string): [number, number] {
  let lo = -Infinity;
  let hi = Infinity;
  const num = (k: string) => (typeof s[k] === "number" ? (s[k] as number) : undefined);
  const min = num("minimum");
  const max = num("maximum");
  const exMin = num("exclusiveMinimum") ?? (s.exclusiveMinimum === true ? min : undefined);
  const exMax = num("exclusiveMaximum") ?? (s.exclusiveMaximum === true ? max : undefined);
  if (min !== undefined && s.exclusiveMinimum !== true) lo = Math.ceil(min);
  if (exMin !== undefined) lo = Math.max(lo, Math.floor(exMin) + 1);
  if (max !== undefined && s.exclusiveMaximum !== true) hi = Math.floor(max);
  if (exMax !== undefined) hi = Math.min(hi, Math.ceil(exMax) - 1);
  for (const b of [lo, hi]) {
    if (Number.isFinite(b) && Math.abs(b) > 1e15) throw new SchemaGrammarError("numeric bounds beyond ±1e15 are not supported", path);
  }
  return [lo, hi];
}

/** An upper repetition bound: capped at MAX_REPEAT (generating fewer is still valid). */
export function bound(max: unknown, min: number, path: string): number | undefined {
  if (min > MAX_REPEAT) throw new SchemaGrammarError(`a minimum above ${MAX_REPEAT} repetitions is not supported`, path);
  if (typeof max !== "number") return undefined;
  if (max < min) throw new SchemaGrammarError("the maximum is below the minimum", path);
  return Math.min(max, MAX_REPEAT);
}

export function inferType(s: Obj): string | undefined {
  if ("properties" in s || "additionalProperties" in s || "required" in s) return "object";
  if ("items" in s || "prefixItems" in s || "minItems" in s || "maxItems" in s) return "array";
  if ("minLength" in s || "maxLength" in s || "format" in s) return "string";
  if ("minimum" in s || "maximum" in s || "exclusiveMinimum" in s || "exclusiveMaximum" in s) return "number";
  return undefined;
}

const ANNOTATIONS = new Set(["$schema", "$id", "$comment", "$defs", "definitions", "title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly"]);
export function isAnnotation(key: string): boolean {
  return ANNOTATIONS.has(key);
}
