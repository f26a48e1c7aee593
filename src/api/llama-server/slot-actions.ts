// POST /slots/{id}?action=save|restore|erase: llama-server's manual slot files, with
// --slot-save-path. save writes the slot's sequence to FILENAME in that folder, restore loads one
// back into a slot (its next prompt then starts from it), erase empties the slot. The engine does
// the work in the runner (engine/slot-files.ts: llama.cpp's file layout with llama-server's
// packed tokens, so files move between the two servers). `model` (query or body) picks the model
// when several are served. Answers in llama-server's shapes; its error envelope comes from app.ts.
import { Type as t } from "@sinclair/typebox";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { EngineError } from "../../engine/types.ts";
import { ApiError, badRequest } from "../errors.ts";
import type { ModelSource } from "../model-source.ts";
import { notSupported } from "./errors.ts";
import { slotCount } from "./slots.ts";

export const slotActionBody = t.Optional(
  t.Object({ filename: t.Optional(t.String({ maxLength: 1024 })), model: t.Optional(t.String({ maxLength: 512 })) }),
);

/**
 * A bare file name, as llama-server's fs_validate_filename accepts: no folders, nothing that walks
 * out of --slot-save-path, no control characters, not "." or "..", at most 255 bytes.
 */
export function validFilename(name: string): boolean {
  if (name.length === 0 || Buffer.byteLength(name) > 255) return false;
  if (name === "." || name === ".." || name.startsWith(" ") || name.endsWith(" ") || name.endsWith(".")) return false;
  // eslint-disable-next-line no-control-regex
  return !/[\u0000-\u001f\u007f/\\:*?"<>|]/.test(name);
}

export async function slotAction(
  models: ModelSource,
  slotSavePath: string | null,
  idText: string,
  query: { action?: string; model?: string },
  body: { filename?: string; model?: string } | null | undefined,
) {
  if (!slotSavePath) throw notSupported("This server does not support slots action. Start it with `--slot-save-path`");
  const id = /^\d+$/.test(idText) ? Number(idText) : NaN;
  if (!Number.isSafeInteger(id)) throw badRequest("Invalid slot ID");
  const action = query.action;
  if (action !== "save" && action !== "restore" && action !== "erase") throw badRequest("Invalid action");
  const filename = body?.filename;
  if (action !== "erase" && (typeof filename !== "string" || !validFilename(filename))) throw badRequest("Invalid filename", { param: "filename" });
  const model = await models.acquire(query.model ?? body?.model);
  if (id >= slotCount(models, model)) throw badRequest("Invalid slot ID");
  if (!model.engine.slotAction) throw notSupported("this model has no slots to save");
  try {
    if (action === "erase") {
      const r = await model.engine.slotAction({ action, slot: id });
      return { id_slot: id, n_erased: r.nTokens };
    }
    // The folder is made on first use, as llama-server makes it at start.
    if (action === "save") mkdirSync(slotSavePath, { recursive: true });
    const r = await model.engine.slotAction({ action, slot: id, path: join(slotSavePath, filename!) });
    return action === "save"
      ? { id_slot: id, filename, n_saved: r.nTokens, n_written: r.nBytes, timings: { save_ms: r.ms } }
      : { id_slot: id, filename, n_restored: r.nTokens, n_read: r.nBytes, timings: { restore_ms: r.ms } };
  } catch (err) {
    // The runner's refusals (a busy slot, a file it cannot read) are the request's fault, as in llama-server.
    if (err instanceof EngineError && err.code === "invalid_request") throw new ApiError(400, err.message);
    throw err;
  }
}
