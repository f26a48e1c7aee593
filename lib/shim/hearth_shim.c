// hearth_shim.c — the C in Hearth (with hearth_grammar.cpp, which catches what llama.cpp's grammar
// throws).
//
// bun:ffi cannot pass or return structs by value. llama.h does so in a few places
// (default params, llama_batch, llama_decode, sampler chain params); this shim wraps exactly
// those behind scalar/pointer signatures, and keeps the callbacks that llama.cpp calls from its
// own threads (log, load progress, abort) in C, where they are cheap and safe. Grammar-constrained
// sampling is here too: it walks a vocabulary-sized candidate array every token.
// It also exports sizeof/offsetof of every struct TypeScript reads or writes, so a test can
// prove the TypeScript layout matches the compiler's.

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include "llama.h"
#include "hearth_grammar.h"

#define EXPORT __attribute__((visibility("default")))

// ---------------------------------------------------------------------------------------------
// Logging: llama.cpp's log lines go into a bounded buffer that TypeScript drains into its own
// logger. Lines below the minimum level are dropped in C (model load prints hundreds).

static pthread_mutex_t log_mutex = PTHREAD_MUTEX_INITIALIZER;
static char   log_buf[1 << 16];
static size_t log_len = 0;
static int    log_min_level = GGML_LOG_LEVEL_WARN;
static int    log_last_level = GGML_LOG_LEVEL_INFO;

// Where the loader put each layer: llama.cpp reports it only as debug log lines
// ("load_tensors: layer   3 assigned to device RPC0, is_swa = 0"), so those are kept apart from
// the level filter and handed to TypeScript after a load (hearth_placement_take).
static char   placement_buf[1 << 15];
static size_t placement_len = 0;
static const char PLACEMENT_PREFIX[] = "load_tensors: layer ";

static void keep_placement(const char * text) {
    size_t n = strlen(text);
    pthread_mutex_lock(&log_mutex);
    if (placement_len + n < sizeof(placement_buf)) {
        memcpy(placement_buf + placement_len, text, n);
        placement_len += n;
    }
    pthread_mutex_unlock(&log_mutex);
}

static void log_callback(enum ggml_log_level level, const char * text, void * user_data) {
    (void) user_data;
    if (text != NULL && strncmp(text, PLACEMENT_PREFIX, sizeof(PLACEMENT_PREFIX) - 1) == 0) keep_placement(text);
    // CONT continues the previous line at the previous line's level.
    int effective = level == GGML_LOG_LEVEL_CONT ? log_last_level : (int) level;
    if (level != GGML_LOG_LEVEL_CONT) log_last_level = level;
    if (effective < log_min_level || text == NULL) return;
    pthread_mutex_lock(&log_mutex);
    size_t n = strlen(text);
    if (log_len + n + 2 < sizeof(log_buf)) {
        // Each new record starts with its level digit so TypeScript can route it.
        if (level != GGML_LOG_LEVEL_CONT) log_buf[log_len++] = (char) ('0' + effective);
        memcpy(log_buf + log_len, text, n);
        log_len += n;
    }
    pthread_mutex_unlock(&log_mutex);
}

// level: minimum ggml_log_level to keep (1 debug … 4 error, 5 = silent).
EXPORT void hearth_log_init(int32_t min_level) {
    log_min_level = min_level;
    llama_log_set(log_callback, NULL);
}

// Copies buffered log text into out (at most cap bytes), returns bytes copied.
EXPORT int32_t hearth_log_drain(char * out, int32_t cap) {
    pthread_mutex_lock(&log_mutex);
    size_t n = log_len < (size_t) cap ? log_len : (size_t) cap;
    memcpy(out, log_buf, n);
    memmove(log_buf, log_buf + n, log_len - n);
    log_len -= n;
    pthread_mutex_unlock(&log_mutex);
    return (int32_t) n;
}

// Copies the layer-placement lines of the last load into out (at most cap bytes) and clears them.
EXPORT int32_t hearth_placement_take(char * out, int32_t cap) {
    pthread_mutex_lock(&log_mutex);
    size_t n = placement_len < (size_t) cap ? placement_len : (size_t) cap;
    memcpy(out, placement_buf, n);
    placement_len = 0;
    pthread_mutex_unlock(&log_mutex);
    return (int32_t) n;
}

