// `hearth pull OWNER/REPO:QUANT` of a vision model brings the repository's projector too
// (mmproj*.gguf), saved beside the model under a name that starts with the model's, so two models'
// projectors never overwrite each other and pairing (projector-pairing.ts) prefers it.
import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { isProjectorName } from "./discover.ts";
import { pull, QUANT_SOURCE, repoGgufFiles, type PullOptions } from "./pull.ts";

/**
 * The repository's projector for an OWNER/REPO:QUANT source, as OWNER/REPO/FILE.gguf, or null (no
 * projector, or another kind of source). Among several: the one with the quantization in its name,
 * else f16 (llama.cpp's usual), else the first.
 */
export async function projectorSource(source: string, hfEndpoint?: string, token?: string): Promise<string | null> {
  const m = QUANT_SOURCE.exec(source);
  if (!m) return null;
  const [, repo, quant] = m;
  const projectors = (await repoGgufFiles(repo!, hfEndpoint, token)).filter(f => isProjectorName(basename(f))).sort();
  // A whole name part (f16 is not bf16's tail).
  const has = (s: string) => projectors.find(f => basename(f).toLowerCase().replace(/\.gguf$/, "").split(/[-_.]/).includes(s.toLowerCase()));
  const pick = has(quant!) ?? has("f16") ?? projectors[0];
  return pick ? `${repo}/${pick}` : null;
}

/** The name a projector is saved under beside `modelPath`. */
export function projectorFileName(modelPath: string, projectorFile: string): string {
  const stem = basename(modelPath).replace(/\.gguf$/i, "");
  const name = basename(projectorFile);
  return name.toLowerCase().startsWith(stem.toLowerCase()) ? name : `${stem}-${name}`;
}

/**
 * Pulls the projector of `source` (if it has one) beside the model at `modelPath`; returns its path
 * or null. `onDownload` hears the file's name when a download begins (not when it is there already).
 */
export async function pullProjector(
  source: string,
  modelPath: string,
  options: Omit<PullOptions, "source" | "dir" | "fileName" | "sha256"> & { onDownload?: (fileName: string) => void },
): Promise<string | null> {
  const { onDownload, ...pullOptions } = options;
  const projector = await projectorSource(source, options.hfEndpoint, options.token);
  if (!projector) return null;
  const fileName = projectorFileName(modelPath, projector);
  const dest = join(dirname(modelPath), fileName);
  if (existsSync(dest)) return dest;
  onDownload?.(fileName);
  return pull({ ...pullOptions, source: projector, dir: dirname(modelPath), fileName });
}
