// hearth_grammar.cpp — GBNF-constrained sampling whose work is bounded, behind calls that never throw.
//
// Why not llama.cpp's grammar sampler (llama_sampler_init_grammar)? It can hold the runner's token
// loop — every stream on the model — for as long as it likes, or end the process:
// - Its work has no bound. Overlapping alternatives multiply the parse stacks: nested N deep they
//   give 2^N (a JSON schema's nested anyOf of two object schemas grows them one level per `{"a":`;
//   the GBNF chain `r1 ::= r0 "a" | r0 "b"`, `r2 ::= r1 "a" | r1 "b"`, … makes them all at once,
//   in the first step), and a mask of the vocabulary costs stacks × vocabulary. The mask also
//   follows every derivation of a candidate's characters on its own: `ws ::= (" " | " ") ws | ""`
//   keeps 2 stacks yet takes 2^n steps to refuse a token of n spaces and a letter. Measured with
//   llama.cpp's own code on Qwen2's vocabulary: one mask at 16,384 stacks took 36 s, that two-rule
//   grammar did not finish its first mask in 100 s, and 16 nested levels of "x" … ("y" | "z")
//   took 5 s for one token at 2^16 stacks (quadratic: some 20 minutes a token at 20 levels).
// - It reports a token it cannot take by throwing through its C API (llama_sampler_accept), which
//   nothing on the way up can catch (the shim's C frames, bun:ffi): the runner terminates. A lazy
//   grammar throws where no mask can see it coming: when a token completes its trigger, it replays
//   the text from the trigger on — the rest of that token included — into the grammar, and a model
//   that writes `<tool_call` and then `>\n\n` against "<tool_call>\n{" breaks it.
//
// So the grammar runs here. llama.cpp's parser (llama_grammar_parser) builds the rules; the rest is
// a port of llama-grammar.cpp at the pinned commit (advance_stack, accept_token, the candidates'
// rejection, apply, the left-recursion check, the lazy trigger) with the same stacks and the same
// masks (test/server/grammar-parity.test.ts holds Hearth's constrained tokens to llama-server's),
// but three changes marked "hearth:":
// - Where several stacks meet a candidate, the mask follows the set of stacks its characters lead
//   to instead of each derivation (reject_candidates_shared): polynomial in the token's length,
//   and far cheaper where many stacks wait on the same characters (enums, long tool lists).
// - The vocabulary's pieces are decoded once (decoded_vocab), not on every mask. With the change
//   above, a mask of Qwen2's vocabulary takes 3-5 ms for the fixture schemas and tool grammars
//   where llama.cpp's takes 10-20 ms, and 5 ms where it takes 95 ms (an enum of 600 strings).
// - Two deterministic bounds end the request instead of holding the runner (the engine answers
//   invalid_grammar): HEARTH_GRAMMAR_MAX_STACKS parse stacks at once, and per call a budget of
//   steps worth HEARTH_GRAMMAR_MAX_SWEEPS passes over the vocabulary (see `work`). Both are far
//   above what real grammars need (see hearth_grammar.h).
// The internal headers (llama-grammar.h for the rule and stack types and the parser, llama-vocab.h
// for the cached token pieces) are safe to include because the llama.cpp commit is pinned and
// verified (Makefile): a new commit means re-reading llama-grammar.cpp against this port.
//
// The lazy trigger is matched here as plain text (trigger words; a regex would need escaping, and
// llama.cpp runs std::regex over all the output buffered so far, on every token), keeping only
// the tail of the output a word could still start in. A token that completes a trigger is replayed
// on a copy of the stacks: the copy becomes the state if it takes the text, else the token is
// refused and nothing changes.

#include "hearth_grammar.h"

// Internal llama.cpp headers, found through -I$(LLAMA_SRC)/include (see above why including them
// is acceptable): rule and stack types, the parser, and llama_vocab::token_to_piece's cache.
#include "../src/llama-grammar.h"
#include "../src/llama-vocab.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace {

// Thrown by the stepping below when a bound is passed; caught at the C boundary.
struct too_ambiguous {
    int32_t code;  // HEARTH_GRAMMAR_TOO_MANY_STACKS or HEARTH_GRAMMAR_TOO_MANY_STEPS
};

// The work of one call, in steps of about the same cost (a few nanoseconds): a candidate tested
// against a stack, a stack element copied or compared. A stack popped in advance_stack also weighs
// STEPS_PER_POP, a stack visited while masking STEPS_PER_VISIT (both allocate).
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

// ---- ported from llama-grammar.cpp (pinned commit); changes are marked "hearth:" -------------

