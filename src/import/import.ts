// `hearth import`: a Hugging Face checkpoint folder → one GGUF. Stages: read config and weights
// (headers only), read the tokenizer, write an f32/f16 GGUF with llama.cpp's names and metadata,
// quantize it through libllama, rename into place. Nothing appears under the final name unless
// every stage succeeded; temporary files are removed on any failure.
import { renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { quantizeModel, type QuantType } from "../llama/index.ts";
import { architectureFor } from "./arch/index.ts";
import { TensorTable, type TypeChooser } from "./arch/common.ts";
import { openCheckpoint } from "./checkpoint.ts";
import { ImportError } from "./errors.ts";
import { GGML_TYPE, type MetaValue, writeGguf } from "./gguf-writer.ts";
import { loadTokenizer, padVocab, type GgufVocab } from "./tokenizer/index.ts";

export const QUANT_TYPES = ["q4_0", "q8_0", "f16", "bf16", "f32"] as const satisfies readonly QuantType[];
/** What the user's design recommends for every family. */
export const DEFAULT_QUANT: QuantType = "q4_0";

export type Stage = "read" | "tokenizer" | "write" | "quantize" | "done";
export interface ImportOptions {
  src: string;
  out: string;
  quant?: QuantType;
  threads?: number;
  onProgress?: (stage: Stage, done?: number, total?: number) => void;
}
export interface ImportResult {
  path: string;
  architecture: string;
  hfArchitecture: string;
  quant: QuantType;
  tensors: number;
  bytes: number;
}

function vocabMeta(v: GgufVocab, chatTemplate: string | undefined): Map<string, MetaValue> {
  const m = new Map<string, MetaValue>();
  m.set("tokenizer.ggml.model", { type: "str", value: v.model });
  if (v.pre) m.set("tokenizer.ggml.pre", { type: "str", value: v.pre });
  m.set("tokenizer.ggml.tokens", { type: "arr-str", value: v.tokens });
  m.set("tokenizer.ggml.token_type", { type: "arr-i32", value: v.types });
  if (v.scores) m.set("tokenizer.ggml.scores", { type: "arr-f32", value: v.scores });
  if (v.merges) m.set("tokenizer.ggml.merges", { type: "arr-str", value: v.merges });
  if (v.addSpacePrefix !== undefined) m.set("tokenizer.ggml.add_space_prefix", { type: "bool", value: v.addSpacePrefix });
  const s = v.special;
  const id = (k: string, x: number | undefined) => x !== undefined && m.set(`tokenizer.ggml.${k}_token_id`, { type: "u32", value: x });
  id("bos", s.bos);
  id("eos", s.eos);
  id("unknown", s.unk);
  id("padding", s.pad);
  if (s.addBos !== undefined) m.set("tokenizer.ggml.add_bos_token", { type: "bool", value: s.addBos });
  if (s.addEos !== undefined) m.set("tokenizer.ggml.add_eos_token", { type: "bool", value: s.addEos });
  if (chatTemplate) m.set("tokenizer.chat_template", { type: "str", value: chatTemplate });
  return m;
}

function tempName(path: string, tag: string): string {
  return join(dirname(path), `.${basename(path)}.${tag}.${process.pid}.tmp`);
}

export function importCheckpoint(opts: ImportOptions): ImportResult {
  const quant = opts.quant ?? DEFAULT_QUANT;
  const progress = opts.onProgress ?? (() => {});
  progress("read");
  const ckpt = openCheckpoint(opts.src);
  const arch = architectureFor(ckpt.config);
  progress("tokenizer");
  const tok = loadTokenizer(opts.src);

  // The intermediate file keeps every value exactly and no larger than needed: f16 and bf16
  // matrices keep their type (unless f32 is asked for); 1-D tensors (norms, biases) are f32, as
  // llama.cpp wants them. A transform (Gemma's +1, RoPE permutation) never leaves this exactness:
  // +1 only touches 1-D norms, and a permutation moves values without changing them.
  const chooseType: TypeChooser = (dtype, dims) =>
    dims < 2 || quant === "f32" || dtype === "F32" ? GGML_TYPE.F32 : dtype === "F16" ? GGML_TYPE.F16 : GGML_TYPE.BF16;
  const table = new TensorTable(ckpt.tensors, chooseType);
  const { meta: archMeta, tensors, hparams } = arch.convert(ckpt.config, table);
  table.assertAllClaimed(arch.ggufArch);
  if (tok.vocab.tokens.length > hparams.vocab) {
    throw new ImportError(`the tokenizer has ${tok.vocab.tokens.length} tokens but the embedding only ${hparams.vocab} rows`);
  }
  padVocab(tok.vocab, hparams.vocab);

  const meta = new Map<string, MetaValue>([
    ["general.architecture", { type: "str", value: arch.ggufArch }],
    ["general.type", { type: "str", value: "model" }],
    ["general.name", { type: "str", value: basename(opts.src.replace(/\/+$/, "")) }],
    ["general.file_type", { type: "u32", value: tensors.some(t => t.type === GGML_TYPE.BF16) ? 32 : tensors.some(t => t.type === GGML_TYPE.F16) ? 1 : 0 }],
    ...archMeta,
    ...vocabMeta(tok.vocab, tok.chatTemplate),
  ]);

  const tensorCount = tensors.length;
  const matrices = tensors.filter(t => t.shape.length >= 2);
  const direct =
    quant === "f32" ||
    (quant === "f16" && matrices.every(t => t.type === GGML_TYPE.F16)) ||
    (quant === "bf16" && matrices.every(t => t.type === GGML_TYPE.BF16));
  const stage1 = tempName(opts.out, direct ? "part" : "unquantized");
  const stage2 = tempName(opts.out, "part");
  try {
    progress("write", 0, tensors.length);
    writeGguf(stage1, meta, tensors, (d, n) => progress("write", d, n));
    if (!direct) {
      progress("quantize");
      quantizeModel(stage1, stage2, quant, opts.threads ?? 0);
      rmSync(stage1, { force: true });
    }
    renameSync(stage2, opts.out);
  } catch (err) {
    rmSync(stage1, { force: true });
    rmSync(stage2, { force: true });
    if ((err as NodeJS.ErrnoException).code === "ENOSPC") throw new ImportError(`disk full while writing ${opts.out}; nothing was written under that name`);
    throw err;
  }
  progress("done");
  return {
    path: opts.out,
    architecture: arch.ggufArch,
    hfArchitecture: arch.hfClasses[0]!,
    quant,
    tensors: tensorCount,
    bytes: statSync(opts.out).size,
  };
}
