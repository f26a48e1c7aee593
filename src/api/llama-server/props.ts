// GET /props: llama-server's server properties (default generation settings, slots, model path,
// chat template, build). POST /props, which changes them at run time in llama-server when started
// with --props, is refused: Hearth's settings come from flags and hearth.json only.
import type { ModelSource } from "../model-source.ts";
import { HEARTH_VERSION } from "../../util/version.ts";
import { resolveGeneration } from "../chat-core/sampling.ts";
import { notSupported } from "./errors.ts";
import { generationSettings } from "./settings.ts";
import { slotState } from "./slots.ts";

export async function props(models: ModelSource, query: Record<string, string | undefined>) {
  const model = await models.acquire(query.model);
  const info = model.info;
  const params = resolveGeneration({ maxTokens: null, stop: [], sampling: {} }, info.nVocab, model.defaults);
  const { stream: _, ...settings } = generationSettings(params, info, { stream: false, nPredict: -1 });
  const state = slotState(models, model);
  return {
    default_generation_settings: { params: settings, n_ctx: info.nCtx },
    total_slots: state.total,
    model_alias: query.model || model.id,
    model_path: model.path ?? model.id,
    modalities: { vision: info.vision === true, audio: false },
    chat_template: model.chat.templateText,
    bos_token: info.bosText,
    eos_token: info.eosText,
    build_info: `hearth-${HEARTH_VERSION}`,
    endpoint_slots: true,
    endpoint_props: false,
    endpoint_metrics: true,
  };
}

export function refuseSetProps(): never {
  throw notSupported("Hearth does not change server properties at run time: set them with flags or hearth.json and restart");
}
