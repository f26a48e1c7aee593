// DELETE /api/delete and POST /api/copy: deleting a model Hearth pulled or imported (nothing
// else: src/models/removal.ts), and naming a model again (an alias, kept in $HEARTH_HOME/aliases.json
// and read at start-up). /api/create and /api/push: what to do instead.
import { addToAliasFile, aliasFilePath } from "../../models/alias-file.ts";
import { DeletionRefused } from "../../models/removal.ts";
import { badRequest } from "../errors.ts";
import type { ModelSource } from "../model-source.ts";
import { notImplemented, ollamaModelNotFound, orNotFound } from "./errors.ts";
import { hearthName } from "./names.ts";
import type { CopyBody, DeleteBody } from "./schema.ts";

export async function deleteModel(body: DeleteBody, models: ModelSource, home: string): Promise<Response> {
  const name = body.model ?? body.name ?? "";
  if (!name) throw badRequest("name the model to delete in `model`", { param: "model" });
  if (!models.remove) throw badRequest("this server cannot delete models");
  try {
    await orNotFound(name, () => models.remove!(hearthName(name)!, home));
  } catch (err) {
    if (err instanceof DeletionRefused) throw badRequest(err.message, { param: "model", code: "not_deletable" });
    throw err;
  }
  return new Response(null, { status: 200 });
}

export async function copyModel(body: CopyBody, models: ModelSource, home: string): Promise<Response> {
  const source = hearthName(body.source)!;
  const destination = hearthName(body.destination)!;
  const found = (await models.list()).find(m => m.id === source || m.aliases?.includes(source));
  if (!found) throw ollamaModelNotFound(body.source);
  if ((await models.list()).some(m => m.id === destination)) throw badRequest(`a model with the id "${destination}" exists: choose another name`, { param: "destination" });
  if (destination.includes("*")) throw badRequest("the destination is a name, not a pattern: it may not contain '*'", { param: "destination" });
  if (!models.addAlias) throw badRequest("this server cannot name models");
  addToAliasFile(aliasFilePath(home), destination, found.id);
  models.addAlias(destination, found.id);
  return new Response(null, { status: 200 });
}

export function create(): never {
  throw notImplemented(
    "Hearth does not build models from a Modelfile: put a GGUF file in $HEARTH_HOME/models (or pass --model PATH), set its template, context and sampling in hearth.json, and name it with /api/copy or --alias",
  );
}

export function push(): never {
  throw notImplemented("Hearth does not push models to a registry: upload the GGUF file to Hugging Face with its own tools (huggingface-cli upload)");
}
