#!/usr/bin/env python3
"""Write a small random-weight GGUF model for tests and benchmarks.

The tokenizer is copied from one of llama.cpp's vocab-only GGUFs, so prompts
tokenize exactly like the real model; only the weights are noise. Output is
deterministic for a given seed, so a cached file can be regenerated at will.

  python3 scripts/make-model.py --preset tiny-qwen2 --out /tmp/tiny.gguf
  python3 scripts/make-model.py --preset qwen2.5-0.5b --quant q4_0 --out /tmp/q.gguf
  python3 scripts/make-model.py --vocab llama-bpe --arch llama --n-embd 128 \
      --n-layer 2 --n-head 4 --n-ff 256 --out /tmp/m.gguf
"""

from __future__ import annotations

import argparse
import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
# Same override the Makefile and test/helpers/paths.ts honour.
LLAMA_SRC = (REPO / os.environ.get("LLAMA_CPP_DIR", "lib/llama.cpp")).resolve()
TEMPLATES = LLAMA_SRC / "models" / "templates"
QUANTIZE = REPO / "lib" / "bin" / "llama-quantize"

# gguf-py is not installed anywhere; the copy pinned with llama.cpp is the one that
# matches the loader we test against.
if not (LLAMA_SRC / "gguf-py" / "gguf").is_dir():
    sys.exit(f"no gguf-py under {LLAMA_SRC}: run `make lib` or set LLAMA_CPP_DIR")
sys.path.insert(0, str(LLAMA_SRC / "gguf-py"))
import gguf  # noqa: E402
from gguf import MODEL_TENSOR as T  # noqa: E402

# Per-arch defaults taken from the real models these stand in for.
ARCH_DEFAULTS = {
    "llama": {"rope_freq_base": 10000.0, "rms_eps": 1e-5, "qkv_bias": False},
    "qwen2": {"rope_freq_base": 1000000.0, "rms_eps": 1e-6, "qkv_bias": True},
    # An encoder (embedding model): LayerNorm with biases, learned positions, no KV cache.
    "bert": {"rope_freq_base": 10000.0, "rms_eps": 1e-12, "qkv_bias": True},
}

POOLING = {"none": 0, "mean": 1, "cls": 2, "last": 3, "rank": 4}

# Fill-in-the-middle roles and the token texts llama.cpp itself recognises for them
# (src/llama-vocab.cpp); --fim writes the ids it finds into the metadata explicitly.
FIM_TOKENS = {
    "pre": ("<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<PRE>", "▁<PRE>", "<｜fim▁begin｜>"),
    "suf": ("<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<SUF>", "▁<SUF>", "<｜fim▁hole｜>"),
    "mid": ("<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<MID>", "▁<MID>", "<｜fim▁end｜>"),
    "pad": ("<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>"),
    "rep": ("<|fim_repo|>", "<|repo_name|>", "<repo_name>", "<fim-repo>", "<REPO>", "<reponame>"),
    "sep": ("<|file_sep|>", "<file_sep>", "<filename>"),
}


def first_template(*patterns: str) -> str | None:
    """Preset templates come from llama.cpp's tree, which changes between pins."""
    for pattern in patterns:
        hits = sorted(TEMPLATES.glob(pattern))
        if hits:
            return str(hits[0])
    return None


