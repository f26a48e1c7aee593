// hearth_grammar.h — llama.cpp's grammar sampler behind calls that never throw (hearth_grammar.cpp).
// Shared by the C shim and the C++ file that implements it.
#pragma once

#include <stdint.h>

#include "llama.h"

#ifdef __cplusplus
extern "C" {
#endif

struct hearth_grammar;

// A grammar sampler for gbnf (start rule "root"). Lazy (lazy != 0): free output until one of the
// trigger words (matched as plain text) or trigger tokens appears. NULL when llama.cpp cannot
// parse the grammar (it logs why).
struct hearth_grammar * hearth_grammar_new(const struct llama_vocab * vocab, const char * gbnf, int32_t lazy,
                                           const char * const * words, int32_t n_words,
                                           const llama_token * tokens, int32_t n_tokens);

void hearth_grammar_free(struct hearth_grammar * g);

// Masks the candidates the grammar does not allow (none while a lazy grammar awaits its trigger).
// Returns 0, or -1 when llama.cpp failed (the grammar is then unusable).
int32_t hearth_grammar_apply(struct hearth_grammar * g, llama_token_data_array * cur);

// Feeds a token to the grammar if it can take it. Returns
//    1: accepted;
//    0: refused, the grammar unchanged (it masks the token, or, for a lazy grammar awaiting its
//       trigger, the token completes a trigger but the text from the trigger on breaks the grammar);
//   -1: llama.cpp failed (the grammar is then unusable).
int32_t hearth_grammar_accept(struct hearth_grammar * g, llama_token token);

#ifdef __cplusplus
}
#endif