// ---------------------------------------------------------------------------------------------
// RPC workers (ggml-rpc-server), registered as llama-server's --rpc does: through the RPC
// backend's proc address, so the shim links and runs on builds without it (returns -1 there).
// Returns the number of devices the worker offers. ggml aborts when the worker cannot be
// reached; the runner therefore probes every worker before calling this.

EXPORT int32_t hearth_rpc_add_server(const char * endpoint) {
    ggml_backend_reg_t rpc = ggml_backend_reg_by_name("RPC");
    if (rpc == NULL) return -1;
    typedef ggml_backend_reg_t (*add_server_fn)(const char * endpoint);
    add_server_fn add = (add_server_fn) ggml_backend_reg_get_proc_address(rpc, "ggml_backend_rpc_add_server");
    if (add == NULL) return -2;
    ggml_backend_reg_t reg = add(endpoint);
    if (reg == NULL) return 0;
    ggml_backend_register(reg);
    return (int32_t) ggml_backend_reg_dev_count(reg);
}

// Writes one line per backend device: "name\tdescription\ttype\n" (type: ggml_backend_dev_type).
// Returns the bytes needed (may exceed cap: call again with a bigger buffer).
EXPORT int32_t hearth_devices(char * out, int32_t cap) {
    size_t used = 0;
    for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
        ggml_backend_dev_t dev = ggml_backend_dev_get(i);
        char line[512];
        int n = snprintf(line, sizeof(line), "%s\t%s\t%d\n", ggml_backend_dev_name(dev),
                         ggml_backend_dev_description(dev), (int) ggml_backend_dev_type(dev));
        if (n < 0) continue;
        if (n >= (int) sizeof(line)) n = (int) sizeof(line) - 1;
        if (used + (size_t) n <= (size_t) cap) memcpy(out + used, line, (size_t) n);
        used += (size_t) n;
    }
    return (int32_t) used;
}

// ---------------------------------------------------------------------------------------------
// Quantization: llama_model_quantize_default_params returns its struct by value. Tensors that
// cannot take the type (1-D norms, rows not a multiple of the block) stay as llama.cpp decides.

EXPORT uint32_t hearth_model_quantize(const char * fname_inp, const char * fname_out, int32_t ftype, int32_t nthread) {
    llama_model_quantize_params params = llama_model_quantize_default_params();
    params.ftype = (enum llama_ftype) ftype;
    params.nthread = nthread;
    return llama_model_quantize(fname_inp, fname_out, &params);
}

// ---------------------------------------------------------------------------------------------
// Model loading. Progress is written as a "\x1ehearth-load <permille>\n" line to progress_fd (the
// runner's stderr, which the supervisor reads) because the loading thread is blocked inside
// llama.cpp and cannot run JavaScript.

struct load_progress { int fd; int last; };

static bool progress_callback(float progress, void * user_data) {
    struct load_progress * p = (struct load_progress *) user_data;
    int permille = (int) (progress * 1000.0f);
    if (p->fd >= 0 && permille / 10 != p->last / 10) {
        char line[32];
        int n = snprintf(line, sizeof(line), "\x1ehearth-load %d\n", permille);
        if (write(p->fd, line, (size_t) n) < 0) { /* the reader went away: keep loading */ }
        p->last = permille;
    }
    return true;
}

