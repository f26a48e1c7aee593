// Qwen2 / Qwen2.5 (q/k/v biases) and Qwen3 (per-head q/k RMSNorm, explicit head_dim). Both use
// NEOX-style RoPE in llama.cpp, which is Hugging Face's layout: no permutation.
import type { Architecture } from "./index.ts";
import { baseMeta, readHParams } from "./common.ts";
import { decoderTensors } from "./decoder.ts";

const norms = { "input_layernorm.weight": "attn_norm.weight", "post_attention_layernorm.weight": "ffn_norm.weight" };

export const qwen2: Architecture = {
  hfClasses: ["Qwen2ForCausalLM"],
  ggufArch: "qwen2",
  convert(cfg, table) {
    const h = readHParams(cfg, { ropeTheta: 1e6 });
    return { meta: baseMeta("qwen2", h), tensors: decoderTensors(h, table, { norms }), hparams: h };
  },
};

export const qwen3: Architecture = {
  hfClasses: ["Qwen3ForCausalLM"],
  ggufArch: "qwen3",
  convert(cfg, table) {
    const h = readHParams(cfg, { ropeTheta: 1e6 });
    return { meta: baseMeta("qwen3", h), tensors: decoderTensors(h, table, { norms, qkNorm: true }), hparams: h };
  },
};
