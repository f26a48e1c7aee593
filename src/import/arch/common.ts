// What the architecture mappers share: reading config.json's hyper-parameters, and turning a
// checkpoint tensor into a GGUF tensor plan (name, shape check, optional transform, chunked data).
import { toF32, type SourceDtype } from "../dtype.ts";
import { ImportError } from "../errors.ts";
import { GGML_TYPE, type MetaValue, type OutType, type TensorPlan } from "../gguf-writer.ts";
import { elementCount, type SourceTensor } from "../tensor-source.ts";

export type HfConfig = Record<string, unknown>;

export interface HParams {
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  ff: number;
  vocab: number;
  eps: number;
  ctx: number;
  ropeTheta: number;
  /** tie_word_embeddings as config.json says; undefined when it does not say. */
  tied: boolean | undefined;
  /** rope_scaling / rope_parameters (theta excluded), when the config has one. */
  ropeScaling?: Record<string, unknown>;
}

function num(cfg: HfConfig, key: string, fallback?: number): number {
  const v = cfg[key] ?? fallback;
  if (typeof v !== "number" || !Number.isFinite(v)) throw new ImportError(`config.json: "${key}" is missing or not a number`);
  return v;
}

export function readHParams(cfg: HfConfig, defaults: { eps?: number; ropeTheta?: number } = {}): HParams {
  const hidden = num(cfg, "hidden_size");
  const heads = num(cfg, "num_attention_heads");
  const rope = (cfg.rope_parameters ?? cfg.rope_scaling ?? undefined) as Record<string, unknown> | undefined;
  const theta = (cfg.rope_theta ?? rope?.rope_theta ?? defaults.ropeTheta ?? 10000) as number;
  const scaling = rope && (rope.rope_type ?? rope.type) && (rope.rope_type ?? rope.type) !== "default" ? rope : undefined;
  return {
    hidden,
    layers: num(cfg, "num_hidden_layers"),
    heads,
    kvHeads: num(cfg, "num_key_value_heads", heads),
    // Explicit head_dim (Qwen3, Gemma) need not be hidden / heads.
    headDim: num(cfg, "head_dim", Math.floor(hidden / heads)),
    ff: num(cfg, "intermediate_size"),
    vocab: num(cfg, "vocab_size"),
    eps: num(cfg, "rms_norm_eps", defaults.eps ?? 1e-6),
    ctx: num(cfg, "max_position_embeddings", 4096),
    ropeTheta: theta,
    tied: typeof cfg.tie_word_embeddings === "boolean" ? cfg.tie_word_embeddings : undefined,
    ropeScaling: scaling,
  };
}

/** The llama.cpp hyper-parameter keys every supported architecture shares. */
export function baseMeta(arch: string, h: HParams): Map<string, MetaValue> {
  const m = new Map<string, MetaValue>();
  const u32 = (k: string, v: number) => m.set(`${arch}.${k}`, { type: "u32", value: v });
  u32("context_length", h.ctx);
  u32("embedding_length", h.hidden);
  u32("block_count", h.layers);
  u32("feed_forward_length", h.ff);
  u32("attention.head_count", h.heads);
  u32("attention.head_count_kv", h.kvHeads);
  u32("attention.key_length", h.headDim);
  u32("attention.value_length", h.headDim);
  u32("rope.dimension_count", h.headDim);
  m.set(`${arch}.rope.freq_base`, { type: "f32", value: h.ropeTheta });
  m.set(`${arch}.attention.layer_norm_rms_epsilon`, { type: "f32", value: h.eps });
  const type = (h.ropeScaling?.rope_type ?? h.ropeScaling?.type) as string | undefined;
  if (type === "linear") {
    m.set(`${arch}.rope.scaling.type`, { type: "str", value: "linear" });
    m.set(`${arch}.rope.scaling.factor`, { type: "f32", value: Number(h.ropeScaling!.factor) });
  } else if (type !== undefined && type !== "llama3") {
    throw new ImportError(`config.json: rope scaling "${type}" is not supported (supported: linear, llama3)`);
  }
  return m;
}

