// A loaded GGUF model: one owner of the native llama_model, freed by dispose().
import { ptr, type Pointer } from "bun:ffi";
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { cString } from "./cstring.ts";
import { native } from "./library.ts";
import { drainNativeLog, initNativeLog } from "./native-log.ts";
import { Vocab } from "./vocab.ts";

export class ModelLoadError extends Error {
  override name = "ModelLoadError";
}

export type LoadMode = "mmap" | "read";

export interface ModelLoadOptions {
  /** Layers to offload to the GPU; -1 = all (ignored on a CPU build). */
  gpuLayers?: number;
  /**
   * How the weights reach memory: "mmap" maps the file (pages shared with the page cache and
   * other processes); "read" reads them in with direct I/O. Default "mmap".
   */
  loadMode?: LoadMode;
  /** Load only the tokenizer, no weights. */
  vocabOnly?: boolean;
  /** A file descriptor the native loader writes progress to ("<permille>\n" lines). */
  progressFd?: number;
  /** Weights of the offload devices in llama.cpp's order (RPC workers first, then GPUs). */
  tensorSplit?: number[];
}

let backendReady = false;
export function initBackend(): void {
  if (backendReady) return;
  initNativeLog();
  native().llama.llama_backend_init();
  backendReady = true;
}

/** Checks what can be checked before llama.cpp sees the file, so common mistakes get a clear message. */
function checkGgufFile(path: string): void {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new ModelLoadError(`model path is not a file: ${path}`);
    size = st.size;
  } catch (err) {
    if (err instanceof ModelLoadError) throw err;
    throw new ModelLoadError(`model file not found: ${path}`);
  }
  const magic = new Uint8Array(4);
  const fd = openSync(path, "r");
  try {
    readSync(fd, magic, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  if (size < 24 || new TextDecoder().decode(magic) !== "GGUF") {
    throw new ModelLoadError(`not a GGUF file: ${path}`);
  }
}

export class LlamaModel {
  private handle: Pointer | null;
  readonly vocab: Vocab;

  private constructor(handle: Pointer, readonly path: string) {
    this.handle = handle;
    this.vocab = new Vocab(native().llama.llama_model_get_vocab(handle) as Pointer, () => this.ptr);
  }

  static load(path: string, options: ModelLoadOptions = {}): LlamaModel {
    checkGgufFile(path);
    initBackend();
    const split = options.tensorSplit?.length ? new Float32Array(options.tensorSplit) : null;
    const handle = native().shim.hearth_model_load(
      cString(path),
      options.gpuLayers ?? -1,
      options.loadMode === "read" ? 1 : 0,
      options.vocabOnly ? 1 : 0,
      options.progressFd ?? -1,
      split ? ptr(split) : null,
      split?.length ?? 0,
    );
    drainNativeLog();
    if (!handle) throw new ModelLoadError(`llama.cpp could not load ${path} (corrupt, truncated or unsupported GGUF)`);
    return new LlamaModel(handle as Pointer, path);
  }

  /** The native pointer; throws after dispose() so a freed model is never used. */
  get ptr(): Pointer {
    if (!this.handle) throw new Error("model used after dispose()");
    return this.handle;
  }

  get nCtxTrain(): number {
    return native().llama.llama_model_n_ctx_train(this.ptr);
  }

  get nParams(): number {
    return Number(native().llama.llama_model_n_params(this.ptr));
  }

  get sizeBytes(): number {
    return Number(native().llama.llama_model_size(this.ptr));
  }

  get isRecurrent(): boolean {
    return native().llama.llama_model_is_recurrent(this.ptr);
  }

  /** Attention layers and recurrent ones (Jamba, Granite 4, …): its memory holds both kinds. */
  get isHybrid(): boolean {
    return native().llama.llama_model_is_hybrid(this.ptr);
  }

  get nLayer(): number {
    return native().llama.llama_model_n_layer(this.ptr);
  }

  /** The attention window of the model's sliding-window layers (Gemma 2 and 3, …); 0 if it has none. */
  get nSwa(): number {
    return native().llama.llama_model_n_swa(this.ptr);
  }

  get nEmbd(): number {
    return native().llama.llama_model_n_embd(this.ptr);
  }

  /** Width of the model's output vectors (embeddings). */
  get nEmbdOut(): number {
    return native().llama.llama_model_n_embd_out(this.ptr);
  }

  /**
   * The pooling type the GGUF declares (`<arch>.pooling_type`: 1 mean, 2 cls, 3 last, 4 rank), or
   * 0 (none) when it declares none, as generative models do.
   */
  /** Scores a reranker's classifier head gives per sequence (rank pooling). */
  get nClsOut(): number {
    return native().llama.llama_model_n_cls_out(this.ptr);
  }

  get declaredPooling(): number {
    const meta = this.metadata();
    return Number(meta[`${meta["general.architecture"]}.pooling_type`] ?? 0) || 0;
  }

  get description(): string {
    const buf = new Uint8Array(256);
    const n = native().llama.llama_model_desc(this.ptr, buf, buf.length);
    return new TextDecoder().decode(buf.subarray(0, Math.max(0, Math.min(n, buf.length - 1))));
  }

  /** The GGUF's own chat template (tokenizer.chat_template), or a named one; null when absent. */
  chatTemplate(name?: string): string | null {
    const t = native().llama.llama_model_chat_template(this.ptr, name ? cString(name) : null);
    return t ? String(t) : null;
  }

  /** All GGUF key/value metadata as strings (arrays are summarized by llama.cpp). */
  metadata(): Record<string, string> {
    const { llama } = native();
    const out: Record<string, string> = {};
    const count = llama.llama_model_meta_count(this.ptr);
    let buf = new Uint8Array(1024);
    const read = (fn: (b: Uint8Array) => number): string => {
      let n = fn(buf);
      if (n >= buf.length) {
        buf = new Uint8Array(n + 1);
        n = fn(buf);
      }
      return new TextDecoder().decode(buf.subarray(0, Math.max(0, n)));
    };
    for (let i = 0; i < count; i++) {
      const key = read(b => llama.llama_model_meta_key_by_index(this.ptr, i, b, b.length));
      out[key] = read(b => llama.llama_model_meta_val_str_by_index(this.ptr, i, b, b.length));
    }
    return out;
  }

  dispose(): void {
    if (!this.handle) return;
    native().llama.llama_model_free(this.handle);
    this.handle = null;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
