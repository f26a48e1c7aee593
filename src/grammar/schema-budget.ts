// How much work one request's schema conversion may take. The converter runs synchronously in the
// HTTP process, where every model's requests and /health wait for it: a 2 KB schema that expands
// exponentially must be refused after bounded work, never converted for seconds. The bounds are
// counts, not time, so the same schema always gets the same answer.
import { MAX_GRAMMAR_BYTES } from "../llama/grammar-limits.ts";
import { SchemaBudgetError } from "./schema-error.ts";

export interface SchemaLimits {
  /** Schemas visited (not counting repeats of a schema already converted) plus keywords merged. */
  steps: number;
  /** Rules in the grammar. */
  rules: number;
  /** Grammar text; the runner refuses more anyway (src/llama/grammar-limits.ts). */
  bytes: number;
}

/** Far above real APIs' schemas (tens to hundreds of rules); a few tens of ms to reach any of them. */
export const SCHEMA_LIMITS: Readonly<SchemaLimits> = { steps: 100_000, rules: 10_000, bytes: MAX_GRAMMAR_BYTES };

/** Work done so far; one budget may be shared by several conversions (one grammar per tool). */
export class SchemaBudget {
  private steps = 0;
  private rules = 0;
  private bytes = 0;

  constructor(readonly limits: Readonly<SchemaLimits> = SCHEMA_LIMITS) {}

  step(path: string, n = 1): void {
    this.steps += n;
    if (this.steps > this.limits.steps) throw new SchemaBudgetError(`the schema is too complex to convert (more than ${this.limits.steps} steps)`, path);
  }

  /** Throws now if `rules` more rules would not fit (before work that adds them recursively). */
  expectRules(rules: number, path: string): void {
    if (this.rules + rules > this.limits.rules) throw this.tooManyRules(path);
  }

  /** Throws now if `bytes` more grammar text would not fit (before escaping a long literal). */
  expectBytes(bytes: number, path: string): void {
    if (this.bytes + bytes > this.limits.bytes) throw this.tooManyBytes(path);
  }

  /** A new rule of `bytes` bytes (or more bytes for a rule whose body was filled in later: `rules` 0). */
  grow(rules: number, bytes: number, path: string): void {
    this.rules += rules;
    this.bytes += bytes;
    if (this.rules > this.limits.rules) throw this.tooManyRules(path);
    if (this.bytes > this.limits.bytes) throw this.tooManyBytes(path);
  }

  private tooManyBytes(path: string): SchemaBudgetError {
    return new SchemaBudgetError(`the schema is too large to convert (its grammar would exceed ${this.limits.bytes} bytes)`, path);
  }

  private tooManyRules(path: string): SchemaBudgetError {
    return new SchemaBudgetError(`the schema is too complex to convert (its grammar needs more than ${this.limits.rules} rules)`, path);
  }
}
