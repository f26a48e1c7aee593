// grammar_port.h — stepping a GBNF grammar: a port of llama.cpp's llama-grammar.cpp (pinned
// commit) whose work is bounded. Internal to the shim: grammar_port.cpp (the port), grammar_mask.cpp
// (the mask of a vocabulary), hearth_grammar.cpp (the C API; it says why all this exists).
// Single-threaded, as the shim is.
#pragma once

#include "hearth_grammar.h"

// Internal llama.cpp headers, found through -I$(LLAMA_SRC)/include: the rule and stack types and
// the parser (llama-grammar.h), the cached token pieces (llama-vocab.h). Including them is safe
// because the llama.cpp commit is pinned and verified (Makefile): a new commit means re-reading
// llama-grammar.cpp against this port.
#include "../src/llama-grammar.h"
#include "../src/llama-vocab.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace hearth_gbnf {

// Thrown when a bound is passed; caught at the C boundary (hearth_grammar.cpp).
struct too_ambiguous {
    int32_t code;  // HEARTH_GRAMMAR_TOO_MANY_STACKS or HEARTH_GRAMMAR_TOO_MANY_STEPS
};

// hearth: the work of one call, in steps of about the same cost (a few nanoseconds): a candidate
// tested against a stack, a stack element copied or compared. A stack popped in advance_stack also
// weighs STEPS_PER_POP, a stack visited while masking STEPS_PER_VISIT (both allocate). Counts, and
// refuses a set of stacks past HEARTH_GRAMMAR_MAX_STACKS.
constexpr uint64_t STEPS_PER_POP   = 8;
constexpr uint64_t STEPS_PER_VISIT = 32;

struct work {
    uint64_t budget;
    uint64_t steps = 0;
    explicit work(uint64_t budget) : budget(budget) {}
    void step(uint64_t n = 1) {
        steps += n;
        if (steps > budget) throw too_ambiguous{ HEARTH_GRAMMAR_TOO_MANY_STEPS };
    }
    static void stacks(size_t n) {
        if (n > (size_t) HEARTH_GRAMMAR_MAX_STACKS) throw too_ambiguous{ HEARTH_GRAMMAR_TOO_MANY_STACKS };
    }
};

// ---- element tests (llama-grammar.cpp) ---------------------------------------------------------

inline bool is_end_of_sequence(const llama_grammar_element * pos) {
    return pos->type == LLAMA_GRETYPE_END || pos->type == LLAMA_GRETYPE_ALT;
}

// hearth: llama.cpp asserts (aborts) where a position is not what it must be; this throws, and the
// grammar is marked unusable instead.
[[noreturn]] void not_a_char_element();   // throws std::logic_error
[[noreturn]] void not_a_token_element();  // throws std::logic_error

inline void expect_char_element(const llama_grammar_element * pos) {
    if (__builtin_expect(pos->type != LLAMA_GRETYPE_CHAR && pos->type != LLAMA_GRETYPE_CHAR_ANY && pos->type != LLAMA_GRETYPE_CHAR_NOT, 0)) {
        not_a_char_element();
    }
}

inline std::pair<bool, const llama_grammar_element *> match_char(const llama_grammar_element * pos, const uint32_t chr) {
    bool found            = false;
    bool is_positive_char = pos->type == LLAMA_GRETYPE_CHAR || pos->type == LLAMA_GRETYPE_CHAR_ANY;
    expect_char_element(pos);

    do {
        if (pos[1].type == LLAMA_GRETYPE_CHAR_RNG_UPPER) {
            found = found || (pos->value <= chr && chr <= pos[1].value);
            pos += 2;
        } else if (pos->type == LLAMA_GRETYPE_CHAR_ANY) {
            found = true;
            pos += 1;
        } else {
            found = found || pos->value == chr;
            pos += 1;
        }
    } while (pos->type == LLAMA_GRETYPE_CHAR_ALT);

    return std::make_pair(found == is_positive_char, pos);
}

