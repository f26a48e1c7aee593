// GET /v1/models and GET /v1/models/{id}: OpenAI's list shape plus Hearth's `meta`.
import type { ModelListing } from "../model-source.ts";

export function modelObject(m: ModelListing) {
  const md = m.info?.metadata ?? {};
  return {
    id: m.id,
    object: "model",
    created: m.created,
    owned_by: "hearth",
    meta: {
      architecture: md["general.architecture"] ?? m.architecture ?? null,
      parameters: m.info?.nParams ?? m.parameters ?? null,
      quantization: m.quantization ?? null,
      context_length: m.info?.nCtxTrain ?? m.contextLength ?? null,
      n_ctx: m.info?.nCtx ?? null,
      size_bytes: m.sizeBytes,
      family: m.family ?? null,
      chat_template: m.chatTemplate ?? null,
      state: m.state,
      aliases: m.aliases ?? [],
      loaded: m.state === "loaded",
      ...(m.error ? { error: m.error } : {}),
      ...(m.slots ? { slots: m.slots } : {}),
      // Where the layers live once loaded; the configured RPC workers in any state.
      devices: (m.state === "loaded" ? m.info?.devices : null) ?? null,
      ...(m.workers?.length ? { rpc: m.workers } : {}),
      // Once loaded: an embedding model's pooling and vector width, or how many choices a request may ask.
      ...(m.info?.nEmbd !== undefined ? { embedding: { pooling: m.info.pooling ?? null, dimensions: m.info.nEmbd } } : {}),
      ...(m.info?.maxChoices !== undefined && m.info.nEmbd === undefined ? { max_choices: m.info.maxChoices } : {}),
      // Takes images (a vision projector is loaded with it); null until the model is loaded.
      vision: m.info ? m.info.vision === true : null,
    },
  };
}

export function listModels(models: ModelListing[]) {
  return { object: "list", data: models.map(modelObject) };
}