// tensor_split: n_split weights, one per offload device in llama.cpp's order (RPC workers first,
// then local GPUs); NULL or all zero = llama.cpp's default (by free memory).
// read_weights: read the weights into memory with direct I/O (llama.cpp falls back to buffered
// reads where the file system has none) instead of mapping the file.
EXPORT struct llama_model * hearth_model_load(const char * path, int32_t n_gpu_layers, int32_t read_weights,
                                              int32_t vocab_only, int32_t progress_fd,
                                              const float * tensor_split, int32_t n_split) {
    struct llama_model_params params = llama_model_default_params();
    struct load_progress progress = { progress_fd, -1 };
    // llama.cpp reads llama_max_devices() floats from tensor_split and keeps its own copy.
    size_t max_devices = llama_max_devices();
    float * split = NULL;
    if (tensor_split != NULL && n_split > 0) {
        split = (float *) calloc(max_devices, sizeof(float));
        if (split == NULL) return NULL;
        memcpy(split, tensor_split, sizeof(float) * (size_t) (n_split < (int32_t) max_devices ? n_split : (int32_t) max_devices));
        params.tensor_split = split;
    }
    pthread_mutex_lock(&log_mutex);
    placement_len = 0;
    pthread_mutex_unlock(&log_mutex);
    params.n_gpu_layers = n_gpu_layers;
    params.load_mode    = read_weights ? LLAMA_LOAD_MODE_DIRECT_IO : LLAMA_LOAD_MODE_MMAP;
    params.vocab_only   = vocab_only != 0;
    if (progress_fd >= 0) {
        params.progress_callback = progress_callback;
        params.progress_callback_user_data = &progress;
    }
    struct llama_model * model = llama_model_load_from_file(path, params);
    free(split);
    return model;
}

// ---------------------------------------------------------------------------------------------
// Context. The abort flag is memory TypeScript owns (e.g. a shared mmap written by the
// supervisor process); llama.cpp polls it between graph nodes.

static bool abort_callback(void * data) {
    return data != NULL && __atomic_load_n((volatile int32_t *) data, __ATOMIC_RELAXED) != 0;
}

EXPORT struct llama_context * hearth_context_new(struct llama_model * model, uint32_t n_ctx, uint32_t n_batch,
                                                 uint32_t n_ubatch, uint32_t n_seq_max, int32_t n_threads,
                                                 int32_t n_threads_batch, int32_t kv_unified, int32_t flash_attn,
                                                 int32_t embeddings, int32_t kv_f32, int32_t * abort_flag,
                                                 int32_t type_k, int32_t type_v) {
    struct llama_context_params params = llama_context_default_params();
    // f32 K/V cache: exact logits for comparisons with a reference (default f16 rounds them).
    if (kv_f32) {
        params.type_k = GGML_TYPE_F32;
        params.type_v = GGML_TYPE_F32;
    }
    // -ctk / -ctv: a ggml_type id each, -1 keeps the default. (Appended after abort_flag so that a
    // caller built for the older signature still passes its arguments in the same registers.)
    if (type_k >= 0) params.type_k = (enum ggml_type) type_k;
    if (type_v >= 0) params.type_v = (enum ggml_type) type_v;
    params.n_ctx           = n_ctx;
    params.n_batch         = n_batch;
    params.n_ubatch        = n_ubatch;
    params.n_seq_max       = n_seq_max;
    params.n_threads       = n_threads;
    params.n_threads_batch = n_threads_batch;
    params.kv_unified      = kv_unified != 0;
    params.flash_attn_type = (enum llama_flash_attn_type) flash_attn;
    params.embeddings      = embeddings != 0;
    params.no_perf         = true;
    if (abort_flag != NULL) {
        params.abort_callback      = abort_callback;
        params.abort_callback_data = abort_flag;
    }
    return llama_init_from_model(model, params);
}

// ---------------------------------------------------------------------------------------------
// Decode. TypeScript keeps flat arrays (token, pos, seq id, wants-logits); the shim owns one
// llama_batch per call site and fills it. One sequence id per token is all the engine needs.

struct hearth_batch { struct llama_batch batch; int32_t capacity; };

EXPORT struct hearth_batch * hearth_batch_new(int32_t capacity) {
    struct hearth_batch * b = (struct hearth_batch *) calloc(1, sizeof(struct hearth_batch));
    if (b == NULL) return NULL;
    b->batch = llama_batch_init(capacity, 0, 1);
    b->capacity = capacity;
    return b;
}

EXPORT void hearth_batch_free(struct hearth_batch * b) {
    if (b == NULL) return;
    llama_batch_free(b->batch);
    free(b);
}