std::pair<std::vector<uint32_t>, llama_partial_utf8> decode_utf8(const std::string & src, llama_partial_utf8 partial_start) {
    static const int      lookup[] = { 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 2, 2, 3, 4 };
    const char          * pos      = src.c_str();
    std::vector<uint32_t> code_points;

    code_points.reserve(src.size() + 1);
    uint32_t value    = partial_start.value;
    int      n_remain = partial_start.n_remain;

    // continue previous decode, if applicable
    while (*pos != 0 && n_remain > 0) {
        uint8_t next_byte = static_cast<uint8_t>(*pos);
        if ((next_byte >> 6) != 2) {
            code_points.push_back(0);
            return std::make_pair(std::move(code_points), llama_partial_utf8{ 0, -1 });
        }
        value = (value << 6) + (next_byte & 0x3F);
        ++pos;
        --n_remain;
    }

    if (partial_start.n_remain > 0 && n_remain == 0) {
        code_points.push_back(value);
    }

    // decode any subsequent utf-8 sequences, which may end in an incomplete one
    while (*pos != 0) {
        uint8_t first_byte = static_cast<uint8_t>(*pos);
        uint8_t highbits   = first_byte >> 4;
        n_remain           = lookup[highbits] - 1;

        if (n_remain < 0) {
            code_points.clear();
            code_points.push_back(0);
            return std::make_pair(std::move(code_points), llama_partial_utf8{ 0, n_remain });
        }

        uint8_t mask = (1 << (7 - n_remain)) - 1;
        value        = first_byte & mask;

        ++pos;
        while (*pos != 0 && n_remain > 0) {
            value = (value << 6) + (static_cast<uint8_t>(*pos) & 0x3F);
            ++pos;
            --n_remain;
        }
        if (n_remain == 0) {
            code_points.push_back(value);
        }
    }
    code_points.push_back(0);

    return std::make_pair(std::move(code_points), llama_partial_utf8{ value, n_remain });
}

bool is_end_of_sequence(const llama_grammar_element * pos) {
    return pos->type == LLAMA_GRETYPE_END || pos->type == LLAMA_GRETYPE_ALT;
}

// hearth: llama.cpp asserts (aborts) where a position is not what it must be; this throws, and the
// grammar is marked unusable instead.
[[noreturn]] __attribute__((noinline, cold)) void not_a_char_element() {
    throw std::logic_error("grammar position is not a character element");
}

inline void expect_char_element(const llama_grammar_element * pos) {
    if (__builtin_expect(pos->type != LLAMA_GRETYPE_CHAR && pos->type != LLAMA_GRETYPE_CHAR_ANY && pos->type != LLAMA_GRETYPE_CHAR_NOT, 0)) {
        not_a_char_element();
    }
}

