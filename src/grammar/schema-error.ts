// Why a JSON Schema has no grammar: a keyword no grammar here expresses, or a schema whose
// grammar would cost more than a shared server may spend on one request (SchemaBudgetError).

export class SchemaGrammarError extends Error {
  constructor(
    message: string,
    /** JSON pointer into the schema of the part that cannot be converted. */
    readonly path: string,
  ) {
    super(path ? `${message} (at ${path})` : message);
    this.name = "SchemaGrammarError";
  }
}

/** The schema may be valid, but converting it would exceed the budget (src/grammar/schema-budget.ts). */
export class SchemaBudgetError extends SchemaGrammarError {
  constructor(message: string, path: string) {
    super(message, path);
    this.name = "SchemaBudgetError";
  }
}