inline bool match_partial_char(const llama_grammar_element * pos, const llama_partial_utf8 partial_utf8) {
    bool is_positive_char = pos->type == LLAMA_GRETYPE_CHAR || pos->type == LLAMA_GRETYPE_CHAR_ANY;
    expect_char_element(pos);

    uint32_t partial_value = partial_utf8.value;
    int      n_remain      = partial_utf8.n_remain;

    // invalid sequence or 7-bit char split across 2 bytes (overlong)
    if (n_remain < 0 || (n_remain == 1 && partial_value < 2)) {
        return false;
    }

    // range of possible code points this partial UTF-8 sequence could complete to
    uint32_t low  = partial_value << (n_remain * 6);
    uint32_t high = low | ((1 << (n_remain * 6)) - 1);

    if (low == 0) {
        if (n_remain == 2) {
            low = 1 << 11;
        } else if (n_remain == 3) {
            low = 1 << 16;
        }
    }

    do {
        if (pos[1].type == LLAMA_GRETYPE_CHAR_RNG_UPPER) {
            if (pos->value <= high && low <= pos[1].value) {
                return is_positive_char;
            }
            pos += 2;
        } else if (pos->type == LLAMA_GRETYPE_CHAR_ANY) {
            return true;
        } else {
            if (low <= pos->value && pos->value <= high) {
                return is_positive_char;
            }
            pos += 1;
        }
    } while (pos->type == LLAMA_GRETYPE_CHAR_ALT);

    return !is_positive_char;
}

inline bool match_token(const llama_grammar_element * pos, const llama_token token) {
    if (pos->type == LLAMA_GRETYPE_TOKEN) {
        return pos->value == static_cast<uint32_t>(token);
    }
    if (pos->type == LLAMA_GRETYPE_TOKEN_NOT) {
        return pos->value != static_cast<uint32_t>(token);
    }
    not_a_token_element();
}

// ---- steps (grammar_port.cpp) ------------------------------------------------------------------

std::pair<std::vector<uint32_t>, llama_partial_utf8> decode_utf8(const std::string & src, llama_partial_utf8 partial_start);

// Expands a stack until each of its stacks is on a terminal element, adding them to new_stacks.
void advance_stack(const llama_grammar_rules & rules, const llama_grammar_stack & stack, llama_grammar_stacks & new_stacks, work & w);

// The candidates no stack takes (llama.cpp's; over several stacks, reject_candidates_shared).
llama_grammar_candidates reject_candidates(const llama_grammar_rules & rules, const llama_grammar_stacks & stacks,
                                           const llama_grammar_candidates & candidates, work & w);
llama_grammar_candidates reject_candidates_for_stack(const llama_grammar_rules & rules, const llama_grammar_stack & stack,
                                                     const llama_grammar_candidates & candidates, work & w);

// Whether a rule is left-recursive (llama.cpp refuses such grammars); *rule_index says which.
bool has_left_recursion(const llama_grammar_rules & rules, size_t * rule_index);

// The first stacks: each alternative of the start rule, advanced.
void initial_stacks(const llama_grammar_rules & rules, size_t start_rule_index, llama_grammar_stacks & stacks, work & w);

// Stacks and pending partial character: a grammar's state.
struct state {
    llama_grammar_stacks stacks;
    llama_partial_utf8   partial_utf8;
};

// llama_grammar_accept_token: the state after `token`, whose text here is `piece`. No stacks when
// the grammar cannot take it (llama.cpp throws there).
state accept_token(const llama_grammar_rules & rules, const state & from, llama_token token, const std::string & piece, work & w);

// ---- masks (grammar_mask.cpp) ------------------------------------------------------------------

llama_grammar_candidates reject_candidates_shared(const llama_grammar_rules & rules, const llama_grammar_stacks & stacks,
                                                  const llama_grammar_candidates & candidates, work & w);

// hearth: every token's piece decoded from a fresh start, once per vocabulary while grammars use
// it. llama.cpp decodes the whole vocabulary into fresh vectors on every mask (most of a mask's
// time for a simple grammar: 150,000 allocations on Qwen2's vocabulary); a mask here reads this
// instead whenever no partial character is pending (the decoding is then the same). Shared by the
// grammars of one vocabulary, and freed with the last of them. Single-threaded, as the shim is.
struct decoded_vocab {
    std::vector<uint32_t>           code_points;  // each token's code points and a 0, back to back
    std::vector<uint32_t>           start;        // token → where its code points start
    std::vector<llama_partial_utf8> partial;      // token → the partial character it ends in
    std::vector<uint8_t>            kind;         // token → KIND_*
};
constexpr uint8_t KIND_TEXT = 0, KIND_EOG = 1, KIND_EMPTY = 2;  // EMPTY: no piece, or one that starts with \0

std::shared_ptr<const decoded_vocab> decoded_pieces(const llama_vocab * vocab);

// llama_grammar_apply_impl, whatever the trigger: masks (logit -inf) the candidates the grammar
// does not allow from `at`. `pieces` is taken (decoded_pieces) on the first mask of many candidates.
void mask(const llama_grammar_rules & rules, const state & at, const llama_vocab * vocab,
          std::shared_ptr<const decoded_vocab> & pieces, llama_token_data_array * cur_p, work & w);

}  // namespace hearth_gbnf
