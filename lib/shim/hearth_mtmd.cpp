// hearth_mtmd.cpp — the runner's door to libmtmd (llama.cpp's tools/mtmd: image decoding, the
// vision encoder, chunked prompts), for vision models.
//
// Why a shim: mtmd_context_params goes in by value, mtmd_helper_bitmap_init_from_buf returns a
// struct by value, and several calls count in size_t (a BigInt through bun:ffi). Every function
// here takes and returns scalars or pointers, and nothing here lets a C++ exception out (it would
// abort the runner): each entry point catches and answers with an error code.
//
// Ownership: a context (hearth_mtmd_init/free), a bitmap (hearth_mtmd_bitmap/_free) and a chunk
// list (hearth_mtmd_tokenize_image/hearth_mtmd_chunks_free) each have one owner on the TypeScript
// side (src/llama/mtmd.ts). Chunks borrowed from a list live as long as the list.

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>

#include "llama.h"
#include "mtmd.h"
#include "mtmd-helper.h"

#define EXPORT extern "C" __attribute__((visibility("default")))

// mtmd logs every image batch at INFO; only warnings and errors reach stderr (the runner's stderr
// goes to the supervisor's log). While a client's bytes are decoded, its errors are not logged:
// an undecodable image is the client's 400, not a server problem (one runner thread calls mtmd).
static bool decoding_client_bytes = false;
static void mtmd_log(enum ggml_log_level level, const char * text, void *) {
    if (text == nullptr || decoding_client_bytes) return;
    if (level == GGML_LOG_LEVEL_WARN || level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

// The projector at `path` for `model`, or null (wrong file, or a projector for another model).
// The marker is never used: prompts are tokenized part by part (hearth_mtmd_tokenize_image).
// warmup off: it only pre-sizes buffers, and costs a full encode of a dummy image at load.
EXPORT mtmd_context * hearth_mtmd_init(const char * path, const llama_model * model, bool use_gpu, int32_t n_threads) {
    try {
        mtmd_helper_log_set(mtmd_log, nullptr);
        mtmd_context_params params = mtmd_context_params_default();
        params.use_gpu = use_gpu;
        params.print_timings = false;
        params.n_threads = n_threads > 0 ? n_threads : params.n_threads;
        params.warmup = false;
        return mtmd_init_from_file(path, model, params);
    } catch (const std::exception & e) {
        fprintf(stderr, "mtmd: %s\n", e.what());
        return nullptr;
    }
}

EXPORT void hearth_mtmd_free(mtmd_context * ctx) { mtmd_free(ctx); }

// Bit 0: takes images; 1: takes audio; 2: positions are M-RoPE (Qwen2-VL family: n_pos of an image
// chunk is less than its token count).
EXPORT int32_t hearth_mtmd_caps(const mtmd_context * ctx) {
    return (mtmd_support_vision(ctx) ? 1 : 0) | (mtmd_support_audio(ctx) ? 2 : 0) | (mtmd_decode_use_mrope(ctx) ? 4 : 0);
}

// Decodes image file bytes (PNG, JPEG, BMP, GIF… : stb_image, the decoder llama-server uses) into
// an RGB bitmap, and names it `id` (Hearth's hash of its pixels, set by the caller afterwards).
// Returns null for bytes that are no image (audio and video are refused here too).
EXPORT mtmd_bitmap * hearth_mtmd_bitmap(const mtmd_context * ctx, const unsigned char * buf, int64_t len) {
    try {
        decoding_client_bytes = true;
        mtmd_helper_bitmap_wrapper w = mtmd_helper_bitmap_init_from_buf(ctx, buf, (size_t) len, false, mtmd_helper_init_opt_default());
        decoding_client_bytes = false;
        if (w.video_ctx != nullptr) {
            mtmd_helper_video_free(w.video_ctx);
            if (w.bitmap) mtmd_bitmap_free(w.bitmap);
            return nullptr;
        }
        if (w.bitmap != nullptr && mtmd_bitmap_is_audio(w.bitmap)) {
            mtmd_bitmap_free(w.bitmap);
            return nullptr;
        }
        return w.bitmap;
    } catch (const std::exception & e) {
        decoding_client_bytes = false;
        fprintf(stderr, "mtmd: %s\n", e.what());
        return nullptr;
    }
}

EXPORT int32_t hearth_mtmd_bitmap_nx(const mtmd_bitmap * b) { return (int32_t) mtmd_bitmap_get_nx(b); }
EXPORT int32_t hearth_mtmd_bitmap_ny(const mtmd_bitmap * b) { return (int32_t) mtmd_bitmap_get_ny(b); }
EXPORT const unsigned char * hearth_mtmd_bitmap_data(const mtmd_bitmap * b) { return mtmd_bitmap_get_data(b); }
EXPORT void hearth_mtmd_bitmap_set_id(mtmd_bitmap * b, const char * id) { mtmd_bitmap_set_id(b, id); }
EXPORT void hearth_mtmd_bitmap_free(mtmd_bitmap * b) { mtmd_bitmap_free(b); }

// One image as mtmd lays it out in a prompt: the model's begin markup (text chunk), the image
// chunk, the end markup (text chunk) — what mtmd_tokenize makes of a lone media marker. Text
// around it is Hearth's to tokenize. Null on a preprocessing error.
EXPORT mtmd_input_chunks * hearth_mtmd_tokenize_image(const mtmd_context * ctx, const mtmd_bitmap * bitmap) {
    mtmd_input_chunks * chunks = mtmd_input_chunks_init();
    try {
        mtmd_input_part part = { nullptr, bitmap };
        const mtmd_input_part * parts[1] = { &part };
        if (mtmd_tokenize_from_parts(ctx, chunks, parts, 1, false) == 0) return chunks;
    } catch (const std::exception & e) {
        fprintf(stderr, "mtmd: %s\n", e.what());
    }
    mtmd_input_chunks_free(chunks);
    return nullptr;
}

EXPORT void hearth_mtmd_chunks_free(mtmd_input_chunks * chunks) { mtmd_input_chunks_free(chunks); }
EXPORT int32_t hearth_mtmd_chunks_size(const mtmd_input_chunks * chunks) { return (int32_t) mtmd_input_chunks_size(chunks); }
EXPORT const mtmd_input_chunk * hearth_mtmd_chunk(const mtmd_input_chunks * chunks, int32_t i) { return mtmd_input_chunks_get(chunks, (size_t) i); }
// 0 text, 1 image, 2 audio (enum mtmd_input_chunk_type).
EXPORT int32_t hearth_mtmd_chunk_type(const mtmd_input_chunk * c) { return (int32_t) mtmd_input_chunk_get_type(c); }
EXPORT int32_t hearth_mtmd_chunk_n_tokens(const mtmd_input_chunk * c) { return (int32_t) mtmd_input_chunk_get_n_tokens(c); }
EXPORT int32_t hearth_mtmd_chunk_n_pos(const mtmd_input_chunk * c) { return (int32_t) mtmd_input_chunk_get_n_pos(c); }
// A text chunk's token ids (n_tokens of them), borrowed from the list.
EXPORT const llama_token * hearth_mtmd_chunk_text(const mtmd_input_chunk * c) {
    size_t n = 0;
    return mtmd_input_chunk_get_tokens_text(c, &n);
}

// Floats one image chunk's embeddings take: n_tokens × the text model's input width.
EXPORT int64_t hearth_mtmd_embd_floats(const llama_model * model, const mtmd_input_chunk * c) {
    return (int64_t) llama_model_n_embd_inp(model) * (int64_t) mtmd_input_chunk_get_n_tokens(c);
}

// Runs the vision encoder on an image chunk and copies its embeddings into `out` (`n_floats`,
// from hearth_mtmd_embd_floats), so they outlive the next encode (Hearth caches them by image).
// 0 on success.
EXPORT int32_t hearth_mtmd_encode(mtmd_context * ctx, const llama_model * model, const mtmd_input_chunk * c, float * out, int64_t n_floats) {
    try {
        if (n_floats != hearth_mtmd_embd_floats(model, c)) return 2;
        if (mtmd_encode_chunk(ctx, c) != 0) return 1;
        const float * embd = mtmd_get_output_embd(ctx);
        if (embd == nullptr) return 1;
        memcpy(out, embd, (size_t) n_floats * sizeof(float));
        return 0;
    } catch (const std::exception & e) {
        fprintf(stderr, "mtmd: %s\n", e.what());
        return 1;
    }
}

// Decodes an image chunk's embeddings into sequence `seq` from position `n_past`, in batches of
// at most n_batch, with the model's attention rules for images (Gemma 3: non-causal; Qwen2-VL:
// M-RoPE positions per patch) — mtmd's helper, which llama-server uses too. 0 on success,
// else llama_decode's code (1: no KV room) or -1 (not an image chunk).
EXPORT int32_t hearth_mtmd_decode_image(mtmd_context * ctx, llama_context * lctx, const mtmd_input_chunk * c, float * embd,
                                        int32_t n_past, int32_t seq, int32_t n_batch) {
    try {
        llama_pos new_n_past = 0;
        return mtmd_helper_decode_image_chunk(ctx, lctx, c, embd, n_past, seq, n_batch, &new_n_past, nullptr, nullptr);
    } catch (const std::exception & e) {
        fprintf(stderr, "mtmd: %s\n", e.what());
        return -2;
    }
}
