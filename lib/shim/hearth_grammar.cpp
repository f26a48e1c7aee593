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
// a port of llama-grammar.cpp at the pinned commit (grammar_port.cpp: expanding stacks, accepting a
// token, rejecting candidates, the left-recursion check; grammar_mask.cpp: the mask; here: the lazy
// trigger) with the same stacks and the same masks (test/server/grammar-parity.test.ts holds
// Hearth's constrained tokens to llama-server's), and three changes marked "hearth:":
// - Two deterministic bounds end the request instead of holding the runner (the engine answers
//   invalid_grammar): HEARTH_GRAMMAR_MAX_STACKS parse stacks at once, and per call a budget of
//   steps worth HEARTH_GRAMMAR_MAX_SWEEPS passes over the vocabulary (`work`, grammar_port.h).
//   Both are far above what real grammars need (see hearth_grammar.h).
// - Where several stacks meet a candidate, the mask follows the set of stacks its characters lead
//   to instead of each derivation (reject_candidates_shared): polynomial in the token's length,
//   and far cheaper where many stacks wait on the same characters (enums, long tool lists).
// - The vocabulary's pieces are decoded once (decoded_vocab), not on every mask. With the change
//   above, a mask of Qwen2's vocabulary takes 3-5 ms for the fixture schemas and tool grammars
//   where llama.cpp's takes 10-20 ms, and 5 ms where it takes 95 ms (an enum of 600 strings).
//
// The lazy trigger is matched here as plain text (trigger words; a regex would need escaping, and
// llama.cpp runs std::regex over all the output buffered so far, on every token), keeping only
// the tail of the output a word could still start in. A token that completes a trigger is replayed
// on a copy of the stacks: the copy becomes the state if it takes the text, else the token is
// refused and nothing changes.

#include "hearth_grammar.h"

#include "grammar_port.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using namespace hearth_gbnf;

struct hearth_grammar {
    const llama_vocab *      vocab = nullptr;
    bool                     constrains = true;   // false for an empty text: llama.cpp constrains nothing then
    llama_grammar_rules      rules;               // never changes after hearth_grammar_new: stacks point into it
    hearth_gbnf::state       at = { {}, { 0, 0 } };  // stacks and pending partial character
    uint64_t                 budget = 0;          // steps one call may take (see hearth_grammar.h)
    int32_t                  failed = 0;          // 0, or what every call answers from now on (a negative code)
    // The lazy trigger.
    bool                     awaiting = false;    // a lazy grammar before its trigger
    std::vector<std::string> words;
    std::vector<llama_token> tokens;
    size_t                   keep = 0;            // bytes of output that can start a word: longest word - 1
    std::string              tail;                // the last `keep` bytes of output while awaiting (at least)
    std::vector<std::pair<llama_token, long>> tail_tokens;  // the tokens in `tail`, with where each starts (< 0: cut)
    std::shared_ptr<const hearth_gbnf::decoded_vocab> pieces;  // the vocabulary decoded, from the first full mask
};

namespace {

// Whether the grammar (past any trigger) allows `token` next.
bool allows(hearth_grammar & g, llama_token token, work & w) {
    llama_token_data       one = { token, 1.0f, 0.0f };
    llama_token_data_array arr = { &one, 1, -1, false };
    mask(g.rules, g.at, g.vocab, g.pieces, &arr, w);
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

    size_t left_recursive = 0;
    if (has_left_recursion(g->rules, &left_recursive)) {
        fprintf(stderr, "unsupported grammar, left recursion detected for nonterminal at index %zu\n", left_recursive);
        return HEARTH_GRAMMAR_INVALID;
    }

    work w(g->budget);
    try {
        initial_stacks(g->rules, start_rule_index, g->at.stacks, w);
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
        mask(g->rules, g->at, g->vocab, g->pieces, &cur, w);
        return 0;
    });
}

extern "C" int32_t hearth_grammar_apply(struct hearth_grammar * g, llama_token_data_array * cur) {
    return guarded(g, [&]() -> int32_t {
        if (!g->constrains || g->awaiting) return 0;
        work w(g->budget);
        mask(g->rules, g->at, g->vocab, g->pieces, cur, w);
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
            state next = accept_token(g->rules, g->at, token, piece, w);
            if (next.stacks.empty()) throw std::logic_error("the grammar refused a token it allowed");
            g->at = std::move(next);
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
        state next = g->at;
        if (by_token) {
            next = accept_token(g->rules, next, token, piece, w);
            if (next.stacks.empty()) return 0;
        } else {
            std::vector<std::pair<llama_token, long>> replay = g->tail_tokens;
            replay.emplace_back(token, (long) g->tail.size());
            for (size_t i = 0; i < replay.size(); i++) {
                const long tok_start = replay[i].second;
                const long tok_end   = i + 1 < replay.size() ? replay[i + 1].second : (long) text.size();
                if (tok_end <= (long) start) continue;
                const long piece_start = std::max(tok_start, (long) start);
                next = accept_token(g->rules, next, replay[i].first, text.substr((size_t) piece_start, (size_t) (tok_end - piece_start)), w);
                if (next.stacks.empty()) return 0;
            }
        }
        g->at       = std::move(next);
        g->awaiting = false;
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
