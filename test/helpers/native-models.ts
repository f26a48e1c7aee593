// Random-weight models for llama-server's native endpoints: a FIM model (fill-in-the-middle tokens
// named in its GGUF) and a reranker (rank pooling with a classifier head), from scripts/make-model.py
// and cached like the compat models. Used by the parity tests and by make compat.
import { compatModel } from "../compat/models.ts";

/** StarCoder's vocabulary (its <fim_prefix>, <fim_suffix>, <fim_middle>, <fim_pad>, <repo_name>, <file_sep>) on a tiny Llama. */
export const FIM_MODEL_ARGS = ["--vocab", "starcoder", "--arch", "llama", "--n-embd", "64", "--n-layer", "2", "--n-head", "4",
  "--n-head-kv", "2", "--n-ff", "128", "--n-ctx", "4096", "--type", "f32", "--template", "none", "--fim",
  // Larger weights than the default keep greedy answers from repeating one token, so token parity says more.
  "--std", "0.08"];

/** A BERT on the BGE vocabulary with rank pooling: a reranker. */
export const RERANKER_ARGS = ["--vocab", "bert-bge", "--arch", "bert", "--n-embd", "64", "--n-layer", "2", "--n-head", "4", "--n-ff", "128",
  "--n-ctx", "512", "--type", "f32", "--template", "none", "--pooling", "rank"];

export const fimModel = () => compatModel("tiny-fim", FIM_MODEL_ARGS);
export const rerankerModel = () => compatModel("tiny-reranker", RERANKER_ARGS);
