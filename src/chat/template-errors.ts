// What rendering a chat template can fail with. Both are the template's doing, not a crash: the
// API layer turns them into error answers for the request (or the model), never into a 500.

/** The template refused this conversation (raise_exception: roles must alternate, …). */
export class TemplateError extends Error {
  override name = "TemplateError";
}

/**
 * The template could not be rendered within the limits Hearth puts on template code (steps, sizes,
 * time; see template-limits.ts): a loop that does not end, a string that doubles until memory runs
 * out. The model file is at fault, not the request.
 */
export class TemplateLimitError extends TemplateError {
  override name = "TemplateLimitError";
}