std::pair<bool, const llama_grammar_element *> match_char(const llama_grammar_element * pos, const uint32_t chr) {
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

bool match_partial_char(const llama_grammar_element * pos, const llama_partial_utf8 partial_utf8) {
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

bool match_token(const llama_grammar_element * pos, const llama_token token) {
    if (pos->type == LLAMA_GRETYPE_TOKEN) {
        return pos->value == static_cast<uint32_t>(token);
    }
    if (pos->type == LLAMA_GRETYPE_TOKEN_NOT) {
        return pos->value != static_cast<uint32_t>(token);
    }
    throw std::logic_error("grammar position is not a token element");
}

// transforms a grammar pushdown stack into N possible stacks, all ending at a character range
// (terminal element). hearth: counted and bounded.
void advance_stack(const llama_grammar_rules & rules, const llama_grammar_stack & stack, llama_grammar_stacks & new_stacks, work & w) {
    std::vector<llama_grammar_stack> todo;
    todo.push_back(stack);

    auto stack_cmp = [](const llama_grammar_stack & a, const llama_grammar_stack & b) {
        return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
            [](const llama_grammar_element * pa, const llama_grammar_element * pb) {
                return pa < pb;  // Compare pointer addresses
            }
        );
    };

    std::set<llama_grammar_stack, decltype(stack_cmp)> seen(stack_cmp);

    // Adds a stack unless it is already there (hearth: the linear search counts as steps).
    auto add = [&](const llama_grammar_stack & s) {
        w.step(new_stacks.size() * (1 + s.size() / 8));
        if (std::find(new_stacks.begin(), new_stacks.end(), s) == new_stacks.end()) {
            new_stacks.emplace_back(s);
            work::stacks(new_stacks.size());
        }
    };

    while (!todo.empty()) {
        // hearth: the stacks this expansion holds are bounded too (those to expand, those seen),
        // else a grammar whose expansions all end empty fills memory without adding a result.
        work::stacks(todo.size());
        w.step(STEPS_PER_POP + todo.back().size());
        llama_grammar_stack curr_stack_candidate = std::move(todo.back());
        todo.pop_back();

        auto [curr_stack_it, inserted] = seen.insert(std::move(curr_stack_candidate));
        if (!inserted) {
            continue;
        }
        work::stacks(seen.size());
        const llama_grammar_stack & curr_stack = *curr_stack_it;

        if (curr_stack.empty()) {
            add(curr_stack);
            continue;
        }

        const llama_grammar_element * pos = curr_stack.back();

        switch (pos->type) {
        case LLAMA_GRETYPE_RULE_REF: {
            const size_t                  rule_id = static_cast<size_t>(pos->value);
            const llama_grammar_element * subpos  = rules[rule_id].data();
            do {
                // init new stack without the top (pos)
                llama_grammar_stack next_stack(curr_stack.begin(), curr_stack.end() - 1);
                if (!is_end_of_sequence(pos + 1)) {
                    // if this rule ref is followed by another element, add that to stack
                    next_stack.push_back(pos + 1);
                }
                if (!is_end_of_sequence(subpos)) {
                    // if alternate is nonempty, add to stack
                    next_stack.push_back(subpos);
                }
                todo.push_back(std::move(next_stack));
                while (!is_end_of_sequence(subpos)) {
                    // scan to end of alternate def
                    subpos++;
                }
                if (subpos->type == LLAMA_GRETYPE_ALT) {
                    // there's another alternate def of this rule to process
                    subpos++;
                } else {
                    break;
                }
            } while (true);
            break;
        }
        case LLAMA_GRETYPE_CHAR:
        case LLAMA_GRETYPE_CHAR_NOT:
        case LLAMA_GRETYPE_CHAR_ANY:
        case LLAMA_GRETYPE_TOKEN:
        case LLAMA_GRETYPE_TOKEN_NOT:
            add(curr_stack);
            break;
        default:
            // end of alternate (LLAMA_GRETYPE_END, LLAMA_GRETYPE_ALT) or middle of char range
            // (LLAMA_GRETYPE_CHAR_ALT, LLAMA_GRETYPE_CHAR_RNG_UPPER); stack should never be left on
            // those
            throw std::logic_error("grammar stack left on a non-terminal position");
        }
    }
}

llama_grammar_candidates reject_candidates(const llama_grammar_rules & rules, const llama_grammar_stacks & stacks,
                                           const llama_grammar_candidates & candidates, work & w);
llama_grammar_candidates reject_candidates_shared(const llama_grammar_rules & rules, const llama_grammar_stacks & stacks,
                                                  const llama_grammar_candidates & candidates, work & w);


llama_grammar_candidates reject_candidates_for_stack(const llama_grammar_rules & rules, const llama_grammar_stack & stack,
                                                     const llama_grammar_candidates & candidates, work & w) {
    w.step(STEPS_PER_VISIT + stack.size() + candidates.size());  // hearth: each candidate is tested against this stack

    llama_grammar_candidates rejects;
    rejects.reserve(candidates.size());

    if (stack.empty()) {
        for (const auto & tok : candidates) {
            if (*tok.code_points != 0 || tok.partial_utf8.n_remain != 0) {
                rejects.push_back(tok);
            }
        }
        return rejects;
    }

    const llama_grammar_element * stack_pos = stack.back();

    // if the top of the stack is a token rule, then we only need to check the token id
    if (stack_pos->type == LLAMA_GRETYPE_TOKEN || stack_pos->type == LLAMA_GRETYPE_TOKEN_NOT) {
        for (const auto & tok : candidates) {
            if (*tok.code_points == 0) {
                // reached the end of a token consumed by char rules, reject iff it ended
                // in a partial response
                if (tok.partial_utf8.n_remain != 0) {
                    rejects.push_back(tok);
                }
            } else if (!match_token(stack_pos, tok.id)) {
                rejects.push_back(tok);
            }
        }
        return rejects;
    }

    llama_grammar_candidates next_candidates;
    next_candidates.reserve(candidates.size());

    for (const auto & tok : candidates) {
        if (*tok.code_points == 0) {
            // reached end of full codepoints in token, reject iff it ended in a partial sequence
            // that cannot satisfy this position in grammar
            if (tok.partial_utf8.n_remain != 0 && !match_partial_char(stack_pos, tok.partial_utf8)) {
                rejects.push_back(tok);
            }
        } else if (match_char(stack_pos, *tok.code_points).first) {
            next_candidates.push_back({ tok.index, tok.code_points + 1, tok.partial_utf8, tok.id });
        } else {
            rejects.push_back(tok);
        }
    }

    const auto * stack_pos_after = match_char(stack_pos, 0).second;

    // update top of stack to next element, if any
    llama_grammar_stack stack_after(stack.begin(), stack.end() - 1);
    if (!is_end_of_sequence(stack_pos_after)) {
        stack_after.push_back(stack_pos_after);
    }
    llama_grammar_stacks next_stacks;
    advance_stack(rules, stack_after, next_stacks, w);

    auto next_rejects = reject_candidates(rules, next_stacks, next_candidates, w);
    for (const auto & tok : next_rejects) {
        rejects.push_back({ tok.index, tok.code_points - 1, tok.partial_utf8, tok.id });
    }

    return rejects;
}

llama_grammar_candidates reject_candidates(const llama_grammar_rules & rules, const llama_grammar_stacks & stacks,
                                           const llama_grammar_candidates & candidates, work & w) {
    if (stacks.empty()) throw std::logic_error("no grammar stacks to reject candidates with");

    if (candidates.empty()) {
        return {};
    }
    if (stacks.size() > 1) {
        return reject_candidates_shared(rules, stacks, candidates, w);  // hearth
    }

    auto rejects = reject_candidates_for_stack(rules, stacks.front(), candidates, w);

    for (size_t i = 1, size = stacks.size(); i < size; ++i) {
        rejects = reject_candidates_for_stack(rules, stacks[i], rejects, w);
    }

    return rejects;
}

// hearth: reject_candidates over several stacks, with llama.cpp's result (a candidate is rejected
// iff every stack rejects it) but not its cost. llama.cpp runs each stack over the candidates the
// stacks before it rejected, so a candidate that no stack takes is followed down every stack's own
// path: stacks × candidates at each level (0.8 s per mask on Qwen2's vocabulary for an object
// holding an enum of 600 strings: after a space, 600 stacks at their opening quotes, and 54,000
// tokens that start with a space), and derivations multiply with the token's length
// (`ws ::= (" " | " ") ws | ""`: 2^n for n spaces). Here the stacks' first elements are tested once
// per distinct element (its characters, wherever it sits in the rules), and the candidates whose
// first character the same elements take go on together, with the union of those stacks' next
// stacks: each candidate follows one set of stacks down, not one path per derivation. A candidate's
// place here travels in `index` (llama.cpp reads it only at the end, to mask).
llama_grammar_candidates reject_candidates_shared(const llama_grammar_rules & rules, const llama_grammar_stacks & stacks,
                                                  const llama_grammar_candidates & candidates, work & w) {
    struct element_less {
        bool operator()(const std::vector<llama_grammar_element> & a, const std::vector<llama_grammar_element> & b) const {
            return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](const llama_grammar_element & x, const llama_grammar_element & y) {
                return x.type != y.type ? x.type < y.type : x.value < y.value;
            });
        }
    };
    // A character element's content: what match_char and match_partial_char read.
    auto element_key = [](const llama_grammar_element * pos) {
        std::vector<llama_grammar_element> key;
        do {
            key.push_back(pos[0]);
            if (pos[1].type == LLAMA_GRETYPE_CHAR_RNG_UPPER) {
                key.push_back(pos[1]);
                pos += 2;
            } else {
                pos += 1;
            }
        } while (pos->type == LLAMA_GRETYPE_CHAR_ALT);
        return key;
    };

    // The stacks by their first element: distinct character elements, token elements, the empty stack.
    std::map<std::vector<llama_grammar_element>, size_t, element_less> key_ids;
    std::vector<const llama_grammar_element *>       key_top;     // one top with that content
    std::vector<std::vector<const llama_grammar_stack *>> key_stacks;
    std::vector<const llama_grammar_element *>       token_tops;
    for (const auto & stack : stacks) {
        w.step(1 + stack.size());
        if (stack.empty()) continue;  // takes only a candidate with no character left (below)
        const llama_grammar_element * top = stack.back();
        if (top->type == LLAMA_GRETYPE_TOKEN || top->type == LLAMA_GRETYPE_TOKEN_NOT) {
            token_tops.push_back(top);
            continue;
        }
        auto [it, added] = key_ids.emplace(element_key(top), key_top.size());
        if (added) {
            key_top.push_back(top);
            key_stacks.emplace_back();
        }
        key_stacks[it->second].push_back(&stack);
    }
    const size_t k = key_top.size();

    // Each candidate is decided here (no character left, a token element) or goes on with the
    // elements that take its first character: a group per distinct set of elements, found once
    // per first character.
    const size_t n = candidates.size();
    std::vector<char> accepted(n, 0);
    std::vector<std::vector<uint32_t>> group_elements;   // the elements that take a group's first character
    std::vector<llama_grammar_candidates> group_next; // the group's candidates past their first character (index: place here)
    std::map<std::vector<uint32_t>, size_t> group_of_elements;
    int32_t ascii_group[128];
    std::fill(ascii_group, ascii_group + 128, -2);       // -2: not yet seen; -1: no element takes it
    std::unordered_map<uint32_t, int32_t> other_group;
    std::vector<uint32_t> elements;
    // The group of the elements that take chr, or -1 when none does.
    auto find_group = [&](uint32_t chr) -> int32_t {
        elements.clear();
        for (size_t i = 0; i < k; i++) {
            if (match_char(key_top[i], chr).first) elements.push_back((uint32_t) i);
        }
        if (elements.empty()) return -1;
        auto [it, added] = group_of_elements.emplace(elements, group_elements.size());
        if (added) {
            group_elements.push_back(elements);
            group_next.emplace_back();
        }
        return (int32_t) it->second;
    };
    // Few elements: testing them is cheaper than remembering what each character does.
    constexpr size_t FEW_ELEMENTS = 4;
    int32_t group_by_bits[1 << FEW_ELEMENTS];
    std::fill(group_by_bits, group_by_bits + (1 << FEW_ELEMENTS), -2);
    group_by_bits[0] = -1;
    auto group_of = [&](uint32_t chr) -> int32_t {
        if (k <= FEW_ELEMENTS) {
            uint32_t bits = 0;
            for (size_t i = 0; i < k; i++) bits |= (uint32_t) match_char(key_top[i], chr).first << i;
            if (group_by_bits[bits] == -2) group_by_bits[bits] = find_group(chr);
            return group_by_bits[bits];
        }
        int32_t & slot = chr < 128 ? ascii_group[chr] : other_group.try_emplace(chr, -2).first->second;
        if (slot == -2) {
            w.step(k);
            slot = find_group(chr);
        }
        return slot;
    };
    w.step(n * (1 + token_tops.size()));
    for (size_t c = 0; c < n; c++) {
        const auto & tok = candidates[c];
        if (*tok.code_points == 0) {
            // as reject_candidates_for_stack at the end of the token's whole characters: any stack
            // takes it without a partial character (there are several), a character element may
            // take a partial one
            bool ok = tok.partial_utf8.n_remain == 0;
            for (size_t i = 0; i < k && !ok; i++) ok = match_partial_char(key_top[i], tok.partial_utf8);
            accepted[c] = ok;
            continue;
        }
        bool ok = false;
        for (const auto * top : token_tops) ok = ok || match_token(top, tok.id);
        if (ok) {
            accepted[c] = 1;
            continue;
        }
        const int32_t group = group_of(*tok.code_points);
        if (group >= 0) {
            group_next[(size_t) group].push_back({ c, tok.code_points + 1, tok.partial_utf8, tok.id });
            accepted[c] = 1;  // unless the recursion below rejects it
        }
    }

    // The stacks past each element, advanced (once per element, when a candidate needs them).
    std::vector<llama_grammar_stacks> next_of_key(k);
    std::vector<char>                 next_done(k, 0);
    auto next_stacks_of = [&](size_t i) -> const llama_grammar_stacks & {
        if (!next_done[i]) {
            next_done[i] = 1;
            for (const auto * stack : key_stacks[i]) {
                // as reject_candidates_for_stack: the stack past its first element
                const auto * after = match_char(stack->back(), 0).second;
                llama_grammar_stack stack_after(stack->begin(), stack->end() - 1);
                if (!is_end_of_sequence(after)) stack_after.push_back(after);
                advance_stack(rules, stack_after, next_of_key[i], w);
            }
        }
        return next_of_key[i];
    };

    for (size_t group = 0; group < group_next.size(); group++) {
        const auto & sig = group_elements[group];
        llama_grammar_stacks union_stacks;
        const llama_grammar_stacks * next = nullptr;
        if (sig.size() == 1) {
            next = &next_stacks_of(sig[0]);
        } else {
            for (uint32_t i : sig) {
                for (const auto & st : next_stacks_of(i)) {
                    w.step(union_stacks.size() * (1 + st.size() / 8));
                    if (std::find(union_stacks.begin(), union_stacks.end(), st) == union_stacks.end()) {
                        union_stacks.push_back(st);
                        work::stacks(union_stacks.size());
                    }
                }
            }
            next = &union_stacks;
        }
        for (const auto & tok : reject_candidates(rules, *next, group_next[group], w)) accepted[tok.index] = 0;
    }

    llama_grammar_candidates rejects;
    for (size_t c = 0; c < n; c++) {
        if (!accepted[c]) rejects.push_back(candidates[c]);
    }
    return rejects;
}

