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

/** A request named no model, and no default model applies (several are served, no --default-model). */
export class ModelNotNamedError extends Error {
  override name = "ModelNotNamedError";
  constructor(readonly served: number) {
    super(notNamedMessage(served));
  }
}

function notNamedMessage(served: number): string {
  if (served === 0) return "no model is being served";
  return `the request names no model and this server serves ${served}: set \`model\` to one of them (GET /v1/models), or start the server with --default-model`;
}
