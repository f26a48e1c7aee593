// hearth_grammar.h — GBNF-constrained sampling whose work is bounded, behind calls that never throw
// (hearth_grammar.cpp).
// Shared by the C shim and the C++ file that implements it.
#pragma once

#include <stdint.h>

#include "llama.h"

#ifdef __cplusplus
extern "C" {
#endif

struct hearth_grammar;

// Bounds on a grammar's work (hearth_grammar.cpp): past either, the grammar is "too ambiguous" and
// refuses every later call. At most HEARTH_GRAMMAR_MAX_STACKS parse stacks at once (after a step,
// or held while one stack expands), and in one call at most HEARTH_GRAMMAR_MAX_SWEEPS steps per
// token of the vocabulary (of at least HEARTH_GRAMMAR_MIN_SWEEP tokens): a step is about the cost
// of testing one candidate against one stack, so this is the work of that many passes over the
// vocabulary (0.1-0.4 s on Qwen2's 151,936 tokens). Measured on Qwen2's vocabulary along random
// outputs: the 29 JSON schemas of test/fixtures/json-schemas.ts need at most 11 stacks and 7
// passes; tool-call grammars for 128 tools 384 stacks and 8 passes; an object holding an enum of
// 600 strings 601 stacks and 36 passes.
#define HEARTH_GRAMMAR_MAX_STACKS 4096
#define HEARTH_GRAMMAR_MAX_SWEEPS 256
#define HEARTH_GRAMMAR_MIN_SWEEP  32768

// Codes: every call below answers one of these instead of its result once the grammar failed.
#define HEARTH_GRAMMAR_BROKEN          (-1)   // out of memory, or an inconsistency: unusable
#define HEARTH_GRAMMAR_TOO_MANY_STACKS (-2)   // more than HEARTH_GRAMMAR_MAX_STACKS parse stacks
#define HEARTH_GRAMMAR_TOO_MANY_STEPS  (-3)   // more steps in one call than the bound above
#define HEARTH_GRAMMAR_INVALID         (-4)   // (hearth_grammar_new only) llama.cpp's parser refuses it

// A grammar for gbnf (start rule "root"). Lazy (lazy != 0): free output until one of the trigger
// words (matched as plain text) or trigger tokens appears. NULL when it cannot be used; *status
// (when not NULL) says why: 0, HEARTH_GRAMMAR_INVALID (llama.cpp's parser logs why), a bound passed
// by the first stacks, or HEARTH_GRAMMAR_BROKEN.
struct hearth_grammar * hearth_grammar_new(const struct llama_vocab * vocab, const char * gbnf, int32_t lazy,
                                           const char * const * words, int32_t n_words,
                                           const llama_token * tokens, int32_t n_tokens, int32_t * status);

void hearth_grammar_free(struct hearth_grammar * g);

// Masks the whole vocabulary once from the grammar's start (a lazy grammar as if triggered) and
// throws the mask away: whether the first token could pass a bound. Returns 0 or a code.
int32_t hearth_grammar_probe(struct hearth_grammar * g);

// Masks the candidates the grammar does not allow (none while a lazy grammar awaits its trigger).
// Returns 0 or a code.
int32_t hearth_grammar_apply(struct hearth_grammar * g, llama_token_data_array * cur);

// Feeds a token to the grammar if it can take it. Returns
//    1: accepted;
//    0: refused, the grammar unchanged (it masks the token, or, for a lazy grammar awaiting its
//       trigger, the token completes a trigger but the text from the trigger on breaks the grammar);
//   or a code.
int32_t hearth_grammar_accept(struct hearth_grammar * g, llama_token token);

// HEARTH_GRAMMAR_MAX_STACKS and HEARTH_GRAMMAR_MAX_SWEEPS, for messages.
int32_t hearth_grammar_max_stacks(void);
int32_t hearth_grammar_max_sweeps(void);

#ifdef __cplusplus
}
#endif
