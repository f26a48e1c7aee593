// grammar_mask.cpp — the mask of a vocabulary under a grammar (llama_grammar_apply_impl), with
// llama.cpp's result at a fraction of its work: the vocabulary decoded once (decoded_vocab), and
// several stacks rejecting candidates together (reject_candidates_shared). See hearth_grammar.cpp.

#include "grammar_port.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>

namespace hearth_gbnf {

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

void mask(const llama_grammar_rules & rules, const state & at, const llama_vocab * vocab,
          std::shared_ptr<const decoded_vocab> & pieces, llama_token_data_array * cur_p, work & w) {
    bool allow_eog = false;
    for (const auto & stack : at.stacks) {
        if (stack.empty()) {
            allow_eog = true;
            break;
        }
    }

    // hearth: the vocabulary's pieces decoded once, where they decode the same (see decoded_vocab)
    constexpr size_t MANY_CANDIDATES = 256;
    if (!pieces && cur_p->size >= MANY_CANDIDATES) pieces = decoded_pieces(vocab);
    const decoded_vocab * dv = pieces && at.partial_utf8.n_remain <= 0 ? pieces.get() : nullptr;

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
        const std::string & piece = vocab->token_to_piece(id);

        if (vocab->is_eog(id)) {
            if (!allow_eog) {
                cur_p->data[i].logit = -INFINITY;
            }
        } else if (piece.empty() || piece[0] == 0) {
            cur_p->data[i].logit = -INFINITY;
        } else {
            candidates_decoded.push_back(decode_utf8(piece, at.partial_utf8));
            candidates_grammar.push_back({ i, candidates_decoded.back().first.data(), candidates_decoded.back().second, id });
        }
    }

    const auto rejects = reject_candidates(rules, at.stacks, candidates_grammar, w);
    for (const auto & reject : rejects) {
        cur_p->data[reject.index].logit = -INFINITY;
    }
}

}  // namespace hearth_gbnf