/** Chooses the intermediate GGUF type of a tensor: 1-D stays f32 (llama.cpp wants f32 norms). */
export type TypeChooser = (dtype: SourceDtype, dims: number) => OutType;

/**
 * Checkpoint tensors by name; every one must be claimed by a mapper, so a checkpoint with parts
 * the converter does not know (e.g. a vision tower) fails loudly instead of importing half a model.
 */
export class TensorTable {
  private claimed = new Set<string>();
  constructor(private byName: Map<string, SourceTensor>, private chooseType: TypeChooser) {}

  has(name: string): boolean {
    return this.byName.has(name);
  }

  get(name: string, shape: number[]): SourceTensor {
    const t = this.byName.get(name);
    if (!t) throw new ImportError(`checkpoint has no tensor ${name}`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new ImportError(`tensor ${name} (${t.file}) has shape [${t.shape.join(", ")}] but config.json implies [${shape.join(", ")}]`);
    }
    this.claimed.add(name);
    return t;
  }

  /** A GGUF tensor from one checkpoint tensor, optionally transformed (whole tensor in f32). */
  plan(hfName: string, ggufName: string, shape: number[], transform?: (x: Float32Array) => Float32Array): TensorPlan {
    const t = this.get(hfName, shape);
    return {
      name: ggufName,
      shape,
      type: this.chooseType(t.dtype, shape.length),
      data: transform ? () => [transform(toF32(t.read(), t.dtype))] : () => chunks(t, shape),
    };
  }

  /** Like plan, when the tensor is optional (biases). */
  maybe(hfName: string, ggufName: string, shape: number[], transform?: (x: Float32Array) => Float32Array): TensorPlan[] {
    return this.byName.has(hfName) ? [this.plan(hfName, ggufName, shape, transform)] : [];
  }

  skip(name: string): void {
    if (this.byName.has(name)) this.claimed.add(name);
  }

  assertAllClaimed(arch: string): void {
    const left = [...this.byName.keys()].filter(n => !this.claimed.has(n) && !n.endsWith("rotary_emb.inv_freq"));
    if (left.length) {
      throw new ImportError(`${left.length} tensor(s) the ${arch} converter does not know, e.g. ${left.slice(0, 3).join(", ")}`);
    }
  }
}

/** The tensor in row-aligned chunks of about 1M elements, each read from disk when asked for. */
function* chunks(t: SourceTensor, shape: number[]): Iterable<Float32Array> {
  const total = elementCount(shape);
  const rowElems = shape.length > 1 ? elementCount(shape.slice(1)) : total;
  const elemSize = t.byteLength / Math.max(1, total);
  const rowBytes = rowElems * elemSize;
  const step = Math.max(1, Math.floor((1 << 20) / rowElems)) * rowBytes;
  // One scratch buffer for every chunk: the writer consumes a chunk before asking for the next.
  const scratch = new Float32Array(Math.min(total, step / elemSize));
  for (let off = 0; off < t.byteLength; off += step) {
    const bytes = t.read(off, Math.min(t.byteLength, off + step));
    yield toF32(bytes, t.dtype, scratch.subarray(0, bytes.byteLength / elemSize));
  }
}

export const addOne = (x: Float32Array): Float32Array => x.map(v => v + 1);

/**
 * Hugging Face's Llama rotates halves of each head ([x0..x(d/2-1)] with [x(d/2)..]); llama.cpp's
 * "normal" RoPE rotates neighbouring pairs. Reorders the output rows of q/k projections (and
 * biases) so row h·d + 2i + j comes from row h·d + j·d/2 + i.
 */
export function permuteRope(heads: number, rowLen: number) {
  return (x: Float32Array): Float32Array => {
    const rows = x.length / rowLen;
    const d = rows / heads;
    const out = new Float32Array(x.length);
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < d / 2; i++) {
        for (let j = 0; j < 2; j++) {
          const dst = (h * d + 2 * i + j) * rowLen;
          const src = (h * d + j * (d / 2) + i) * rowLen;
          out.set(x.subarray(src, src + rowLen), dst);
        }
      }
    }
    return out;
  };
}

export const F32 = GGML_TYPE.F32;
