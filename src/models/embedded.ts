// The default model shipped inside Hearth (models/stories260K.gguf), so a fresh install serves
// something with no download. In a compiled binary the file lives in Bun's virtual file system,
// which llama.cpp cannot open: it is copied once to $HEARTH_HOME/models.
import embeddedModel from "../../models/stories260K.gguf" with { type: "file" };
import { existsSync, mkdirSync, statSync } from "node:fs";
import { basename, join } from "node:path";

export const EMBEDDED_MODEL_NAME = basename(embeddedModel).replace(/-[a-z0-9]+\.gguf$/, ".gguf");

/** A real file path of the embedded default model, extracting it first when needed. */
export async function embeddedModelPath(home: string): Promise<string> {
  if (existsSync(embeddedModel) && !embeddedModel.startsWith("/$bunfs")) return embeddedModel;
  const dir = join(home, "models");
  const target = join(dir, "stories260K.gguf");
  const source = Bun.file(embeddedModel);
  if (!existsSync(target) || statSync(target).size !== source.size) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${target}.${process.pid}.tmp`;
    await Bun.write(tmp, source);
    const { renameSync } = await import("node:fs");
    renameSync(tmp, target);
  }
  return target;
}
