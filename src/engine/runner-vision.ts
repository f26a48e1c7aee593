// A runner's vision side: the projector loaded beside its model (when the supervisor paired one),
// and the encoder counters reported to the supervisor whenever they change.
import type { LlamaModel } from "../llama/index.ts";
import { Projector } from "../llama/mtmd.ts";
import { findProjector } from "../models/projector-pairing.ts";
import type { FromRunner, RunnerConfig } from "./runner-protocol.ts";
import { Vision } from "./vision.ts";

/**
 * The model's Vision: the projector named (--mmproj, hearth.json `mmproj`), else one paired by its
 * metadata from beside the model (projector-pairing.ts), else null. Throws when a projector named
 * does not load; one found by pairing that does not load is left out with a warning.
 */
export async function openVision(config: RunnerConfig, model: LlamaModel, warn: (message: string) => void): Promise<Vision | null> {
  const named = config.mmproj;
  const path = named ?? (await findProjector(config.modelPath));
  if (!path) return null;
  // The encoder runs where the model's layers run: on the CPU when none are offloaded.
  let projector: Projector;
  try {
    projector = Projector.load(path, model, { useGpu: config.gpuLayers !== 0, threads: config.threads });
  } catch (err) {
    if (named) throw err;
    warn(`${(err as Error).message}; the model is served without image input`);
    return null;
  }
  if (!projector.vision) {
    projector.dispose();
    if (named) throw new Error(`${path} is a projector without vision input (audio only): Hearth takes images`);
    return null;
  }
  return new Vision(projector, model.vocab);
}

/** Sends the counters when they changed since the last report. */
export function visionReporter(vision: Vision, send: (message: FromRunner) => void): () => void {
  let last = "";
  return () => {
    const { encodes, cacheHits } = vision.counters;
    const now = `${encodes}/${cacheHits}`;
    if (now === last) return;
    last = now;
    send({ type: "vision", encodes, cacheHits });
  };
}