// Returns llama_decode's result, or -100 when n exceeds the batch's capacity.
EXPORT int32_t hearth_decode(struct llama_context * ctx, struct hearth_batch * b, const int32_t * tokens,
                             const int32_t * pos, const int32_t * seq_ids, const int8_t * logits, int32_t n) {
    if (n <= 0 || n > b->capacity) return -100;
    struct llama_batch * batch = &b->batch;
    batch->n_tokens = n;
    memcpy(batch->token, tokens, sizeof(int32_t) * (size_t) n);
    memcpy(batch->pos, pos, sizeof(int32_t) * (size_t) n);
    memcpy(batch->logits, logits, (size_t) n);
    for (int32_t i = 0; i < n; i++) {
        batch->n_seq_id[i] = 1;
        batch->seq_id[i][0] = seq_ids[i];
    }
    return llama_decode(ctx, *batch);
}

// ---------------------------------------------------------------------------------------------
// Samplers whose constructors take a struct by value.

EXPORT struct llama_sampler * hearth_sampler_chain_new(void) {
    struct llama_sampler_chain_params params = llama_sampler_chain_default_params();
    params.no_perf = true;
    return llama_sampler_chain_init(params);
}

// ---------------------------------------------------------------------------------------------
// Grammar-constrained sampling, as llama.cpp's common_sampler_sample (common/sampling.cpp) does it:
// the grammar sampler lives outside the chain. The chain first picks from the raw logits; if the
// grammar rejects that token, the logits are masked by the grammar and the chain picks again
// (rejection sampling: checking one token is far cheaper than masking the whole vocabulary).
//
// Also keeps llama.cpp from aborting: the grammar (hearth_grammar.cpp, whose calls never throw and
// whose work is bounded) only ever takes a token it allows, and the chain never runs on logits that
// are all -inf. A lazy grammar may refuse a token its mask let through (one that completes a
// trigger in a way the grammar does not allow): that token is masked too and the chain picks again.
// Single-threaded: one candidates buffer per process (the runner's token loop).

static llama_token_data * cand_buf = NULL;
static size_t             cand_cap = 0;
// The candidates of the last hearth_sample / hearth_sample_grammar call, as the chain left them
// (for post-sampling probabilities); valid until the next sample.
static llama_token_data_array last_cur = { NULL, 0, -1, false };

static int fill_candidates(struct llama_context * ctx, int32_t idx, int32_t n_vocab, llama_token_data_array * cur) {
    const float * logits = llama_get_logits_ith(ctx, idx);
    if (logits == NULL || n_vocab <= 0) return 0;
    if (cand_cap < (size_t) n_vocab) {
        llama_token_data * grown = (llama_token_data *) realloc(cand_buf, sizeof(llama_token_data) * (size_t) n_vocab);
        if (grown == NULL) return 0;
        cand_buf = grown;
        cand_cap = (size_t) n_vocab;
    }
    for (int32_t t = 0; t < n_vocab; t++) {
        cand_buf[t].id = t;
        cand_buf[t].logit = logits[t];
        cand_buf[t].p = 0.0f;
    }
    cur->data = cand_buf;
    cur->size = (size_t) n_vocab;
    cur->selected = -1;
    cur->sorted = false;
    return 1;
}

// Most tokens a lazy grammar may refuse in one sample before the sample gives up (-2). Each refused
// token completes a trigger word; few tokens of a vocabulary do, and each is masked once refused.
#define MAX_REFUSED 32

// Returns the sampled token (already accepted by grammar and chain), or
//   -1: the grammar is complete (it allows only end-of-generation) but end-of-generation is
//       banned (eog_banned, e.g. ignore_eos): the output is finished;
//   -2: the grammar allows no token at all here (no token of this vocabulary can continue it);
//   -3: no logits for idx / out of memory;
//   -4: the grammar failed (out of memory, an inconsistency): it is unusable;
//   -5: the grammar is too ambiguous: more than HEARTH_GRAMMAR_MAX_STACKS parse stacks;
//   -6: the grammar is too ambiguous: one token needs more steps than its bound (hearth_grammar.h).
static int32_t grammar_stop(int32_t code) {
    if (code == HEARTH_GRAMMAR_TOO_MANY_STACKS) return -5;
    if (code == HEARTH_GRAMMAR_TOO_MANY_STEPS) return -6;
    return -4;
}

