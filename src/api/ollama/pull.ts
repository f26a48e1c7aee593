// POST /api/pull onto `hearth pull` (src/models/pull.ts): `hf.co/OWNER/REPO:QUANT` (or
// `huggingface.co/…`, `OWNER/REPO/FILE.gguf`, an https URL) is downloaded into $HEARTH_HOME/models,
// resumable and sha256-checked as there, and a vision repository's projector beside it, as
// `hearth pull` brings it (models/projector-pull.ts). Progress is Ollama's NDJSON (`status`,
// `digest`, `total`, `completed`; a layer per file), then `{"status":"success"}`; `stream: false`
// answers once at the end.
// Ollama's own registry names (`llama3.2`) have no Hugging Face file behind them: a clear 400.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pullProjector } from "../../models/projector-pull.ts";
import { pull as download, PullError, resolveQuant, resolveSource } from "../../models/pull.ts";
import { ApiError, badRequest } from "../errors.ts";
import type { GenerationContext } from "../generation.ts";
import type { ModelSource } from "../model-source.ts";
import type { PullBody } from "./schema.ts";
import { ndjsonResponse } from "./stream.ts";

export interface PullSettings {
  /** Where pulled files go ($HEARTH_HOME/models). */
  dir: string;
  hfEndpoint?: string;
  token?: string;
}

/** The name as `hearth pull` takes it, or a 400 saying what Hearth can pull. */
export function pullSource(name: string): string {
  const bare = name.replace(/^(https?:\/\/)?(hf\.co|huggingface\.co)\//, "");
  if (/^https?:\/\//.test(bare)) return bare;
  // OWNER/REPO:QUANT, OWNER/REPO/FILE.gguf[@rev]; Ollama's default tag means "pick for me", which Hugging Face cannot.
  if (/^[^/\s]+\/[^/\s:]+:[A-Za-z0-9_]+$/.test(bare) && !bare.endsWith(":latest")) return bare;
  if (/^[^/\s]+\/[^/\s]+\/.+\.gguf(@[\w.-]+)?$/i.test(bare)) return bare;
  throw badRequest(
    `Hearth pulls GGUF files from Hugging Face: name one as hf.co/OWNER/REPO:QUANT (e.g. hf.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF:Q4_0) or OWNER/REPO/FILE.gguf; '${name}' is not one of those (Ollama's own library is not reachable from Hearth)`,
    { param: "model" },
  );
}

/**
 * Ollama's progress lines for one layer being downloaded: `pulling DIGEST` with `total` and
 * `completed`, one per percent at most (and the last): a progress bar, not a line per chunk.
 * Ollama names a layer by its digest; the file name is what Hearth knows before the download ends.
 */
function layerProgress(fileName: string, progress: (p: object) => void): (done: number, total: number | null) => void {
  let last = -1;
  return (done, total) => {
    const pct = total ? Math.floor((done / total) * 100) : Math.floor(done / 1048576);
    if (pct === last && done !== total) return;
    last = pct;
    progress({ status: `pulling ${fileName}`, digest: fileName, ...(total !== null ? { total } : {}), completed: done });
  };
}

const failure = (err: unknown) => (err instanceof ApiError ? err : badRequest(err instanceof PullError || err instanceof Error ? `pull failed: ${err.message}` : "pull failed", { param: "model", code: "pull_failed" }));

export async function pullModel(body: PullBody, models: ModelSource, ctx: GenerationContext, settings: PullSettings): Promise<object | Response> {
  const name = body.model ?? body.name ?? "";
  const source = pullSource(name);
  const run = async (progress: (p: object) => void) => {
    progress({ status: "pulling manifest" });
    const resolved = await resolveQuant(source, settings.hfEndpoint, settings.token);
    const { fileName } = resolveSource(resolved, settings.hfEndpoint);
    let modelPath = join(settings.dir, fileName);
    let downloaded = false;
    if (!existsSync(modelPath)) {
      modelPath = await download({ source: resolved, dir: settings.dir, token: settings.token, hfEndpoint: settings.hfEndpoint, onProgress: layerProgress(fileName, progress) });
      downloaded = true;
    }
    // A vision repository's projector comes too, as `hearth pull` brings it: a second layer.
    let report: ((done: number, total: number | null) => void) | null = null;
    await pullProjector(source, modelPath, {
      token: settings.token,
      hfEndpoint: settings.hfEndpoint,
      onDownload: name => {
        report = layerProgress(name, progress);
        downloaded = true;
      },
      onProgress: (done, total) => report?.(done, total),
    });
    if (downloaded) progress({ status: "verifying sha256 digest" });
    progress({ status: "writing manifest" });
    await models.list(); // the new file is served from now on
    progress({ status: "success" });
  };
  if (body.stream === false) {
    try {
      await run(() => {});
    } catch (err) {
      throw failure(err);
    }
    return { status: "success" };
  }
  return ndjsonResponse(
    async send => {
      try {
        await run(send);
      } catch (err) {
        throw failure(err);
      }
    },
    ctx,
    () => {},
  );
}
