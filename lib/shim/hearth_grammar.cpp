// hearth_grammar.cpp — llama.cpp's grammar sampler behind calls that never throw.
//
// llama.cpp's grammar reports a token it cannot take by throwing a C++ exception through its C API
// (llama_sampler_accept). Nothing on the way up can catch it — the shim's C frames, bun:ffi — so
// the runner terminates, with every request on its model. The shim only feeds the grammar tokens
// its mask allowed, which covers an active grammar; a lazy one is the exception. While it awaits
// its trigger it masks nothing and buffers the output; when a token completes a trigger, it replays
// the buffered text from the trigger on — the rest of that token included — into the grammar, and
// throws if that text breaks it: a model that writes `<tool_call` and then `>\n\n` as plain text,
// against a grammar that wants "<tool_call>\n{", kills the runner. No mask can see that coming.
//
// So this file tracks what the lazy grammar has buffered (the trigger words are plain text: the
// pattern is built here from the escaped words), and a token that completes a trigger is tried on
// a copy of the grammar first: the copy becomes the grammar if it takes the token, and the token
// is refused (the grammar unchanged) if it throws. The copy costs one clone of the rules, once
// per trigger. Every other call is wrapped too: an exception marks the grammar unusable instead.

#include "hearth_grammar.h"

#include <cmath>
#include <string>
#include <vector>

struct hearth_grammar {
    llama_sampler *            smpl = nullptr;
    const llama_vocab *        vocab = nullptr;
    bool                       awaiting = false;  // a lazy grammar before its trigger
    bool                       broken = false;    // llama.cpp threw where it should not: refuse everything
    std::vector<std::string>   words;
    std::vector<llama_token>   tokens;
    size_t                     keep = 0;          // bytes of output that can start a word: longest word - 1
    std::string                tail;              // the last `keep` bytes of the output while awaiting
};

// llama.cpp builds a trigger word's pattern so (llama_sampler_init_grammar_impl): any text, then
// the word, then any text. The word is escaped, so the std::regex always compiles.
static std::string trigger_pattern(const std::vector<std::string> & words) {
    std::string pattern = "[\\s\\S]*?(";
    for (size_t i = 0; i < words.size(); i++) {
        if (i > 0) pattern += "|";
        for (char c : words[i]) {
            if (std::string(".^$|()*+?[]{}\\").find(c) != std::string::npos) pattern += '\\';
            pattern += c;
        }
    }
    return pattern + ")[\\s\\S]*";
}

// The text llama.cpp's grammar buffers for a token (its piece with special tokens rendered).
static std::string token_piece(const llama_vocab * vocab, llama_token token) {
    std::string piece(32, '\0');
    int32_t n = llama_token_to_piece(vocab, token, &piece[0], (int32_t) piece.size(), 0, true);
    if (n < 0) {
        piece.resize((size_t) -n);
        n = llama_token_to_piece(vocab, token, &piece[0], (int32_t) piece.size(), 0, true);
    }
    piece.resize(n > 0 ? (size_t) n : 0);
    return piece;
}

// Whether accepting `token` (its piece) would fire the trigger of a grammar awaiting it. The
// buffered text holds no word yet (else the trigger had fired), so only a word that ends in this
// piece can appear: the last `keep` bytes before it are all that matter.
static bool completes_trigger(const hearth_grammar & g, llama_token token, const std::string & piece) {
    for (llama_token t : g.tokens) if (t == token) return true;
    const std::string text = g.tail + piece;
    for (const std::string & w : g.words) if (text.find(w) != std::string::npos) return true;
    return false;
}

extern "C" struct hearth_grammar * hearth_grammar_new(const struct llama_vocab * vocab, const char * gbnf, int32_t lazy,
                                                      const char * const * words, int32_t n_words,
                                                      const llama_token * tokens, int32_t n_tokens) {
    hearth_grammar * g = nullptr;
    try {
        g = new hearth_grammar();
        g->vocab = vocab;
        if (lazy) {
            for (int32_t i = 0; i < n_words; i++) {
                g->words.emplace_back(words[i]);
                if (g->words.back().size() > g->keep + 1) g->keep = g->words.back().size() - 1;
            }
            g->tokens.assign(tokens, tokens + (n_tokens > 0 ? n_tokens : 0));
            std::string pattern = trigger_pattern(g->words);
            const char * patterns[1] = { pattern.c_str() };
            g->smpl = llama_sampler_init_grammar_lazy_patterns(vocab, gbnf, "root", g->words.empty() ? nullptr : patterns,
                                                              g->words.empty() ? 0 : 1, g->tokens.data(), g->tokens.size());
            g->awaiting = true;
        } else {
            g->smpl = llama_sampler_init_grammar(vocab, gbnf, "root");
        }
    } catch (...) {
        if (g != nullptr && g->smpl != nullptr) llama_sampler_free(g->smpl);
        delete g;
        return nullptr;
    }
    if (g->smpl == nullptr) {
        delete g;
        return nullptr;
    }
    return g;
}

extern "C" void hearth_grammar_free(struct hearth_grammar * g) {
    if (g == nullptr) return;
    llama_sampler_free(g->smpl);
    delete g;
}

extern "C" int32_t hearth_grammar_apply(struct hearth_grammar * g, llama_token_data_array * cur) {
    if (g->broken) return -1;
    try {
        llama_sampler_apply(g->smpl, cur);
        return 0;
    } catch (...) {
        g->broken = true;
        return -1;
    }
}

extern "C" int32_t hearth_grammar_accept(struct hearth_grammar * g, llama_token token) {
    if (g->broken) return -1;
    try {
        llama_token_data one = { token, 1.0f, 0.0f };
        llama_token_data_array arr = { &one, 1, -1, false };
        llama_sampler_apply(g->smpl, &arr);
        if (one.logit == -INFINITY) return 0;
        if (!g->awaiting) {
            llama_sampler_accept(g->smpl, token);
            return 1;
        }
        const std::string piece = token_piece(g->vocab, token);
        if (!completes_trigger(*g, token, piece)) {
            llama_sampler_accept(g->smpl, token);  // only buffers the text
            g->tail += piece;
            if (g->tail.size() > g->keep) g->tail.erase(0, g->tail.size() - g->keep);
            return 1;
        }
        llama_sampler * trial = llama_sampler_clone(g->smpl);
        if (trial == nullptr) throw std::bad_alloc();
        try {
            llama_sampler_accept(trial, token);
        } catch (...) {
            llama_sampler_free(trial);
            return 0;
        }
        llama_sampler_free(g->smpl);
        g->smpl = trial;
        g->awaiting = false;
        g->tail.clear();
        return 1;
    } catch (...) {
        g->broken = true;
        return -1;
    }
}