EXPORT int32_t hearth_sample_grammar(struct llama_sampler * chain, struct hearth_grammar * grammar,
                                     struct llama_context * ctx, int32_t idx, int32_t n_vocab, int32_t eog_banned) {
    const struct llama_vocab * vocab = llama_model_get_vocab(llama_get_model(ctx));
    llama_token refused[MAX_REFUSED];
    int32_t n_refused = 0;
    llama_token_data_array cur;
    if (!fill_candidates(ctx, idx, n_vocab, &cur)) return -3;
    llama_sampler_apply(chain, &cur);
    if (cur.selected >= 0 && cur.data[cur.selected].logit != -INFINITY) {
        llama_token id = cur.data[cur.selected].id;
        int32_t taken = hearth_grammar_accept(grammar, id);
        if (taken < 0) return grammar_stop(taken);
        if (taken > 0) {
            llama_sampler_accept(chain, id);
            last_cur = cur;
            return id;
        }
        refused[n_refused++] = id;
    }
    // Resample from what the grammar allows, less what it refused.
    for (;;) {
        if (!fill_candidates(ctx, idx, n_vocab, &cur)) return -3;
        int32_t masked = hearth_grammar_apply(grammar, &cur);
        if (masked < 0) return grammar_stop(masked);
        for (int32_t j = 0; j < n_refused; j++) cur.data[refused[j]].logit = -INFINITY;  // data[t].id == t here
        bool any = false, any_text = false;
        for (size_t i = 0; i < cur.size; i++) {
            if (cur.data[i].logit == -INFINITY) continue;
            any = true;
            if (!llama_vocab_is_eog(vocab, cur.data[i].id)) { any_text = true; break; }
        }
        if (!any) return -2;
        if (!any_text && eog_banned) return -1;
        llama_sampler_apply(chain, &cur);
        if (cur.selected < 0 || cur.data[cur.selected].logit == -INFINITY) return -2;
        llama_token id = cur.data[cur.selected].id;
        int32_t taken = hearth_grammar_accept(grammar, id);
        if (taken < 0) return grammar_stop(taken);
        if (taken > 0) {
            llama_sampler_accept(chain, id);
            last_cur = cur;
            return id;
        }
        if (n_refused == MAX_REFUSED) return -2;
        refused[n_refused++] = id;
    }
}

// llama_sampler_sample's CPU path (same candidates, same chain, same RNG draws), keeping the
// candidates so that hearth_sampled_probs can read the distribution the token was drawn from.
// Returns the token (accepted by the chain), or -3 (no logits / out of memory).
EXPORT int32_t hearth_sample(struct llama_sampler * chain, struct llama_context * ctx, int32_t idx, int32_t n_vocab) {
    llama_token_data_array cur;
    if (!fill_candidates(ctx, idx, n_vocab, &cur)) return -3;
    llama_sampler_apply(chain, &cur);
    if (cur.selected < 0 || (size_t) cur.selected >= cur.size) return -3;
    llama_token id = cur.data[cur.selected].id;
    llama_sampler_accept(chain, id);
    last_cur = cur;
    return id;
}

// The pick of a chain that is only logit bias + greedy (temperature 0: the common case, and every
// benchmark's), without the n_vocab candidates array llama_sampler_sample fills and scans (at
// Qwen's 151,936 tokens, 1.8 MB of writes per token per sequence). Picks what that chain picks for
// finite logits: the first token whose biased logit is greatest. bias_tokens are ascending (the
// caller sorts them once); the unbiased tokens lie in the runs between them, a run's maximum is a
// loop the compiler vectorizes, and the first index holding it is searched for only in the block
// that holds it. Neither sampler keeps state: there is nothing to accept. Returns the token, or -3 when idx has no logits.

#define GREEDY_BLOCK 1024

