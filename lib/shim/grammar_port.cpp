// grammar_port.cpp — llama.cpp's llama-grammar.cpp at the pinned commit, the part that steps a
// grammar: expanding stacks, accepting a token, rejecting candidates, the left-recursion check,
// the first stacks. Changes are marked "hearth:" (see hearth_grammar.cpp for why): the work is
// counted and bounded, a stack on the wrong element throws instead of aborting, and several
// stacks reject candidates together (grammar_mask.cpp).

#include "grammar_port.h"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace hearth_gbnf {

void not_a_char_element() {
    throw std::logic_error("grammar position is not a character element");
}

void not_a_token_element() {
    throw std::logic_error("grammar position is not a token element");
}

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

static bool detect_left_recursion(const llama_grammar_rules & rules, size_t rule_index, std::vector<bool> * rules_visited,
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
static void accept_chr(const llama_grammar_rules & rules, const llama_grammar_stack & stack, uint32_t chr, llama_grammar_stacks & new_stacks, work & w) {
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

bool has_left_recursion(const llama_grammar_rules & rules, size_t * rule_index) {
    const size_t n_rules = rules.size();
    std::vector<bool> rules_visited(n_rules);
    std::vector<bool> rules_in_progress(n_rules);
    std::vector<bool> rules_may_be_empty(n_rules);
    for (size_t i = 0; i < n_rules; i++) {
        if (rules_visited[i]) continue;
        if (detect_left_recursion(rules, i, &rules_visited, &rules_in_progress, &rules_may_be_empty)) {
            *rule_index = i;
            return true;
        }
    }
    return false;
}

// llama_grammar_init_impl: loop over alternates of start rule to build initial stacks
void initial_stacks(const llama_grammar_rules & rules, size_t start_rule_index, llama_grammar_stacks & stacks, work & w) {
    const llama_grammar_element * pos = rules[start_rule_index].data();
    do {
        llama_grammar_stack stack;
        if (!is_end_of_sequence(pos)) {
            // if alternate is nonempty, add to stack
            stack.push_back(pos);
        }
        advance_stack(rules, stack, stacks, w);
        while (!is_end_of_sequence(pos)) {
            // scan to end of alternate def
            pos++;
        }
        if (pos->type == LLAMA_GRETYPE_ALT) {
            // there's another alternate def of this rule to process
            pos++;
        } else {
            break;
        }
    } while (true);
}

// llama_grammar_accept_token
state accept_token(const llama_grammar_rules & rules, const state & from, llama_token token, const std::string & piece, work & w) {
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
                advance_stack(rules, new_stack, stacks_new, w);
            }
        } else {
            llama_grammar_stacks current_stacks = { stack };

            for (auto it = code_points.begin(), end = code_points.end() - 1; it != end; ++it) {
                llama_grammar_stacks next_stacks;

                for (const auto & cur_stack : current_stacks) {
                    accept_chr(rules, cur_stack, *it, next_stacks, w);
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

}  // namespace hearth_gbnf