bool detect_left_recursion(const llama_grammar_rules & rules, size_t rule_index, std::vector<bool> * rules_visited,
                           std::vector<bool> * rules_in_progress, std::vector<bool> * rules_may_be_empty) {
    if ((*rules_in_progress)[rule_index]) {
        return true;
    }

    (*rules_in_progress)[rule_index] = true;

    const llama_grammar_rule & rule = rules[rule_index];

    // First check if the rule might produce the empty string.
    bool at_rule_start = true;
    for (size_t i = 0; i < rule.size(); i++) {
        if (is_end_of_sequence(&rule[i])) {
            if (at_rule_start) {
                (*rules_may_be_empty)[rule_index] = true;
                break;
            }
            at_rule_start = true;
        } else {
            at_rule_start = false;
        }
    }

    // Second, recurse into leftmost nonterminals (or next-leftmost as long as the previous nonterminal may
    // be empty)
    bool recurse_into_nonterminal = true;
    for (size_t i = 0; i < rule.size(); i++) {
        if (rule[i].type == LLAMA_GRETYPE_RULE_REF && recurse_into_nonterminal) {
            if (detect_left_recursion(rules, (size_t) rule[i].value, rules_visited, rules_in_progress, rules_may_be_empty)) {
                return true;
            }
            if (!((*rules_may_be_empty)[(size_t) rule[i].value])) {
                recurse_into_nonterminal = false;
            }
        } else if (is_end_of_sequence(&rule[i])) {
            recurse_into_nonterminal = true;
        } else {
            recurse_into_nonterminal = false;
        }
    }

    (*rules_in_progress)[rule_index] = false;
    (*rules_visited)[rule_index]     = true;

    return false;
}

