// GET /slots: llama-server's per-slot state. Hearth's slots are the runner's parallel sequences;
// the HTTP side knows how many there are and how many are busy (the runner reports it each step),
// not which request holds which, so a slot reads as busy by its position. Prompt-cache actions on
// one slot (POST /slots/{id}?action=…) live in their own module and use `slotCount` below.
import type { AcquiredModel, ModelSource } from "../model-source.ts";
import { ApiError } from "../errors.ts";

/** The loaded model's slots: how many, how many busy, and the context one request may use. */
export interface SlotState {
  total: number;
  busy: number;
  nCtx: number;
}

export function slotState(models: ModelSource, model: AcquiredModel): SlotState {
  const h = models.health().models.find(m => m.id === model.id);
  return { total: h?.slotsTotal ?? 0, busy: h?.slotsBusy ?? 0, nCtx: model.info.nCtx };
}

/** 400 unless `id` names one of the model's slots (for per-slot actions). */
export function slotCount(models: ModelSource, model: AcquiredModel): number {
  return slotState(models, model).total;
}

/** GET /slots[?model=…][&fail_on_no_slot=1]: one object per slot, without its sampling params (as llama-server). */
export async function slots(models: ModelSource, query: Record<string, string | undefined>) {
  const model = await models.acquire(query.model);
  const state = slotState(models, model);
  if (isTrue(query.fail_on_no_slot) && state.total > 0 && state.busy >= state.total) {
    throw new ApiError(503, "no slot available", { code: "no_slot_available", headers: { "retry-after": "1" } });
  }
  return Array.from({ length: state.total }, (_, id) => ({
    id,
    id_task: -1,
    n_ctx: state.nCtx,
    speculative: false,
    is_processing: id < state.busy,
  }));
}

const isTrue = (v: string | undefined) => v !== undefined && v !== "0" && v !== "false";
