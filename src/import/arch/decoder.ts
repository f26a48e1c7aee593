// The tensor layout shared by the supported decoder-only families (model.embed_tokens,
// model.layers.N.{self_attn,mlp,…}, model.norm, lm_head), mapped to llama.cpp's names. Each family
// says which norms it has and how they are named, and whether weights need a transform.
import { ImportError } from "../errors.ts";
import type { TensorPlan } from "../gguf-writer.ts";
import { type HParams, type TensorTable, addOne, permuteRope } from "./common.ts";

export interface DecoderLayout {
  /** HF layer-norm suffix (after model.layers.N.) → GGUF name (after blk.N.). */
  norms: Record<string, string>;
  /** Q/K rows reordered for llama.cpp's interleaved RoPE (Llama). */
  permuteQK?: boolean;
  /** Gemma stores norm weights as w − 1 (its RMSNorm multiplies by 1 + w). */
  normPlusOne?: boolean;
  /** Per-head RMSNorm on q and k (Qwen3, Gemma 3). */
  qkNorm?: boolean;
  /** mlp.gate_up_proj holds gate and up stacked (GLM-4); llama.cpp reads it as ffn_up. */
  fusedGateUp?: boolean;
}

export function decoderTensors(h: HParams, t: TensorTable, l: DecoderLayout): TensorPlan[] {
  const out: TensorPlan[] = [];
  const norm = l.normPlusOne ? addOne : undefined;
  const q = h.heads * h.headDim;
  const kv = h.kvHeads * h.headDim;
  out.push(t.plan("model.embed_tokens.weight", "token_embd.weight", [h.vocab, h.hidden]));
  for (let i = 0; i < h.layers; i++) {
    const hf = `model.layers.${i}.`;
    const gg = `blk.${i}.`;
    for (const [from, to] of Object.entries(l.norms)) out.push(t.plan(hf + from, gg + to, [h.hidden], norm));
    const pq = l.permuteQK ? permuteRope(h.heads, h.hidden) : undefined;
    const pk = l.permuteQK ? permuteRope(h.kvHeads, h.hidden) : undefined;
    out.push(t.plan(`${hf}self_attn.q_proj.weight`, `${gg}attn_q.weight`, [q, h.hidden], pq));
    out.push(...t.maybe(`${hf}self_attn.q_proj.bias`, `${gg}attn_q.bias`, [q], l.permuteQK ? permuteRope(h.heads, 1) : undefined));
    out.push(t.plan(`${hf}self_attn.k_proj.weight`, `${gg}attn_k.weight`, [kv, h.hidden], pk));
    out.push(...t.maybe(`${hf}self_attn.k_proj.bias`, `${gg}attn_k.bias`, [kv], l.permuteQK ? permuteRope(h.kvHeads, 1) : undefined));
    out.push(t.plan(`${hf}self_attn.v_proj.weight`, `${gg}attn_v.weight`, [kv, h.hidden]));
    out.push(...t.maybe(`${hf}self_attn.v_proj.bias`, `${gg}attn_v.bias`, [kv]));
    out.push(t.plan(`${hf}self_attn.o_proj.weight`, `${gg}attn_output.weight`, [h.hidden, q]));
    if (l.qkNorm) {
      out.push(t.plan(`${hf}self_attn.q_norm.weight`, `${gg}attn_q_norm.weight`, [h.headDim], norm));
      out.push(t.plan(`${hf}self_attn.k_norm.weight`, `${gg}attn_k_norm.weight`, [h.headDim], norm));
    }
    if (l.fusedGateUp) {
      out.push(t.plan(`${hf}mlp.gate_up_proj.weight`, `${gg}ffn_up.weight`, [2 * h.ff, h.hidden]));
    } else {
      out.push(t.plan(`${hf}mlp.gate_proj.weight`, `${gg}ffn_gate.weight`, [h.ff, h.hidden]));
      out.push(t.plan(`${hf}mlp.up_proj.weight`, `${gg}ffn_up.weight`, [h.ff, h.hidden]));
    }
    out.push(t.plan(`${hf}mlp.down_proj.weight`, `${gg}ffn_down.weight`, [h.hidden, h.ff]));
  }
  out.push(t.plan("model.norm.weight", "output_norm.weight", [h.hidden], norm));
  // Tied embeddings: no output tensor, llama.cpp reuses token_embd. Some tied checkpoints still
  // carry a copy of lm_head; it is skipped. Without the config key (its default differs between
  // families), the presence of lm_head decides.
  if (h.tied === true) t.skip("lm_head.weight");
  else if (t.has("lm_head.weight")) out.push(t.plan("lm_head.weight", "output.weight", [h.vocab, h.hidden]));
  else if (h.tied === false) throw new ImportError("config.json says tie_word_embeddings: false, but the checkpoint has no lm_head.weight");
  return out;
}
