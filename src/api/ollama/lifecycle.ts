// A request's model: acquired (its load timed as load_duration, an unknown name a 404 in Ollama's
// words) and kept as keep_alive asks: negative keeps it loaded, 0 unloads it after this request,
// more is its idle-unload time (src/models/registry.ts keepAlive).
import type { AcquiredModel, ModelSource } from "../model-source.ts";
import { orNotFound } from "./errors.ts";
import { hearthName } from "./names.ts";
import { keepAliveSeconds } from "./options.ts";
import type { RequestClock } from "./timing.ts";

export interface RequestModel {
  model: AcquiredModel;
  /** Runs once the answer is complete: unloads the model for keep_alive 0. */
  after: () => Promise<void>;
  /** keep_alive 0: the model goes when this request ends. */
  unloads: boolean;
}

export async function requestModel(models: ModelSource, name: string | undefined, keepAlive: number | string | null | undefined, clock: RequestClock): Promise<RequestModel> {
  const seconds = keepAliveSeconds(keepAlive); // a bad duration is a 400 before anything loads
  const model = await clock.load(() => orNotFound(name, () => models.acquire(hearthName(name))));
  if (seconds !== undefined && seconds !== 0) await models.keepAlive?.(model.id, seconds);
  const unloads = seconds === 0;
  return { model, unloads, after: async () => (unloads ? models.keepAlive?.(model.id, 0) : undefined) };
}

/** Runs the request's work; when it fails, the keep_alive step still runs (keep_alive 0 unloads a failed request's model too). */
export async function settling<T>(after: () => Promise<void>, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    await after().catch(() => {});
    throw err;
  }
}
