// hearth_shim.c — the only C in Hearth.
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

#define EXPORT __attribute__((visibility("default")))

// ---------------------------------------------------------------------------------------------
// Logging: llama.cpp's log lines go into a bounded buffer that TypeScript drains into its own
// logger. Lines below the minimum level are dropped in C (model load prints hundreds).

static pthread_mutex_t log_mutex = PTHREAD_MUTEX_INITIALIZER;
static char   log_buf[1 << 16];
static size_t log_len = 0;
static int    log_min_level = GGML_LOG_LEVEL_WARN;
static int    log_last_level = GGML_LOG_LEVEL_INFO;

static void log_callback(enum ggml_log_level level, const char * text, void * user_data) {
    (void) user_data;
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

EXPORT struct llama_model * hearth_model_load(const char * path, int32_t n_gpu_layers, int32_t use_mmap,
                                              int32_t vocab_only, int32_t progress_fd) {
    struct llama_model_params params = llama_model_default_params();
    struct load_progress progress = { progress_fd, -1 };
    params.n_gpu_layers = n_gpu_layers;
    params.load_mode    = use_mmap ? LLAMA_LOAD_MODE_MMAP : LLAMA_LOAD_MODE_NONE;
    params.vocab_only   = vocab_only != 0;
    if (progress_fd >= 0) {
        params.progress_callback = progress_callback;
        params.progress_callback_user_data = &progress;
    }
    return llama_model_load_from_file(path, params);
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
                                                 int32_t embeddings, int32_t kv_f32, int32_t * abort_flag) {
    struct llama_context_params params = llama_context_default_params();
    // f32 K/V cache: exact logits for comparisons with a reference (default f16 rounds them).
    if (kv_f32) {
        params.type_k = GGML_TYPE_F32;
        params.type_v = GGML_TYPE_F32;
    }
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
// Also keeps llama.cpp from aborting: the grammar only ever accepts a token it allowed
// (accepting anything else throws through the C API), and the chain never runs on logits that
// are all -inf. Single-threaded: one candidates buffer per process (the runner's token loop).

static llama_token_data * cand_buf = NULL;
static size_t             cand_cap = 0;

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

static bool grammar_allows(struct llama_sampler * grammar, llama_token token) {
    llama_token_data one = { token, 1.0f, 0.0f };
    llama_token_data_array arr = { &one, 1, -1, false };
    llama_sampler_apply(grammar, &arr);
    return one.logit != -INFINITY;
}

// Returns the sampled token (already accepted by grammar and chain), or
//   -1: the grammar is complete (it allows only end-of-generation) but end-of-generation is
//       banned (eog_banned, e.g. ignore_eos): the output is finished;
//   -2: the grammar allows no token at all here (no token of this vocabulary can continue it);
//   -3: no logits for idx / out of memory.
EXPORT int32_t hearth_sample_grammar(struct llama_sampler * chain, struct llama_sampler * grammar,
                                     struct llama_context * ctx, int32_t idx, int32_t n_vocab, int32_t eog_banned) {
    const struct llama_vocab * vocab = llama_model_get_vocab(llama_get_model(ctx));
    llama_token_data_array cur;
    if (!fill_candidates(ctx, idx, n_vocab, &cur)) return -3;
    llama_sampler_apply(chain, &cur);
    if (cur.selected >= 0 && cur.data[cur.selected].logit != -INFINITY) {
        llama_token id = cur.data[cur.selected].id;
        if (grammar_allows(grammar, id)) {
            llama_sampler_accept(grammar, id);
            llama_sampler_accept(chain, id);
            return id;
        }
    }
    // Resample from what the grammar allows.
    if (!fill_candidates(ctx, idx, n_vocab, &cur)) return -3;
    llama_sampler_apply(grammar, &cur);
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
    if (!grammar_allows(grammar, id)) return -2;
    llama_sampler_accept(grammar, id);
    llama_sampler_accept(chain, id);
    return id;
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
