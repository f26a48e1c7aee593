// KV cache data types (-ctk / -ctv) and flash attention (-fa), as llama-server names them.
//
// The names are ggml's type names; the ids are ggml_type values from ggml.h at the pinned commit
// (they travel to the shim as plain integers). The list is llama-server's (common/arg.cpp
// kv_cache_types): other types have no KV cache kernels.
// No FFI here: the options table and the config schema import the names.

export const KV_CACHE_TYPES = ["f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1"] as const;
export type KvCacheType = (typeof KV_CACHE_TYPES)[number];

const GGML_TYPE_ID: Record<KvCacheType, number> = { f32: 0, f16: 1, q4_0: 2, q4_1: 3, q5_0: 6, q5_1: 7, q8_0: 8, iq4_nl: 20, bf16: 30 };

export const FLASH_ATTN_MODES = ["on", "off", "auto"] as const;
export type FlashAttnMode = (typeof FLASH_ATTN_MODES)[number];

/** llama_flash_attn_type: -1 auto, 0 disabled, 1 enabled. */
export const flashAttnValue = (mode: FlashAttnMode): number => (mode === "auto" ? -1 : mode === "on" ? 1 : 0);

export const ggmlTypeId = (type: KvCacheType): number => GGML_TYPE_ID[type];

export const isQuantized = (type: KvCacheType): boolean => !["f32", "f16", "bf16"].includes(type);

export interface KvCacheSettings {
  typeK: KvCacheType;
  typeV: KvCacheType;
  flashAttn: FlashAttnMode;
}

/**
 * Why llama.cpp would refuse these settings whatever the model, or null. llama.cpp only logs its
 * reason and returns no context; this names the flags. (With -fa auto it turns flash attention on
 * by itself for a quantized V cache; a head size that is not a multiple of a quantized type's
 * block it reports in its log, which LlamaContext puts in its error.)
 */
export function kvCacheProblem(s: KvCacheSettings): string | null {
  if (isQuantized(s.typeV) && s.flashAttn === "off") {
    return `--cache-type-v ${s.typeV} needs flash attention: a quantized V cache works only with --flash-attn on or auto`;
  }
  return null;
}