// llama_grammar_accept_chr
void accept_chr(const llama_grammar_rules & rules, const llama_grammar_stack & stack, uint32_t chr, llama_grammar_stacks & new_stacks, work & w) {
    if (stack.empty()) {
        return;
    }

    const llama_grammar_element * pos = stack.back();

    // ignore if this turns into a token
    if (pos->type == LLAMA_GRETYPE_TOKEN || pos->type == LLAMA_GRETYPE_TOKEN_NOT) {
        return;
    }

    auto match = match_char(pos, chr);
    if (match.first) {
        llama_grammar_stack new_stack(stack.begin(), stack.end() - 1);
        if (!is_end_of_sequence(match.second)) {
            new_stack.push_back(match.second);
        }
        advance_stack(rules, new_stack, new_stacks, w);
    }
}

}  // namespace

// ---- the grammar -----------------------------------------------------------------------------

namespace {

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

std::shared_ptr<const decoded_vocab> decoded_pieces(const llama_vocab * vocab) {
    static std::map<const llama_vocab *, std::weak_ptr<const decoded_vocab>> cache;
    if (auto found = cache[vocab].lock()) return found;
    auto dv = std::make_shared<decoded_vocab>();
    const int32_t n = llama_vocab_n_tokens(vocab);
    dv->start.resize((size_t) n);
    dv->partial.resize((size_t) n, { 0, 0 });
    dv->kind.resize((size_t) n);
    for (int32_t t = 0; t < n; t++) {
        const std::string & piece = vocab->token_to_piece(t);
        dv->start[(size_t) t] = (uint32_t) dv->code_points.size();
        if (vocab->is_eog(t)) {
            dv->kind[(size_t) t] = KIND_EOG;
        } else if (piece.empty() || piece[0] == 0) {
            dv->kind[(size_t) t] = KIND_EMPTY;
        } else {
            auto decoded = decode_utf8(piece, { 0, 0 });
            dv->code_points.insert(dv->code_points.end(), decoded.first.begin(), decoded.first.end());
            dv->partial[(size_t) t] = decoded.second;
            dv->kind[(size_t) t] = KIND_TEXT;
        }
    }
    cache[vocab] = dv;
    return dv;
}

}  // namespace

