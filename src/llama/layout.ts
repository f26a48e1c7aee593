// Byte layouts of the llama.h structs TypeScript reads or writes directly.
// test/llama/layout.test.ts compares each number with the compiler's (hearth_layout in the shim).
export const layout = {
  "llama_token_data.size": 12,
  "llama_token_data.id": 0,
  "llama_token_data.logit": 4,
  "llama_token_data.p": 8,
  "llama_token_data_array.size": 32,
  "llama_token_data_array.data": 0,
  "llama_token_data_array.size_field": 8,
  "llama_token_data_array.selected": 16,
  "llama_token_data_array.sorted": 24,
  "llama_logit_bias.size": 8,
  "llama_logit_bias.token": 0,
  "llama_logit_bias.bias": 4,
  "llama_chat_message.size": 16,
  "llama_chat_message.role": 0,
  "llama_chat_message.content": 8,
} as const;
