// Typed symbol tables for bun:ffi. Every function here takes and returns scalars or pointers;
// anything llama.h passes by value goes through the shim (lib/shim/hearth_shim.c).
import { FFIType as T } from "bun:ffi";

export const llamaSymbols = {
  llama_backend_init: { args: [], returns: T.void },
  llama_backend_free: { args: [], returns: T.void },
  llama_print_system_info: { args: [], returns: T.cstring },
  llama_supports_gpu_offload: { args: [], returns: T.bool },
  llama_supports_rpc: { args: [], returns: T.bool },
  llama_max_parallel_sequences: { args: [], returns: T.u64 },

  // model
  llama_model_free: { args: [T.ptr], returns: T.void },
  llama_model_get_vocab: { args: [T.ptr], returns: T.ptr },
  llama_model_n_ctx_train: { args: [T.ptr], returns: T.i32 },
  llama_model_n_embd: { args: [T.ptr], returns: T.i32 },
  llama_model_n_layer: { args: [T.ptr], returns: T.i32 },
  llama_model_n_params: { args: [T.ptr], returns: T.u64 },
  llama_model_size: { args: [T.ptr], returns: T.u64 },
  llama_model_has_encoder: { args: [T.ptr], returns: T.bool },
  llama_model_is_recurrent: { args: [T.ptr], returns: T.bool },
  llama_model_chat_template: { args: [T.ptr, T.ptr], returns: T.cstring },
  llama_model_desc: { args: [T.ptr, T.ptr, T.u64], returns: T.i32 },
  llama_model_meta_count: { args: [T.ptr], returns: T.i32 },
  llama_model_meta_key_by_index: { args: [T.ptr, T.i32, T.ptr, T.u64], returns: T.i32 },
  llama_model_meta_val_str_by_index: { args: [T.ptr, T.i32, T.ptr, T.u64], returns: T.i32 },
  llama_model_meta_val_str: { args: [T.ptr, T.ptr, T.ptr, T.u64], returns: T.i32 },

  // vocab
  llama_vocab_n_tokens: { args: [T.ptr], returns: T.i32 },
  llama_vocab_type: { args: [T.ptr], returns: T.i32 },
  llama_vocab_bos: { args: [T.ptr], returns: T.i32 },
  llama_vocab_eos: { args: [T.ptr], returns: T.i32 },
  llama_vocab_eot: { args: [T.ptr], returns: T.i32 },
  llama_vocab_is_eog: { args: [T.ptr, T.i32], returns: T.bool },
  llama_vocab_is_control: { args: [T.ptr, T.i32], returns: T.bool },
  llama_vocab_get_add_bos: { args: [T.ptr], returns: T.bool },
  llama_vocab_get_text: { args: [T.ptr, T.i32], returns: T.cstring },
  llama_vocab_get_attr: { args: [T.ptr, T.i32], returns: T.i32 },
  llama_tokenize: { args: [T.ptr, T.ptr, T.i32, T.ptr, T.i32, T.bool, T.bool], returns: T.i32 },
  llama_token_to_piece: { args: [T.ptr, T.i32, T.ptr, T.i32, T.i32, T.bool], returns: T.i32 },
  llama_detokenize: { args: [T.ptr, T.ptr, T.i32, T.ptr, T.i32, T.bool, T.bool], returns: T.i32 },
  llama_chat_apply_template: { args: [T.ptr, T.ptr, T.u64, T.bool, T.ptr, T.i32], returns: T.i32 },

  // context
  llama_free: { args: [T.ptr], returns: T.void },
  llama_n_ctx: { args: [T.ptr], returns: T.u32 },
  llama_n_batch: { args: [T.ptr], returns: T.u32 },
  llama_n_seq_max: { args: [T.ptr], returns: T.u32 },
  llama_get_logits_ith: { args: [T.ptr, T.i32], returns: T.ptr },
  llama_get_embeddings_seq: { args: [T.ptr, T.i32], returns: T.ptr },
  llama_get_memory: { args: [T.ptr], returns: T.ptr },
  llama_memory_clear: { args: [T.ptr, T.bool], returns: T.void },
  llama_memory_seq_rm: { args: [T.ptr, T.i32, T.i32, T.i32], returns: T.bool },
  llama_memory_seq_cp: { args: [T.ptr, T.i32, T.i32, T.i32, T.i32], returns: T.void },
  llama_memory_seq_keep: { args: [T.ptr, T.i32], returns: T.void },
  llama_memory_seq_pos_max: { args: [T.ptr, T.i32], returns: T.i32 },
  llama_memory_seq_pos_min: { args: [T.ptr, T.i32], returns: T.i32 },
  llama_state_seq_get_size: { args: [T.ptr, T.i32], returns: T.u64 },
  llama_state_seq_get_data: { args: [T.ptr, T.ptr, T.u64, T.i32], returns: T.u64 },
  llama_state_seq_set_data: { args: [T.ptr, T.ptr, T.u64, T.i32], returns: T.u64 },

  // samplers
  llama_sampler_chain_add: { args: [T.ptr, T.ptr], returns: T.void },
  llama_sampler_init_greedy: { args: [], returns: T.ptr },
  llama_sampler_init_dist: { args: [T.u32], returns: T.ptr },
  llama_sampler_init_top_k: { args: [T.i32], returns: T.ptr },
  llama_sampler_init_top_p: { args: [T.f32, T.u64], returns: T.ptr },
  llama_sampler_init_min_p: { args: [T.f32, T.u64], returns: T.ptr },
  llama_sampler_init_temp: { args: [T.f32], returns: T.ptr },
  llama_sampler_init_penalties: { args: [T.i32, T.f32, T.f32, T.f32], returns: T.ptr },
  llama_sampler_init_logit_bias: { args: [T.i32, T.i32, T.ptr], returns: T.ptr },
  llama_sampler_init_grammar: { args: [T.ptr, T.ptr, T.ptr], returns: T.ptr },
  llama_sampler_sample: { args: [T.ptr, T.ptr, T.i32], returns: T.i32 },
  llama_sampler_accept: { args: [T.ptr, T.i32], returns: T.void },
  llama_sampler_reset: { args: [T.ptr], returns: T.void },
  llama_sampler_free: { args: [T.ptr], returns: T.void },
} as const;

export const shimSymbols = {
  hearth_log_init: { args: [T.i32], returns: T.void },
  hearth_log_drain: { args: [T.ptr, T.i32], returns: T.i32 },
  hearth_model_load: { args: [T.ptr, T.i32, T.i32, T.i32, T.i32], returns: T.ptr },
  hearth_context_new: {
    args: [T.ptr, T.u32, T.u32, T.u32, T.u32, T.i32, T.i32, T.i32, T.i32, T.i32, T.ptr],
    returns: T.ptr,
  },
  hearth_batch_new: { args: [T.i32], returns: T.ptr },
  hearth_batch_free: { args: [T.ptr], returns: T.void },
  hearth_decode: { args: [T.ptr, T.ptr, T.ptr, T.ptr, T.ptr, T.ptr, T.i32], returns: T.i32 },
  hearth_sampler_chain_new: { args: [], returns: T.ptr },
  hearth_layout: { args: [T.ptr], returns: T.i32 },
} as const;
