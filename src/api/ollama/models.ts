// GET /api/tags, POST /api/show, GET /api/ps: the served models in Ollama's shapes, from the GGUF
// headers Hearth already reads (never loading a model to describe it). Digests come from the
// background hasher (src/models/digests.ts) and are absent until known.
import { detectFamily, samplingDefaults } from "../../chat/families.ts";
import { detectReasoningFormat } from "../../chat/reasoning.ts";
import type { FileDigests } from "../../models/digests.ts";
import { metadataStrings, readGgufHeader, type GgufValue } from "../../models/gguf.ts";
import type { ModelListing, ModelSource } from "../model-source.ts";
import { ollamaModelNotFound } from "./errors.ts";
import { hearthName, ollamaName } from "./names.ts";
import type { ShowBody } from "./schema.ts";

/** Parameters as Ollama writes them: "630M", "7.6B", "260K". */
export function parameterSize(n: number | undefined): string {
  if (!n) return "";
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}B`;
  if (n >= 1e6) return `${Math.round(n / 1e6)}M`;
  if (n >= 1e3) return `${Math.round(n / 1e3)}K`;
  return String(n);
}

function details(m: ModelListing) {
  const family = m.architecture ?? m.family ?? "";
  return {
    parent_model: "",
    format: "gguf",
    family,
    families: family ? [family] : null,
    parameter_size: parameterSize(m.parameters),
    quantization_level: m.quantization ?? "",
  };
}

/** What every listing entry shares: names, size, digest (when known), modification time and details. */
function entry(m: ModelListing, digests: FileDigests) {
  const digest = m.file ? digests.get(m.file.path, m.sizeBytes, m.file.mtimeMs) : undefined;
  const modified = new Date(m.file?.mtimeMs ?? m.created * 1000).toISOString();
  return { name: ollamaName(m.id), model: ollamaName(m.id), modified_at: modified, size: m.sizeBytes, ...(digest ? { digest } : {}), details: details(m) };
}

export async function tags(models: ModelSource, digests: FileDigests) {
  return { models: (await models.list()).map(m => entry(m, digests)) };
}

/** The far-off time Ollama shows for a model that stays loaded. */
const NEVER = "2318-08-08T00:00:00Z";
const NEVER_MS = Date.parse(NEVER);

export async function ps(models: ModelSource, digests: FileDigests) {
  const loaded = (await models.list()).filter(m => m.state === "loaded");
  return {
    models: loaded.map(m => {
      const devices = m.info?.devices ?? [];
      const layers = devices.reduce((n, d) => n + d.layers, 0);
      const onGpu = devices.filter(d => d.type === "gpu").reduce((n, d) => n + d.layers, 0);
      const expires = models.expiresAt?.(m.id) ?? null;
      const { modified_at: _, ...rest } = entry(m, digests);
      return {
        ...rest,
        // A keep_alive past that time (1e308 seconds: past what a Date holds) keeps it loaded as long.
        expires_at: expires === null || !(expires < NEVER_MS) ? NEVER : new Date(expires).toISOString(),
        size_vram: layers > 0 ? Math.round((m.sizeBytes * onGpu) / layers) : 0,
        context_length: m.info?.nCtx ?? m.contextLength ?? 0,
      };
    }),
  };
}

/** A header value as JSON: big integers as numbers, arrays (vocabularies) left out unless verbose, as Ollama does. */
function infoValue(v: GgufValue, verbose: boolean): unknown {
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "object") return verbose ? `array of ${v.length}` : null;
  return v;
}

/** What the model can do, read from its header: only what it really has. */
export function capabilities(meta: Record<string, string>, info?: ModelListing["info"]): string[] {
  const arch = meta["general.architecture"] ?? "";
  const pooling = Number(meta[`${arch}.pooling_type`] ?? 0);
  if (pooling > 0 || /^(bert|nomic-bert|jina-bert|modern-bert|t5encoder)/.test(arch)) return ["embedding"];
  const template = meta["tokenizer.chat_template"] ?? "";
  const out = ["completion"];
  if (/\btools\b/.test(template)) out.push("tools");
  if (detectReasoningFormat(template)) out.push("thinking");
  // A projector is paired with the model when it loads: known from then on.
  if (info?.vision) out.push("vision");
  // FIM tokens: named in the header, or (llama.cpp also finds them by their text) reported by the loaded model.
  const fim = info?.fim;
  const fimLoaded = fim && fim.pre !== null && fim.suf !== null && fim.mid !== null;
  if (fimLoaded || (meta["tokenizer.ggml.fim_pre_token_id"] !== undefined && meta["tokenizer.ggml.fim_suf_token_id"] !== undefined)) out.push("insert");
  return out;
}

/** Ollama's `parameters` text: one `name value` a line, the defaults this model samples with. */
function parameters(meta: Record<string, string>, family: ReturnType<typeof detectFamily>): string {
  const s = samplingDefaults(meta, family);
  return [`temperature ${s.temperature}`, `top_k ${s.topK}`, `top_p ${s.topP}`, `min_p ${s.minP}`].join("\n");
}

export async function show(body: ShowBody, models: ModelSource, digests: FileDigests) {
  const asked = body.model ?? body.name ?? "";
  const name = hearthName(asked);
  const listed = await models.list();
  // Names resolve as in any request (aliases, patterns); acquire is not called, so nothing loads.
  const found = listed.find(m => m.id === name) ?? listed.find(m => m.aliases?.includes(name ?? ""));
  if (!found) throw ollamaModelNotFound(asked);
  const header = found.file ? await readGgufHeader(found.file.path) : null;
  const meta = header ? metadataStrings(header) : {};
  const modelInfo: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(header?.metadata ?? {})) {
    if (k === "tokenizer.chat_template") continue;
    modelInfo[k] = infoValue(v, body.verbose === true);
  }
  if (found.parameters) modelInfo["general.parameter_count"] = found.parameters;
  const family = detectFamily(meta, undefined, found.file?.path ?? "");
  const { name: _, model: __, ...rest } = entry(found, digests);
  return {
    license: meta["general.license"] ?? "",
    modelfile: `# Served by Hearth from ${found.file?.path ?? found.id}\nFROM ${found.file?.path ?? found.id}\n`,
    parameters: parameters(meta, family),
    template: meta["tokenizer.chat_template"] ?? "",
    ...rest,
    model_info: modelInfo,
    capabilities: capabilities(meta, found.info),
  };
}
