// Model-layer failures; the API maps them to HTTP (src/api/errors.ts).
export class ModelNotFoundError extends Error {
  override name = "ModelNotFoundError";
  constructor(readonly id: string) {
    super(`The model '${id}' does not exist`);
  }
}

export class ModelUnavailableError extends Error {
  override name = "ModelUnavailableError";
  constructor(readonly id: string, reason: string) {
    super(`model '${id}' failed to load: ${reason}`);
  }
}