QWEN_TEMPLATE = first_template("Qwen-Qwen2.5-*Instruct.jinja")
PRESETS = {
    # Same shapes as Qwen2.5-0.5B-Instruct (494M params, tied embeddings) for benchmarks.
    "qwen2.5-0.5b": dict(arch="qwen2", vocab="qwen2", n_embd=896, n_layer=24, n_head=14,
                         n_head_kv=2, n_ff=4864, n_ctx=32768, type="f16", tie_embeddings=True,
                         template=QWEN_TEMPLATE),
    # Qwen tokenizer and template, but tiny enough to load in well under a second.
    "tiny-qwen2": dict(arch="qwen2", vocab="qwen2", n_embd=64, n_layer=2, n_head=4,
                       n_head_kv=2, n_ff=128, type="f32", template=QWEN_TEMPLATE),
    # SentencePiece tokenizer path (BOS added, byte fallback) with the plain llama arch.
    # No Llama-2 template ships with llama.cpp at this pin, hence the "none" fallback.
    "tiny-llama-spm": dict(arch="llama", vocab="llama-spm", n_embd=64, n_layer=2, n_head=4,
                           n_head_kv=2, n_ff=128, type="f32",
                           template=first_template("*Llama-2*chat*.jinja", "*llama2*.jinja") or "none"),
    # BERT-architecture embedding model with the BGE WordPiece vocabulary, mean pooling.
    "tiny-bert": dict(arch="bert", vocab="bert-bge", n_embd=64, n_layer=2, n_head=4, n_ff=128,
                      n_ctx=512, type="f32", template="none", pooling="mean"),
}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", choices=sorted(PRESETS), help="fill in the options below; explicit flags still win")
    p.add_argument("--vocab", help="NAME of lib/llama.cpp/models/ggml-vocab-NAME.gguf")
    p.add_argument("--arch", choices=sorted(ARCH_DEFAULTS))
    p.add_argument("--n-embd", type=int)
    p.add_argument("--n-layer", type=int)
    p.add_argument("--n-head", type=int)
    p.add_argument("--n-head-kv", type=int, help="default: --n-head (no GQA)")
    p.add_argument("--n-ff", type=int)
    p.add_argument("--n-ctx", type=int, default=4096, help="context_length (default 4096)")
    p.add_argument("--rope-freq-base", type=float, help="default: per arch")
    p.add_argument("--rms-eps", type=float, help="default: per arch")
    p.add_argument("--tie-embeddings", action=argparse.BooleanOptionalAction, default=False,
                   help="omit output.weight so llama.cpp reuses token_embd")
    p.add_argument("--template", help="FILE.jinja, or 'none' to drop it (default: keep the vocab's)")
    p.add_argument("--pooling", choices=sorted(POOLING), help="<arch>.pooling_type (makes an embedding model; rank: a reranker with a classifier head)")
    p.add_argument("--fim", action="store_true", help="write tokenizer.ggml.fim_*_token_id for the vocab's FIM tokens (error if it has none)")
    p.add_argument("--token", action="append", default=[], metavar="ID=TEXT",
                   help="rename user-defined placeholder token ID (e.g. Qwen2's [PAD151667]) to TEXT, as "
                        "reasoning models add <think> / </think> (repeatable)")
    p.add_argument("--add-bos", action="store_true", help="write tokenizer.ggml.add_bos_token = true (DeepSeek-R1 distills on Qwen's vocabulary)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--std", type=float, default=0.02, help="weight std; small keeps logits finite")
    p.add_argument("--type", choices=["f32", "f16"], default="f32", help="type of 2-D weights; norms stay f32")
    p.add_argument("--quant", choices=["q4_0", "q8_0"], help="run llama-quantize on the result")
    p.add_argument("--name", help="general.name (default: preset or arch)")
    p.add_argument("--out", required=True, type=Path)

    # Two passes so that a preset only supplies defaults.
    pre, _ = p.parse_known_args()
    if pre.preset:
        p.set_defaults(**PRESETS[pre.preset], name=pre.preset)
    a = p.parse_args()

    missing = [f for f in ("vocab", "arch", "n_embd", "n_layer", "n_head", "n_ff") if getattr(a, f) is None]
    if missing:
        p.error("missing " + ", ".join("--" + m.replace("_", "-") for m in missing) + " (or use --preset)")
    a.n_head_kv = a.n_head_kv or a.n_head
    if a.n_embd % a.n_head or a.n_head % a.n_head_kv or (a.n_embd // a.n_head) % 2:
        p.error("need n_embd divisible by n_head into an even head size, and n_head by n_head_kv")
    for key, val in ARCH_DEFAULTS[a.arch].items():
        if getattr(a, key, None) is None:
            setattr(a, key, val)
    if a.template not in (None, "none") and not Path(a.template).is_file():
        p.error(f"no template file {a.template}")
    if a.quant and not QUANTIZE.is_file():
        p.error(f"--quant needs {QUANTIZE} (make lib)")
    a.name = a.name or f"{a.arch}-random"
    return a


def read_kv(path: Path) -> list[tuple[str, gguf.GGUFValueType, object, gguf.GGUFValueType | None]]:
    """Metadata of a tensor-less GGUF as (key, type, value, array item type).

    gguf.GGUFReader would do, but it builds numpy views per string and takes ~10 s on
    the 150k-token Qwen vocab; this plain parse takes well under a second. Strings stay
    raw bytes because some vocabs hold tokens that are not valid UTF-8.
    """
    V = gguf.GGUFValueType
    fmt = gguf.GGUFWriter._simple_value_packing  # the writer's own type -> struct code table
    buf = path.read_bytes()
    off = 0

    def scalar(t: V) -> object:
        nonlocal off
        if t == V.STRING:
            (n,) = struct.unpack_from("<Q", buf, off)
            off += 8 + n
            return buf[off - n:off]
        (v,) = struct.unpack_from("<" + fmt[t], buf, off)
        off += struct.calcsize(fmt[t])
        return v

    magic, version, n_tensors, n_kv = struct.unpack_from("<IIQQ", buf, 0)
    if magic != gguf.GGUF_MAGIC or version < 2:
        sys.exit(f"{path}: not a little-endian GGUF v2+ file")
    off = 24
    out = []
    for _ in range(n_kv):
        key = scalar(V.STRING).decode()
        t = V(scalar(V.UINT32))
        if t != V.ARRAY:
            out.append((key, t, scalar(t), None))
            continue
        sub = V(scalar(V.UINT32))
        n = scalar(V.UINT64)
        if sub == V.STRING:
            val = [scalar(sub) for _ in range(n)]
        elif sub == V.ARRAY:
            sys.exit(f"{path}: nested array {key} not supported")
        else:
            size = struct.calcsize(fmt[sub])
            val = list(struct.unpack_from(f"<{n}{fmt[sub]}", buf, off))
            off += n * size
        out.append((key, t, val, sub))
    return out


def copy_tokenizer(w: gguf.GGUFWriter, vocab_path: Path, template: str | None, renamed: list[str] = []) -> int:
    """Copy every tokenizer.* key unchanged but for `renamed` tokens (ID=TEXT); return the token count."""
    n_vocab = 0
    kv = read_kv(vocab_path)
    if renamed:
        tokens = next(val for key, _, val, _ in kv if key == gguf.Keys.Tokenizer.LIST)
        types = next(val for key, _, val, _ in kv if key == gguf.Keys.Tokenizer.TOKEN_TYPE)
        for spec in renamed:
            tid, _, text = spec.partition("=")
            i = int(tid)
            # Only a user-defined placeholder may become another token: ids and merges stay valid.
            if not text or i >= len(tokens) or types[i] != gguf.TokenType.USER_DEFINED:  # type: ignore[index]
                sys.exit(f"--token {spec}: not a user-defined token id of {vocab_path.name}, or no text")
            tokens[i] = text.encode()  # type: ignore[index]
    for key, vtype, val, sub in kv:
        if not key.startswith("tokenizer."):
            continue
        if key == gguf.Keys.Tokenizer.CHAT_TEMPLATE and template is not None:
            continue  # replaced (or dropped) below
        w.add_key_value(key, val, vtype, sub_type=sub)
        if key == gguf.Keys.Tokenizer.LIST:
            n_vocab = len(val)  # type: ignore[arg-type]
    if not n_vocab:
        sys.exit(f"{vocab_path}: no tokenizer.ggml.tokens")
    if template is not None and template != "none":
        w.add_chat_template(Path(template).read_text())
    return n_vocab


def add_fim_ids(w: gguf.GGUFWriter, vocab_path: Path) -> None:
    """Name the vocabulary's fill-in-the-middle tokens in the metadata, as converted FIM models do."""
    tokens = next(val for key, _, val, _ in read_kv(vocab_path) if key == gguf.Keys.Tokenizer.LIST)
    index = {bytes(t).decode("utf-8", "replace"): i for i, t in enumerate(tokens)}  # type: ignore[union-attr]
    found = {role: next((index[x] for x in texts if x in index), None) for role, texts in FIM_TOKENS.items()}
    for role in ("pre", "suf", "mid"):
        if found[role] is None:
            sys.exit(f"{vocab_path}: no FIM {role} token")
    for role, token in found.items():
        if token is not None:
            w.add_uint32(f"tokenizer.ggml.fim_{role}_token_id", token)


def name(t: T, suffix: str, bid: int | None = None) -> str:
    return gguf.TENSOR_NAMES[t].format(bid=bid) + "." + suffix


def bert_plan(a: argparse.Namespace, n_vocab: int) -> list[tuple[str, tuple[int, ...]]]:
    """BERT's tensors (src/models/bert.cpp): every projection and LayerNorm has a bias."""
    e, f = a.n_embd, a.n_ff
    plan = [
        (name(T.TOKEN_EMBD, "weight"), (n_vocab, e)),
        (name(T.TOKEN_TYPES, "weight"), (2, e)),
        (name(T.POS_EMBD, "weight"), (a.n_ctx, e)),
        (name(T.TOKEN_EMBD_NORM, "weight"), (e,)),
        (name(T.TOKEN_EMBD_NORM, "bias"), (e,)),
    ]
    for i in range(a.n_layer):
        for t in (T.ATTN_Q, T.ATTN_K, T.ATTN_V, T.ATTN_OUT):
            plan += [(name(t, "weight", i), (e, e)), (name(t, "bias", i), (e,))]
        plan += [
            (name(T.ATTN_OUT_NORM, "weight", i), (e,)),
            (name(T.ATTN_OUT_NORM, "bias", i), (e,)),
            (name(T.FFN_UP, "weight", i), (f, e)),
            (name(T.FFN_UP, "bias", i), (f,)),
            (name(T.FFN_DOWN, "weight", i), (e, f)),
            (name(T.FFN_DOWN, "bias", i), (e,)),
            (name(T.LAYER_OUT_NORM, "weight", i), (e,)),
            (name(T.LAYER_OUT_NORM, "bias", i), (e,)),
        ]
    if a.pooling == "rank":
        # The reranker's classification head on the CLS vector: dense + tanh, then one score.
        plan += [
            (name(T.CLS, "weight"), (e, e)),
            (name(T.CLS, "bias"), (e,)),
            (name(T.CLS_OUT, "weight"), (1, e)),
            (name(T.CLS_OUT, "bias"), (1,)),
        ]
    return plan


def tensor_plan(a: argparse.Namespace, n_vocab: int) -> list[tuple[str, tuple[int, ...]]]:
    """(name, numpy shape) in llama.cpp's naming. numpy (n_out, n_in) is ggml ne=[n_in, n_out]."""
    if a.arch == "bert":
        return bert_plan(a, n_vocab)

    head_dim = a.n_embd // a.n_head
    n_kv = head_dim * a.n_head_kv
    plan = [(name(T.TOKEN_EMBD, "weight"), (n_vocab, a.n_embd))]
    for i in range(a.n_layer):
        plan += [
            (name(T.ATTN_NORM, "weight", i), (a.n_embd,)),
            (name(T.ATTN_Q, "weight", i), (a.n_embd, a.n_embd)),
            (name(T.ATTN_K, "weight", i), (n_kv, a.n_embd)),
            (name(T.ATTN_V, "weight", i), (n_kv, a.n_embd)),
        ]
        if a.qkv_bias:
            plan += [
                (name(T.ATTN_Q, "bias", i), (a.n_embd,)),
                (name(T.ATTN_K, "bias", i), (n_kv,)),
                (name(T.ATTN_V, "bias", i), (n_kv,)),
            ]
        plan += [
            (name(T.ATTN_OUT, "weight", i), (a.n_embd, a.n_embd)),
            (name(T.FFN_NORM, "weight", i), (a.n_embd,)),
            (name(T.FFN_GATE, "weight", i), (a.n_ff, a.n_embd)),
            (name(T.FFN_UP, "weight", i), (a.n_ff, a.n_embd)),
            (name(T.FFN_DOWN, "weight", i), (a.n_embd, a.n_ff)),
        ]
    plan.append((name(T.OUTPUT_NORM, "weight"), (a.n_embd,)))
    if not a.tie_embeddings:
        plan.append((name(T.OUTPUT, "weight"), (n_vocab, a.n_embd)))
    return plan


def write_model(a: argparse.Namespace, path: Path) -> None:
    w = gguf.GGUFWriter(path, a.arch)
    w.add_name(a.name)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16 if a.type == "f16" else gguf.LlamaFileType.ALL_F32)
    w.add_context_length(a.n_ctx)
    w.add_embedding_length(a.n_embd)
    w.add_block_count(a.n_layer)
    w.add_feed_forward_length(a.n_ff)
    w.add_head_count(a.n_head)
    w.add_head_count_kv(a.n_head_kv)
    if a.arch == "bert":
        w.add_layer_norm_eps(a.rms_eps)
        w.add_causal_attention(False)
    else:
        w.add_layer_norm_rms_eps(a.rms_eps)
        w.add_rope_freq_base(a.rope_freq_base)
        w.add_rope_dimension_count(a.n_embd // a.n_head)
    if a.pooling:
        w.add_pooling_type(gguf.PoolingType(POOLING[a.pooling]))

    vocab_path = LLAMA_SRC / "models" / f"ggml-vocab-{a.vocab}.gguf"
    if not vocab_path.is_file():
        sys.exit(f"no vocab file {vocab_path}")
    n_vocab = copy_tokenizer(w, vocab_path, a.template, a.token)
    if a.add_bos:
        w.add_add_bos_token(True)
    if a.fim:
        add_fim_ids(w, vocab_path)
    w.add_vocab_size(n_vocab)

    wtype = np.float16 if a.type == "f16" else np.float32
    plan = tensor_plan(a, n_vocab)
    # Stream: declare every tensor, then generate and write them one at a time, so
    # the 0.5B preset never holds more than one tensor in memory.
    for tname, shape in plan:
        dtype = wtype if len(shape) == 2 else np.float32
        w.add_tensor_info(tname, shape, np.dtype(dtype), int(np.prod(shape)) * np.dtype(dtype).itemsize)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()

    rng = np.random.default_rng(a.seed)
    for tname, shape in plan:
        if tname.endswith("_norm.weight"):
            data = np.ones(shape, dtype=np.float32)  # RMSNorm gain of 1 keeps activations O(1)
        elif tname.endswith("_norm.bias"):
            data = np.zeros(shape, dtype=np.float32)
        else:
            data = rng.standard_normal(shape, dtype=np.float32) * np.float32(a.std)
            if len(shape) == 2:
                data = data.astype(wtype)
        w.write_tensor_data(data)
    w.close()


def main() -> None:
    # Let `finally` remove partial files when a test runner or timeout sends SIGTERM.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    a = parse_args()
    a.out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    # Build under side names and rename at the end: a failed or killed run never leaves a
    # half-written file at --out, nor clobbers a good one already there.
    part = a.out.with_name(a.out.name + ".part")
    raw = a.out.with_name(a.out.name + f".{a.type}.part") if a.quant else part
    try:
        write_model(a, raw)
        if a.quant:
            r = subprocess.run([str(QUANTIZE), str(raw), str(part), a.quant.upper()],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if r.returncode != 0:
                sys.stderr.write(r.stderr)
                sys.exit(f"llama-quantize failed with exit code {r.returncode}")
        part.replace(a.out)
    finally:
        raw.unlink(missing_ok=True)
        part.unlink(missing_ok=True)
    print(f"{a.out}: {a.out.stat().st_size / 2**20:.1f} MiB in {time.monotonic() - t0:.1f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
