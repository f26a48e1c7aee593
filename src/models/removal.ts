// Which model files a client may delete (Ollama's DELETE /api/delete): only those Hearth put
// there itself — pulled or imported into $HEARTH_HOME/models. A file given with --model or found
// in ./models or another --models-dir is the user's own, and stays.
import { realpathSync } from "node:fs";
import { relative, isAbsolute, join } from "node:path";

/** Why a file may not be deleted, or null when it may (it lies under `home`/models, links resolved). */
export function deletionRefusal(path: string, home: string): string | null {
  let real: string;
  let root: string;
  try {
    real = realpathSync(path);
    root = realpathSync(join(home, "models"));
  } catch {
    return `${path} is not under Hearth's own models folder`;
  }
  const rel = relative(root, real);
  if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) {
    return `Hearth deletes only models it pulled or imported into ${join(home, "models")}; ${path} is not one (remove the file yourself)`;
  }
  return null;
}

export class DeletionRefused extends Error {
  override name = "DeletionRefused";
}

const SPLIT = /-(\d{5})-of-(\d{5})\.gguf$/i;

/** The files of one model: the file itself, or every part of a split GGUF. */
export function modelFiles(path: string): string[] {
  const m = SPLIT.exec(path);
  if (!m) return [path];
  const count = Number(m[2]);
  return Array.from({ length: count }, (_, i) => path.replace(SPLIT, `-${String(i + 1).padStart(5, "0")}-of-${m[2]}.gguf`));
}