struct hearth_grammar {
    const llama_vocab *      vocab = nullptr;
    bool                     constrains = true;   // false for an empty text: llama.cpp constrains nothing then
    llama_grammar_rules      rules;               // never changes after hearth_grammar_new: stacks point into it
    llama_grammar_stacks     stacks;
    llama_partial_utf8       partial_utf8 = { 0, 0 };
    uint64_t                 budget = 0;          // steps one call may take (see hearth_grammar.h)
    int32_t                  failed = 0;          // 0, or what every call answers from now on (a negative code)
    // The lazy trigger.
    bool                     awaiting = false;    // a lazy grammar before its trigger
    std::vector<std::string> words;
    std::vector<llama_token> tokens;
    size_t                   keep = 0;            // bytes of output that can start a word: longest word - 1
    std::string              tail;                // the last `keep` bytes of output while awaiting (at least)
    std::vector<std::pair<llama_token, long>> tail_tokens;  // the tokens in `tail`, with where each starts (< 0: cut)
    mutable std::shared_ptr<const decoded_vocab> pieces;    // taken on the first mask of many candidates
};

namespace {

// Stacks and partial character after a step; applied to the grammar only when the step succeeds.
struct state {
    llama_grammar_stacks stacks;
    llama_partial_utf8   partial_utf8;
};

// llama_grammar_accept_token: the stacks after `token`, whose text here is `piece`. Empty when the
// grammar cannot take it (llama.cpp throws there).
state accept_token(const hearth_grammar & g, const state & from, llama_token token, const std::string & piece, work & w) {
    const auto   decoded     = decode_utf8(piece, from.partial_utf8);
    const auto & code_points = decoded.first;

    llama_grammar_stacks stacks_new;
    stacks_new.reserve(from.stacks.size());

    for (const auto & stack : from.stacks) {
        if (stack.empty()) {
            continue;
        }

        const llama_grammar_element * pos = stack.back();

        if (pos->type == LLAMA_GRETYPE_TOKEN || pos->type == LLAMA_GRETYPE_TOKEN_NOT) {
            if (match_token(pos, token)) {
                llama_grammar_stack new_stack(stack.begin(), stack.end() - 1);
                if (!is_end_of_sequence(pos + 1)) {
                    new_stack.push_back(pos + 1);
                }
                advance_stack(g.rules, new_stack, stacks_new, w);
            }
        } else {
            llama_grammar_stacks current_stacks = { stack };

            for (auto it = code_points.begin(), end = code_points.end() - 1; it != end; ++it) {
                llama_grammar_stacks next_stacks;

                for (const auto & cur_stack : current_stacks) {
                    accept_chr(g.rules, cur_stack, *it, next_stacks, w);
                }

                current_stacks = std::move(next_stacks);
                if (current_stacks.empty()) {
                    break;
                }
            }

            for (auto & surviving_stack : current_stacks) {
                w.step(stacks_new.size() * (1 + surviving_stack.size() / 8));
                if (std::find(stacks_new.begin(), stacks_new.end(), surviving_stack) == stacks_new.end()) {
                    stacks_new.emplace_back(surviving_stack);
                    work::stacks(stacks_new.size());
                }
            }
        }
    }

    return { std::move(stacks_new), decoded.second };
}

// llama_grammar_apply_impl, whatever the trigger: masks (logit -inf) the candidates the grammar
// does not allow.
void mask(const hearth_grammar & g, llama_token_data_array * cur_p, work & w) {
    bool allow_eog = false;
    for (const auto & stack : g.stacks) {
        if (stack.empty()) {
            allow_eog = true;
            break;
        }
    }

    // hearth: the vocabulary's pieces decoded once, where they decode the same (see decoded_vocab)
    constexpr size_t MANY_CANDIDATES = 256;
    if (!g.pieces && cur_p->size >= MANY_CANDIDATES) g.pieces = decoded_pieces(g.vocab);
    const decoded_vocab * dv = g.pieces && g.partial_utf8.n_remain <= 0 ? g.pieces.get() : nullptr;

    std::vector<std::pair<std::vector<uint32_t>, llama_partial_utf8>> candidates_decoded;
    candidates_decoded.reserve(dv ? 0 : cur_p->size);

    llama_grammar_candidates candidates_grammar;
    candidates_grammar.reserve(cur_p->size);

    for (size_t i = 0; i < cur_p->size; ++i) {
        const llama_token id = cur_p->data[i].id;
        if (dv != nullptr) {
            const uint8_t kind = dv->kind[(size_t) id];
            if (kind == KIND_EOG) {
                if (!allow_eog) cur_p->data[i].logit = -INFINITY;
            } else if (kind == KIND_EMPTY) {
                cur_p->data[i].logit = -INFINITY;
            } else {
                candidates_grammar.push_back({ i, &dv->code_points[dv->start[(size_t) id]], dv->partial[(size_t) id], id });
            }
            continue;
        }
        const std::string & piece = g.vocab->token_to_piece(id);

        if (g.vocab->is_eog(id)) {
            if (!allow_eog) {
                cur_p->data[i].logit = -INFINITY;
            }
        } else if (piece.empty() || piece[0] == 0) {
            cur_p->data[i].logit = -INFINITY;
        } else {
            candidates_decoded.push_back(decode_utf8(piece, g.partial_utf8));
            candidates_grammar.push_back({ i, candidates_decoded.back().first.data(), candidates_decoded.back().second, id });
        }
    }

    const auto rejects = reject_candidates(g.rules, g.stacks, candidates_grammar, w);
    for (const auto & reject : rejects) {
        cur_p->data[reject.index].logit = -INFINITY;
    }
}

// Whether the grammar (past any trigger) allows `token` next.
bool allows(const hearth_grammar & g, llama_token token, work & w) {
    llama_token_data       one = { token, 1.0f, 0.0f };
    llama_token_data_array arr = { &one, 1, -1, false };
    mask(g, &arr, w);
    return one.logit != -INFINITY;
}

// The text llama.cpp's grammar takes for a token: its piece with special tokens rendered.
const std::string & token_piece(const hearth_grammar & g, llama_token token) {
    return g.vocab->token_to_piece(token);
}

// Where the earliest trigger word starts in text, or npos. (llama.cpp's pattern for trigger words,
// "[\s\S]*?(w1|w2|…)[\s\S]*", finds the same position: the shortest prefix before any word.)
size_t trigger_start(const hearth_grammar & g, const std::string & text) {
    size_t start = std::string::npos;
    for (const std::string & word : g.words) start = std::min(start, text.find(word));
    return start;
}

// Runs a call's body: answers the grammar's failure if it has one, and turns a passed bound or
// an exception into a code the grammar keeps (it is unusable from then on).
template <typename F> int32_t guarded(hearth_grammar * g, F && body) {
    if (g->failed != 0) return g->failed;
    try {
        return body();
    } catch (const too_ambiguous & e) {
        g->failed = e.code;
    } catch (...) {
        g->failed = HEARTH_GRAMMAR_BROKEN;
    }
    return g->failed;
}

// The grammar's first stacks: one advance per alternative of root (llama_grammar_init_impl).
// Returns 0, HEARTH_GRAMMAR_INVALID, or a bound's code.
int32_t init_rules(hearth_grammar * g, const char * gbnf) {
    llama_grammar_parser parser(g->vocab);
    // rules will be empty if there are parse errors (parse logs them)
    if (!parser.parse(gbnf) || parser.rules.empty()) return HEARTH_GRAMMAR_INVALID;
    if (parser.symbol_ids.find("root") == parser.symbol_ids.end()) return HEARTH_GRAMMAR_INVALID;

    const std::vector<const llama_grammar_element *> grammar_rules(parser.c_rules());
    const size_t n_rules          = grammar_rules.size();
    const size_t start_rule_index = parser.symbol_ids.at("root");

    // copy rule definitions into vectors
    g->rules.assign(n_rules, {});
    for (size_t i = 0; i < n_rules; i++) {
        for (const llama_grammar_element * pos = grammar_rules[i]; pos->type != LLAMA_GRETYPE_END; pos++) {
            g->rules[i].push_back(*pos);
        }
        g->rules[i].push_back({ LLAMA_GRETYPE_END, 0 });
    }

    std::vector<bool> rules_visited(n_rules);
    std::vector<bool> rules_in_progress(n_rules);
    std::vector<bool> rules_may_be_empty(n_rules);
    for (size_t i = 0; i < n_rules; i++) {
        if (rules_visited[i]) continue;
        if (detect_left_recursion(g->rules, i, &rules_visited, &rules_in_progress, &rules_may_be_empty)) {
            fprintf(stderr, "unsupported grammar, left recursion detected for nonterminal at index %zu\n", i);
            return HEARTH_GRAMMAR_INVALID;
        }
    }

    // loop over alternates of start rule to build initial stacks
    work w(g->budget);
    try {
        const llama_grammar_element * pos = g->rules[start_rule_index].data();
        do {
            llama_grammar_stack stack;
            if (!is_end_of_sequence(pos)) {
                stack.push_back(pos);
            }
            advance_stack(g->rules, stack, g->stacks, w);
            while (!is_end_of_sequence(pos)) pos++;
            if (pos->type == LLAMA_GRETYPE_ALT) {
                pos++;
            } else {
                break;
            }
        } while (true);
    } catch (const too_ambiguous & e) {
        return e.code;
    }
    return 0;
}

}  // namespace

