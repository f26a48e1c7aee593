// hearth.json (or --config FILE): aliases and per-model settings, validated at start-up.
// Precedence: request field > per-model config > CLI flag > built-in default.
import { Type as t, type Static, type TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { existsSync, readFileSync } from "node:fs";
import { LOAD_MODES } from "../engine/load-mode.ts";
import { FLASH_ATTN_MODES, KV_CACHE_TYPES } from "../llama/kv-cache-types.ts";
import type { ServeConfigKey } from "../options/serve.ts";

const sampling = t.Object(
  {
    temperature: t.Optional(t.Number({ minimum: 0, maximum: 2 })),
    top_p: t.Optional(t.Number({ minimum: 0, maximum: 1 })),
    top_k: t.Optional(t.Integer({ minimum: 0 })),
    min_p: t.Optional(t.Number({ minimum: 0, maximum: 1 })),
  },
  { additionalProperties: false },
);

/** A model's own value of a `hearth serve` flag: one key per flag whose table entry names one (src/options/serve.ts). */
const flagKeys = {
  ctx_size: t.Optional(t.Integer({ minimum: 16 })),
  parallel: t.Optional(t.Integer({ minimum: 1, maximum: 256 })),
  gpu_layers: t.Optional(t.Integer({ minimum: -1 })),
  load_mode: t.Optional(t.Union(LOAD_MODES.map(mode => t.Literal(mode)))),
  cache_type_k: t.Optional(t.Union(KV_CACHE_TYPES.map(type => t.Literal(type)))),
  cache_type_v: t.Optional(t.Union(KV_CACHE_TYPES.map(type => t.Literal(type)))),
  flash_attn: t.Optional(t.Union(FLASH_ATTN_MODES.map(mode => t.Literal(mode)))),
  chat_template: t.Optional(t.String({ minLength: 1 })),
  // The vision projector (mmproj GGUF) paired with the model.
  mmproj: t.Optional(t.String({ minLength: 1 })),
  // -1: no limit, as the flag's.
  max_tokens: t.Optional(t.Union([t.Literal(-1), t.Integer({ minimum: 1 })])),
  // Thinking budget of a request that sets none; -1: no limit, 0: no thinking.
  reasoning_budget: t.Optional(t.Integer({ minimum: -1 })),
  // RPC workers (ggml-rpc-server) that take this model's layers, and the devices' weights.
  rpc: t.Optional(t.Array(t.String({ pattern: "^[^:,\\s]+:[0-9]{1,5}$" }), { minItems: 1, maxItems: 16 })),
  tensor_split: t.Optional(t.Array(t.Number({ minimum: 0 }), { minItems: 1, maxItems: 16 })),
} satisfies Record<ServeConfigKey, TSchema>;

const modelSettings = t.Object({ ...flagKeys, sampling: t.Optional(sampling) }, { additionalProperties: false });

export const configSchema = t.Object(
  {
    // NAME or PATTERN (`*` matches any text: "claude-*") → a model id (src/models/model-names.ts).
    aliases: t.Optional(t.Record(t.String({ minLength: 1 }), t.String({ minLength: 1, pattern: "^[^*]+$" }))),
    models: t.Optional(t.Record(t.String({ minLength: 1 }), modelSettings)),
  },
  { additionalProperties: false },
);

export type HearthConfig = Static<typeof configSchema>;
export type ModelSettings = Static<typeof modelSettings>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Reads and validates a config file; errors name the file and the bad key. */
export function loadConfig(path: string): HearthConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new ConfigError(`${path}: ${existsSync(path) ? `not valid JSON (${(err as Error).message})` : "no such file"}`);
  }
  const first = Value.Errors(configSchema, raw).First();
  if (first) {
    const key = first.path.split("/").filter(Boolean).join(".") || "(top level)";
    const unknown = first.message.startsWith("Unexpected property") ? "unknown key" : first.message;
    throw new ConfigError(`${path}: ${key}: ${unknown}`);
  }
  return raw as HearthConfig;
}
