// The one error type of the importer: a message a user can act on (which file, what is wrong).
export class ImportError extends Error {
  override name = "ImportError";
}