extern "C" struct hearth_grammar * hearth_grammar_new(const struct llama_vocab * vocab, const char * gbnf, int32_t lazy,
                                                      const char * const * words, int32_t n_words,
                                                      const llama_token * tokens, int32_t n_tokens, int32_t * status) {
    int32_t why = HEARTH_GRAMMAR_BROKEN;
    hearth_grammar * g = nullptr;
    try {
        g = new hearth_grammar();
        g->vocab = vocab;
        g->budget = (uint64_t) HEARTH_GRAMMAR_MAX_SWEEPS * (uint64_t) std::max(llama_vocab_n_tokens(vocab), HEARTH_GRAMMAR_MIN_SWEEP);
        if (gbnf == nullptr || gbnf[0] == '\0') {
            g->constrains = false;
            why = 0;
        } else {
            why = init_rules(g, gbnf);
        }
        if (why == 0 && lazy) {
            for (int32_t i = 0; i < n_words; i++) {
                g->words.emplace_back(words[i]);
                if (g->words.back().size() > g->keep + 1) g->keep = g->words.back().size() - 1;
            }
            g->tokens.assign(tokens, tokens + (n_tokens > 0 ? n_tokens : 0));
            g->awaiting = true;
        }
    } catch (...) {
        why = HEARTH_GRAMMAR_BROKEN;
    }
    if (status != nullptr) *status = why;
    if (why != 0) {
        delete g;
        return nullptr;
    }
    return g;
}