static float run_max(const float * x, int32_t n) {
    float lane[8] = { -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY };
    int32_t t = 0;
    for (; t + 8 <= n; t += 8) {
        for (int j = 0; j < 8; j++) lane[j] = lane[j] > x[t + j] ? lane[j] : x[t + j];
    }
    for (; t < n; t++) lane[0] = lane[0] > x[t] ? lane[0] : x[t];
    float m = lane[0];
    for (int j = 1; j < 8; j++) m = m > lane[j] ? m : lane[j];
    return m;
}

// End of the run of unbiased tokens before bias j (n_vocab after the last), kept in [-1, n_vocab].
static int32_t run_end(const int32_t * bias_tokens, int32_t n_bias, int32_t j, int32_t n_vocab) {
    if (j >= n_bias || bias_tokens[j] >= n_vocab) return n_vocab;
    return bias_tokens[j] < 0 ? -1 : bias_tokens[j];
}

EXPORT int32_t hearth_sample_greedy(struct llama_context * ctx, int32_t idx, int32_t n_vocab,
                                    const int32_t * bias_tokens, const float * bias_values, int32_t n_bias) {
    const float * logits = llama_get_logits_ith(ctx, idx);
    if (logits == NULL || n_vocab <= 0 || n_bias < 0) return -3;
    // The greatest unbiased logit, and the first block of GREEDY_BLOCK that holds it: a later block
    // replaces it only when strictly greater. One pass over the logits; the search for the first
    // token holding the maximum is then within that block (it was a second pass, half the
    // vocabulary on average, one compare at a time).
    float best_value = -INFINITY;
    int32_t block_from = -1, block_to = -1;
    for (int32_t j = 0, from = 0; j <= n_bias; from = run_end(bias_tokens, n_bias, j++, n_vocab) + 1) {
        const int32_t to = run_end(bias_tokens, n_bias, j, n_vocab);
        for (int32_t b = from; b < to; b += GREEDY_BLOCK) {
            const int32_t e = to - b < GREEDY_BLOCK ? to : b + GREEDY_BLOCK;
            const float m = run_max(logits + b, e - b);
            if (m > best_value) {
                best_value = m;
                block_from = b;
                block_to = e;
            }
        }
    }
    int32_t best = -1;
    for (int32_t t = block_from; t >= 0 && t < block_to; t++) {
        if (logits[t] == best_value) { best = t; break; }
    }
    // Every unbiased logit -inf (or NaN): the first one that equals the maximum, as before.
    for (int32_t j = 0, from = 0; j <= n_bias && best < 0 && block_from < 0; from = run_end(bias_tokens, n_bias, j++, n_vocab) + 1) {
        const int32_t to = run_end(bias_tokens, n_bias, j, n_vocab);
        for (int32_t t = from; t < to; t++) {
            if (logits[t] == best_value) { best = t; break; }
        }
    }
    // A biased token beats it when greater, or equal and earlier (greedy keeps the first maximum).
    for (int32_t j = 0; j < n_bias; j++) {
        const int32_t t = bias_tokens[j];
        if (t < 0 || t >= n_vocab) continue;
        const float v = logits[t] + bias_values[j];
        if (best < 0 || v > best_value || (v == best_value && t < best)) {
            best = t;
            best_value = v;
        }
    }
    return best < 0 ? 0 : best;
}

// The k greatest values seen so far, greatest first, in ids/values (n of them, n <= k): inserts
// (id, v) when it ranks, dropping the smallest when full. An equal value goes after those already
// there, so ties keep the order they were seen in. Returns the new count.
static inline int32_t top_k_insert(int32_t * ids, float * values, int32_t n, int32_t k, int32_t id, float v) {
    if (k == 0 || (n == k && v <= values[k - 1])) return n;
    int32_t j = n < k ? n++ : k - 1;
    while (j > 0 && values[j - 1] < v) {
        values[j] = values[j - 1];
        ids[j] = ids[j - 1];
        j--;
    }
    values[j] = v;
    ids[j] = id;
    return n;
}

