// Gemma 2 and Gemma 3 (text). Norm weights get +1 (Gemma's RMSNorm scales by 1 + w, llama.cpp's
// by w); four norms per layer; soft-capping (Gemma 2), sliding-window layers, and Gemma 3's local
// RoPE base. The sqrt(hidden) embedding scale is part of llama.cpp's Gemma graph already.
import { ImportError } from "../errors.ts";
import type { Architecture } from "./index.ts";
import { baseMeta, readHParams, type HfConfig, type HParams } from "./common.ts";
import { decoderTensors } from "./decoder.ts";

const norms = {
  "input_layernorm.weight": "attn_norm.weight",
  "post_attention_layernorm.weight": "post_attention_norm.weight",
  "pre_feedforward_layernorm.weight": "ffn_norm.weight",
  "post_feedforward_layernorm.weight": "post_ffw_norm.weight",
};

/**
 * llama.cpp scales queries by 1/sqrt(head_dim), or by 1/sqrt(hidden/heads) for the 27B models it
 * recognises by layer count (46 for Gemma 2, 62 for Gemma 3); no other query_pre_attn_scalar can
 * be expressed in a GGUF.
 */
function checkQueryScale(cfg: HfConfig, h: HParams, layers27b: number): void {
  const s = cfg.query_pre_attn_scalar;
  if (typeof s !== "number") return;
  const llamaCpp = h.layers === layers27b ? h.hidden / h.heads : h.headDim;
  if (s !== llamaCpp) {
    throw new ImportError(`config.json: query_pre_attn_scalar ${s} differs from the ${llamaCpp} llama.cpp uses for this model size`);
  }
}

/**
 * Every n-th layer attends globally (layer i is global when (i + 1) % n == 0). Newer configs list
 * layer_types instead; a list that is not periodic that way cannot be expressed by one number.
 */
function swaPattern(cfg: HfConfig, layers: number): number | undefined {
  if (typeof cfg.sliding_window_pattern === "number") return cfg.sliding_window_pattern;
  const types = cfg.layer_types;
  if (!Array.isArray(types)) return undefined;
  const first = types.indexOf("full_attention");
  const n = first < 0 ? layers + 1 : first + 1;
  if (types.some((t, i) => (t === "full_attention") !== ((i + 1) % n === 0))) {
    throw new ImportError(`config.json: layer_types ${JSON.stringify(types)} is not a repeating sliding/full pattern`);
  }
  return n;
}

export const gemma2: Architecture = {
  hfClasses: ["Gemma2ForCausalLM"],
  ggufArch: "gemma2",
  convert(cfg, table) {
    const h = readHParams(cfg);
    checkQueryScale(cfg, h, 46);
    const meta = baseMeta("gemma2", h);
    const f32 = (k: string, v: unknown) => typeof v === "number" && meta.set(`gemma2.${k}`, { type: "f32", value: v });
    f32("attn_logit_softcapping", cfg.attn_logit_softcapping);
    f32("final_logit_softcapping", cfg.final_logit_softcapping);
    if (typeof cfg.sliding_window === "number") meta.set("gemma2.attention.sliding_window", { type: "u32", value: cfg.sliding_window });
    return { meta, tensors: decoderTensors(h, table, { norms, normPlusOne: true }), hparams: h };
  },
};

export const gemma3: Architecture = {
  hfClasses: ["Gemma3ForCausalLM"],
  ggufArch: "gemma3",
  convert(cfg, table) {
    const h = readHParams(cfg, { ropeTheta: 1e6 });
    checkQueryScale(cfg, h, 62);
    if (cfg.attn_logit_softcapping != null) throw new ImportError("config.json: Gemma 3 with attn_logit_softcapping is not supported by llama.cpp");
    const meta = baseMeta("gemma3", h);
    if (typeof cfg.final_logit_softcapping === "number") meta.set("gemma3.final_logit_softcapping", { type: "f32", value: cfg.final_logit_softcapping });
    if (typeof cfg.sliding_window === "number" && cfg.sliding_window_pattern !== 1) {
      meta.set("gemma3.attention.sliding_window", { type: "u32", value: cfg.sliding_window });
      meta.set("gemma3.rope.freq_base_swa", { type: "f32", value: Number(cfg.rope_local_base_freq ?? 10000) });
      const pattern = swaPattern(cfg, h.layers);
      if (pattern !== undefined) meta.set("gemma3.attention.sliding_window_pattern", { type: "u32", value: pattern });
    }
    return { meta, tensors: decoderTensors(h, table, { norms, normPlusOne: true, qkNorm: true }), hparams: h };
  },
};
