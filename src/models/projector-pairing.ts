// Which vision projector goes with a model when none is named (--mmproj, hearth.json `mmproj`):
// an mmproj*.gguf in the model's folder whose own metadata says it projects into this model's
// embedding width (clip.vision.projection_dim = <arch>.embedding_length), preferring one whose
// name shares the model's name. Header reads only; the runner loads the one chosen.
import { readdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { isProjectorName } from "./discover.ts";
import { readGgufHeader } from "./gguf.ts";

/** Metadata of a GGUF as a flat record (header only). */
async function metadata(path: string): Promise<Record<string, unknown> | null> {
  try {
    return (await readGgufHeader(path)).metadata as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** The projector paired with the model at `modelPath`, or null. */
export async function findProjector(modelPath: string): Promise<string | null> {
  const dir = dirname(modelPath);
  let names: string[];
  try {
    names = readdirSync(dir).filter(isProjectorName).sort();
  } catch {
    return null;
  }
  if (names.length === 0) return null;
  const model = await metadata(modelPath);
  const arch = model?.["general.architecture"];
  const width = typeof arch === "string" ? Number(model?.[`${arch}.embedding_length`]) : NaN;
  if (!Number.isFinite(width)) return null;
  const matching: string[] = [];
  for (const name of names) {
    const meta = await metadata(join(dir, name));
    if (meta?.["general.architecture"] === "clip" && meta["clip.has_vision_encoder"] !== false && Number(meta["clip.vision.projection_dim"]) === width) {
      matching.push(name);
    }
  }
  const stem = basename(modelPath).replace(/\.gguf$/i, "").toLowerCase();
  const prefix = stem.split(/[-_.]/)[0] ?? stem;
  const best = matching.find(n => n.toLowerCase().includes(stem)) ?? matching.find(n => n.toLowerCase().includes(prefix)) ?? matching[0];
  return best ? join(dir, best) : null;
}