// Probabilities after the sampler chain of the last sample (llama-server's post_sampling_probs):
// the sampled token's, and the k most probable candidates with p > 0 (most probable first). A
// greedy chain computes no probabilities: its pick had probability 1. Returns the count written,
// or -1 when there was no sample.
EXPORT int32_t hearth_sampled_probs(int32_t token, int32_t k, int32_t * top_ids, float * top_probs, float * token_prob) {
    if (last_cur.data == NULL || last_cur.selected < 0 || k < 0) return -1;
    const llama_token_data * sel = &last_cur.data[last_cur.selected];
    if (sel->p == 0.0f) {
        *token_prob = sel->id == token ? 1.0f : 0.0f;
        if (k == 0) return 0;
        top_ids[0] = sel->id;
        top_probs[0] = 1.0f;
        return 1;
    }
    *token_prob = 0.0f;
    int32_t n = 0;
    for (size_t i = 0; i < last_cur.size; i++) {
        const llama_token_data * c = &last_cur.data[i];
        if (c->id == token) *token_prob = c->p;
        if (c->p > 0.0f) n = top_k_insert(top_ids, top_probs, n, k, c->id, c->p);
    }
    return n;
}

// ---------------------------------------------------------------------------------------------
// Log-probabilities of the model's own distribution at batch index idx (log-softmax of the raw
// logits): the sampled token's, and the k most likely tokens' (most likely first, lower id first on
// ties). One pass for the maximum, one for the sum and the top k. Only for requests that ask.
// Returns how many top entries were written (min(k, n_vocab)), or -1 when idx has no logits.

EXPORT int32_t hearth_logprobs(struct llama_context * ctx, int32_t idx, int32_t n_vocab, int32_t token, int32_t k,
                               int32_t * top_ids, float * top_logprobs, float * token_logprob) {
    const float * logits = llama_get_logits_ith(ctx, idx);
    if (logits == NULL || n_vocab <= 0 || token < 0 || token >= n_vocab || k < 0) return -1;
    float max = -INFINITY;
    for (int32_t i = 0; i < n_vocab; i++) if (logits[i] > max) max = logits[i];
    double sum = 0.0;
    int32_t n = 0;
    for (int32_t i = 0; i < n_vocab; i++) {
        const float v = logits[i];
        sum += expf(v - max);
        n = top_k_insert(top_ids, top_logprobs, n, k, i, v);
    }
    const float log_z = max + (float) log(sum);
    for (int32_t j = 0; j < n; j++) top_logprobs[j] -= log_z;
    *token_logprob = logits[token] - log_z;
    return n;
}

// ---------------------------------------------------------------------------------------------
// Layout of the structs TypeScript reads or writes (checked by test/llama/layout.test.ts).

#define LAYOUT(name, expr) if (strcmp(key, name) == 0) return (int32_t) (expr)

EXPORT int32_t hearth_layout(const char * key) {
    LAYOUT("llama_token_data.size", sizeof(llama_token_data));
    LAYOUT("llama_token_data.id", offsetof(llama_token_data, id));
    LAYOUT("llama_token_data.logit", offsetof(llama_token_data, logit));
    LAYOUT("llama_token_data.p", offsetof(llama_token_data, p));
    LAYOUT("llama_token_data_array.size", sizeof(llama_token_data_array));
    LAYOUT("llama_token_data_array.data", offsetof(llama_token_data_array, data));
    LAYOUT("llama_token_data_array.size_field", offsetof(llama_token_data_array, size));
    LAYOUT("llama_token_data_array.selected", offsetof(llama_token_data_array, selected));
    LAYOUT("llama_token_data_array.sorted", offsetof(llama_token_data_array, sorted));
    LAYOUT("llama_logit_bias.size", sizeof(llama_logit_bias));
    LAYOUT("llama_logit_bias.token", offsetof(llama_logit_bias, token));
    LAYOUT("llama_logit_bias.bias", offsetof(llama_logit_bias, bias));
    LAYOUT("llama_chat_message.size", sizeof(llama_chat_message));
    LAYOUT("llama_chat_message.role", offsetof(llama_chat_message, role));
    LAYOUT("llama_chat_message.content", offsetof(llama_chat_message, content));
    return -1;
}
