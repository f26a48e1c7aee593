// Glm4ForCausalLM (GLM-4-0414) → llama.cpp "glm4": q/k/v biases, a fused gate_up projection,
// norms after attention and after the MLP, and RoPE on part of each head (partial_rotary_factor)
// in interleaved pairs, which is llama.cpp's "normal" RoPE: no permutation.
import type { Architecture } from "./index.ts";
import { baseMeta, readHParams } from "./common.ts";
import { decoderTensors } from "./decoder.ts";

export const glm4: Architecture = {
  hfClasses: ["Glm4ForCausalLM"],
  ggufArch: "glm4",
  convert(cfg, table) {
    const h = readHParams(cfg, { eps: 1e-5 });
    const meta = baseMeta("glm4", h);
    const rope = (cfg.rope_parameters ?? {}) as Record<string, unknown>;
    const partial = Number(cfg.partial_rotary_factor ?? rope.partial_rotary_factor ?? 0.5);
    meta.set("glm4.rope.dimension_count", { type: "u32", value: Math.floor(h.headDim * partial) });
    const tensors = decoderTensors(h, table, {
      norms: {
        "input_layernorm.weight": "attn_norm.weight",
        "post_self_attn_layernorm.weight": "post_attention_norm.weight",
        "post_attention_layernorm.weight": "ffn_norm.weight",
        "post_mlp_layernorm.weight": "post_ffw_norm.weight",
      },
      fusedGateUp: true,
    });
    return { meta, tensors, hparams: h };
  },
};