extern "C" void hearth_grammar_free(struct hearth_grammar * g) {
    delete g;
}

extern "C" int32_t hearth_grammar_probe(struct hearth_grammar * g) {
    return guarded(g, [&]() -> int32_t {
        if (!g->constrains) return 0;
        const int32_t n_vocab = llama_vocab_n_tokens(g->vocab);
        std::vector<llama_token_data> data((size_t) n_vocab);
        for (int32_t t = 0; t < n_vocab; t++) data[(size_t) t] = { t, 0.0f, 0.0f };
        llama_token_data_array cur = { data.data(), data.size(), -1, false };
        work w(g->budget);
        mask(*g, &cur, w);
        return 0;
    });
}

extern "C" int32_t hearth_grammar_apply(struct hearth_grammar * g, llama_token_data_array * cur) {
    return guarded(g, [&]() -> int32_t {
        if (!g->constrains || g->awaiting) return 0;
        work w(g->budget);
        mask(*g, cur, w);
        return 0;
    });
}

extern "C" int32_t hearth_grammar_accept(struct hearth_grammar * g, llama_token token) {
    return guarded(g, [&]() -> int32_t {
        if (!g->constrains) return 1;
        work w(g->budget);
        const std::string & piece = token_piece(*g, token);
        if (!g->awaiting) {
            if (!allows(*g, token, w)) return 0;
            // llama_grammar_accept_impl: end-of-generation changes nothing (allowed: a stack is empty).
            if (g->vocab->is_eog(token)) return 1;
            state next = accept_token(*g, { g->stacks, g->partial_utf8 }, token, piece, w);
            if (next.stacks.empty()) throw std::logic_error("the grammar refused a token it allowed");
            g->stacks       = std::move(next.stacks);
            g->partial_utf8 = next.partial_utf8;
            return 1;
        }

        // Awaiting the trigger: a trigger token, or a word that ends in this piece (the tail holds
        // no word yet, else the trigger had fired), starts the grammar; anything else is free text.
        const bool by_token = std::find(g->tokens.begin(), g->tokens.end(), token) != g->tokens.end();
        const std::string text = g->tail + piece;
        const size_t start = by_token ? std::string::npos : trigger_start(*g, text);
        if (!by_token && start == std::string::npos) {
            g->tail_tokens.emplace_back(token, (long) g->tail.size());
            g->tail = text;
            if (g->tail.size() > g->keep) {
                const size_t cut = g->tail.size() - g->keep;
                g->tail.erase(0, cut);
                for (auto & t : g->tail_tokens) t.second -= (long) cut;
                // drop the tokens that end before the tail (each ends where the next starts)
                size_t first = 0;
                while (first + 1 < g->tail_tokens.size() && g->tail_tokens[first + 1].second <= 0) first++;
                g->tail_tokens.erase(g->tail_tokens.begin(), g->tail_tokens.begin() + (long) first);
                if (g->tail.empty()) g->tail_tokens.clear();
            }
            return 1;
        }

        // llama_grammar_accept_impl's trigger: a trigger token is taken whole; a word replays the
        // tokens that overlap [start, end), the first from the word on. Tried on a copy.
        state next = { g->stacks, g->partial_utf8 };
        if (by_token) {
            next = accept_token(*g, next, token, piece, w);
            if (next.stacks.empty()) return 0;
        } else {
            std::vector<std::pair<llama_token, long>> replay = g->tail_tokens;
            replay.emplace_back(token, (long) g->tail.size());
            for (size_t i = 0; i < replay.size(); i++) {
                const long tok_start = replay[i].second;
                const long tok_end   = i + 1 < replay.size() ? replay[i + 1].second : (long) text.size();
                if (tok_end <= (long) start) continue;
                const long piece_start = std::max(tok_start, (long) start);
                next = accept_token(*g, next, replay[i].first, text.substr((size_t) piece_start, (size_t) (tok_end - piece_start)), w);
                if (next.stacks.empty()) return 0;
            }
        }
        g->stacks       = std::move(next.stacks);
        g->partial_utf8 = next.partial_utf8;
        g->awaiting     = false;
        g->tail.clear();
        g->tail_tokens.clear();
        return 1;
    });
}

extern "C" int32_t hearth_grammar_max_stacks(void) {
    return HEARTH_GRAMMAR_MAX_STACKS;
}

extern "C" int32_t hearth_grammar_max_sweeps(void) {
    return HEARTH_GRAMMAR_MAX_SWEEPS;
}
