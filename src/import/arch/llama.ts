// LlamaForCausalLM (Llama 2, Llama 3.x) → llama.cpp "llama". Q/K rows are permuted for
// llama.cpp's interleaved RoPE; Llama 3.1+'s rope_scaling "llama3" becomes a rope_freqs tensor.
import { ImportError } from "../errors.ts";
import type { TensorPlan } from "../gguf-writer.ts";
import type { Architecture } from "./index.ts";
import { F32, type HParams, baseMeta, readHParams } from "./common.ts";
import { decoderTensors } from "./decoder.ts";

/** Per-frequency divisors of Llama 3.1's RoPE scaling (Meta's reference `apply_scaling`). */
export function llama3RopeFactors(h: HParams): Float32Array {
  const r = h.ropeScaling!;
  const factor = Number(r.factor ?? 8);
  const low = Number(r.low_freq_factor ?? 1);
  const high = Number(r.high_freq_factor ?? 4);
  const oldCtx = Number(r.original_max_position_embeddings ?? 8192);
  if (!(high > low)) throw new ImportError("config.json: llama3 rope_scaling needs high_freq_factor > low_freq_factor");
  const out = new Float32Array(h.headDim / 2);
  for (let i = 0; i < out.length; i++) {
    const freq = 1 / h.ropeTheta ** ((2 * i) / h.headDim);
    const wavelen = (2 * Math.PI) / freq;
    if (wavelen < oldCtx / high) out[i] = 1;
    else if (wavelen > oldCtx / low) out[i] = factor;
    else {
      const smooth = (oldCtx / wavelen - low) / (high - low);
      out[i] = 1 / ((1 - smooth) / factor + smooth);
    }
  }
  return out;
}

export const llama: Architecture = {
  hfClasses: ["LlamaForCausalLM"],
  ggufArch: "llama",
  convert(cfg, table) {
    const h = readHParams(cfg, { eps: 1e-5 });
    const meta = baseMeta("llama", h);
    meta.set("llama.vocab_size", { type: "u32", value: h.vocab });
    const tensors: TensorPlan[] = decoderTensors(h, table, {
      norms: { "input_layernorm.weight": "attn_norm.weight", "post_attention_layernorm.weight": "ffn_norm.weight" },
      permuteQK: true,
    });
    if ((h.ropeScaling?.rope_type ?? h.ropeScaling?.type) === "llama3") {
      const f = llama3RopeFactors(h);
      tensors.push({ name: "rope_freqs.weight", shape: [f.length], type: F32, data: () => [f] });
    }
    return { meta, tensors, hparams: h };
  },
};
