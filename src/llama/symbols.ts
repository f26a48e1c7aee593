// Typed symbol tables for bun:ffi. Every function here takes and returns scalars or pointers;
// anything llama.h passes by value goes through the shim (lib/shim/hearth_shim.c).
import type { FFIFunction } from "bun:ffi";

export const llamaSymbols = {
  llama_backend_init: { args: [], returns: "void" },
  llama_backend_free: { args: [], returns: "void" },
  llama_print_system_info: { args: [], returns: "cstring" },
  llama_supports_gpu_offload: { args: [], returns: "bool" },
  llama_supports_rpc: { args: [], returns: "bool" },
  llama_max_parallel_sequences: { args: [], returns: "u64" },

  // model
  llama_model_free: { args: ["ptr"], returns: "void" },
  llama_model_get_vocab: { args: ["ptr"], returns: "ptr" },
  llama_model_n_ctx_train: { args: ["ptr"], returns: "i32" },
  llama_model_n_embd: { args: ["ptr"], returns: "i32" },
  llama_model_n_layer: { args: ["ptr"], returns: "i32" },
  llama_model_n_params: { args: ["ptr"], returns: "u64" },
  llama_model_size: { args: ["ptr"], returns: "u64" },
  llama_model_has_encoder: { args: ["ptr"], returns: "bool" },
  llama_model_is_recurrent: { args: ["ptr"], returns: "bool" },
  llama_model_chat_template: { args: ["ptr", "ptr"], returns: "cstring" },
  llama_model_desc: { args: ["ptr", "ptr", "u64"], returns: "i32" },
  llama_model_meta_count: { args: ["ptr"], returns: "i32" },
  llama_model_meta_key_by_index: { args: ["ptr", "i32", "ptr", "u64"], returns: "i32" },
  llama_model_meta_val_str_by_index: { args: ["ptr", "i32", "ptr", "u64"], returns: "i32" },
  llama_model_meta_val_str: { args: ["ptr", "ptr", "ptr", "u64"], returns: "i32" },

  // vocab
  llama_vocab_n_tokens: { args: ["ptr"], returns: "i32" },
  llama_vocab_type: { args: ["ptr"], returns: "i32" },
  llama_vocab_bos: { args: ["ptr"], returns: "i32" },
  llama_vocab_eos: { args: ["ptr"], returns: "i32" },
  llama_vocab_eot: { args: ["ptr"], returns: "i32" },
  llama_vocab_is_eog: { args: ["ptr", "i32"], returns: "bool" },
  llama_vocab_is_control: { args: ["ptr", "i32"], returns: "bool" },
  llama_vocab_get_add_bos: { args: ["ptr"], returns: "bool" },
  llama_vocab_get_text: { args: ["ptr", "i32"], returns: "cstring" },
  llama_vocab_get_attr: { args: ["ptr", "i32"], returns: "i32" },
  llama_tokenize: { args: ["ptr", "ptr", "i32", "ptr", "i32", "bool", "bool"], returns: "i32" },
  llama_token_to_piece: { args: ["ptr", "i32", "ptr", "i32", "i32", "bool"], returns: "i32" },
  llama_detokenize: { args: ["ptr", "ptr", "i32", "ptr", "i32", "bool", "bool"], returns: "i32" },
  llama_chat_apply_template: { args: ["ptr", "ptr", "u64", "bool", "ptr", "i32"], returns: "i32" },

  // context
  llama_free: { args: ["ptr"], returns: "void" },
  llama_n_ctx: { args: ["ptr"], returns: "u32" },
  llama_n_batch: { args: ["ptr"], returns: "u32" },
  llama_n_seq_max: { args: ["ptr"], returns: "u32" },
  llama_get_logits_ith: { args: ["ptr", "i32"], returns: "ptr" },
  llama_get_embeddings_seq: { args: ["ptr", "i32"], returns: "ptr" },
  llama_get_memory: { args: ["ptr"], returns: "ptr" },
  llama_memory_clear: { args: ["ptr", "bool"], returns: "void" },
  llama_memory_seq_rm: { args: ["ptr", "i32", "i32", "i32"], returns: "bool" },
  llama_memory_seq_cp: { args: ["ptr", "i32", "i32", "i32", "i32"], returns: "void" },
  llama_memory_seq_keep: { args: ["ptr", "i32"], returns: "void" },
  llama_memory_seq_pos_max: { args: ["ptr", "i32"], returns: "i32" },
  llama_memory_seq_pos_min: { args: ["ptr", "i32"], returns: "i32" },
  llama_state_seq_get_size: { args: ["ptr", "i32"], returns: "u64" },
  llama_state_seq_get_data: { args: ["ptr", "ptr", "u64", "i32"], returns: "u64" },
  llama_state_seq_set_data: { args: ["ptr", "ptr", "u64", "i32"], returns: "u64" },

  // samplers
  llama_sampler_chain_add: { args: ["ptr", "ptr"], returns: "void" },
  llama_sampler_init_greedy: { args: [], returns: "ptr" },
  llama_sampler_init_dist: { args: ["u32"], returns: "ptr" },
  llama_sampler_init_top_k: { args: ["i32"], returns: "ptr" },
  llama_sampler_init_top_p: { args: ["f32", "u64"], returns: "ptr" },
  llama_sampler_init_min_p: { args: ["f32", "u64"], returns: "ptr" },
  llama_sampler_init_temp: { args: ["f32"], returns: "ptr" },
  llama_sampler_init_penalties: { args: ["i32", "i32", "f32", "f32", "f32"], returns: "ptr" },
  llama_sampler_init_logit_bias: { args: ["i32", "i32", "ptr"], returns: "ptr" },
  llama_sampler_init_grammar: { args: ["ptr", "ptr", "ptr"], returns: "ptr" },
  llama_sampler_sample: { args: ["ptr", "ptr", "i32"], returns: "i32" },
  llama_sampler_accept: { args: ["ptr", "i32"], returns: "void" },
  llama_sampler_reset: { args: ["ptr"], returns: "void" },
  llama_sampler_free: { args: ["ptr"], returns: "void" },
} as const satisfies Record<string, FFIFunction>;

export const shimSymbols = {
  hearth_log_init: { args: ["i32"], returns: "void" },
  hearth_log_drain: { args: ["ptr", "i32"], returns: "i32" },
  hearth_model_load: { args: ["ptr", "i32", "i32", "i32", "i32"], returns: "ptr" },
  hearth_context_new: {
    args: ["ptr", "u32", "u32", "u32", "u32", "i32", "i32", "i32", "i32", "i32", "ptr"],
    returns: "ptr",
  },
  hearth_batch_new: { args: ["i32"], returns: "ptr" },
  hearth_batch_free: { args: ["ptr"], returns: "void" },
  hearth_decode: { args: ["ptr", "ptr", "ptr", "ptr", "ptr", "ptr", "i32"], returns: "i32" },
  hearth_sampler_chain_new: { args: [], returns: "ptr" },
  hearth_layout: { args: ["ptr"], returns: "i32" },
} as const satisfies Record<string, FFIFunction>;
