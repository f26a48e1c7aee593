#!/usr/bin/env python3
"""Write a tiny random-weight vision model: a text model plus its projector (mmproj) GGUF.

Two projector types, each with the text model its family uses, both on the Qwen2 vocabulary:
  qwen2.5vl  M-RoPE: a qwen2vl-arch text model (rope dimension sections) and a Qwen2.5-VL ViT
             (RMSNorm, windowed attention every other layer, SiLU-gated FFN, 2x2 patch merger)
  gemma3     non-causal image attention: a qwen2 text model and a Gemma 3 SigLIP tower
             (LayerNorm, learned positions, GELU FFN, average pooling, soft-embedding norm)

  python3 scripts/make-vision-model.py --projector qwen2.5vl --out DIR
    -> DIR/model.gguf and DIR/mmproj-model.gguf

Tensor names and metadata keys follow llama.cpp's tools/mtmd/clip-impl.h (TN_*, KEY_*) and what
clip.cpp's loader and graphs (models/qwen2vl.cpp, models/siglip.cpp) read. The weights are noise,
so only the shapes matter; the text model comes from scripts/make-model.py unchanged except for
the qwen2vl arch, which only adds rope.dimension_sections to qwen2.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
spec = importlib.util.spec_from_file_location("make_model", HERE / "make-model.py")
mm = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
spec.loader.exec_module(mm)  # type: ignore[union-attr]
gguf = mm.gguf

# The text model, in make-model.py's own flags (its defaults fill in the rest).
TEXT_EMBD = 64
TEXT_ARGS = ["--vocab", "qwen2", "--n-embd", str(TEXT_EMBD), "--n-layer", "2", "--n-head", "4", "--n-head-kv", "2",
             "--n-ff", "128", "--type", "f32", "--seed", "1", "--template", str(mm.QWEN_TEMPLATE)]
# head_dim 16 -> 8 rotary pairs, split over time/height/width as Qwen2.5-VL splits its 64.
ROPE_SECTIONS = [2, 3, 3, 0]


class QwenVLWriter(gguf.GGUFWriter):
    """make-model.py's writer, plus the M-RoPE sections the qwen2vl arch requires."""

    def add_rope_dimension_count(self, count: int) -> None:
        super().add_rope_dimension_count(count)
        if self.arch == "qwen2vl":
            self.add_rope_dimension_sections(ROPE_SECTIONS)


def write_text_model(projector: str, path: Path) -> None:
    mm.ARCH_DEFAULTS.setdefault("qwen2vl", dict(mm.ARCH_DEFAULTS["qwen2"]))
    arch = "qwen2vl" if projector == "qwen2.5vl" else "qwen2"
    saved = sys.argv
    sys.argv = ["make-model.py", *TEXT_ARGS, "--arch", arch, "--name", f"tiny-{projector}-text", "--out", str(path)]
    try:
        a = mm.parse_args()
    finally:
        sys.argv = saved
    mm.gguf.GGUFWriter = QwenVLWriter  # make-model.py builds its writer through the module attribute
    mm.write_model(a, path)


def vision_plan(projector: str, e: int, ff: int, layers: int, patch: int, n_pos: int, text_embd: int):
    """(name, numpy shape); numpy (n_out, n_in) is ggml ne=[n_in, n_out], conv kernels (OC, IC, KH, KW)."""
    plan = [("v.patch_embd.weight", (e, 3, patch, patch))]
    if projector == "qwen2.5vl":
        plan.append(("v.patch_embd.weight.1", (e, 3, patch, patch)))  # second temporal frame
    else:
        plan += [("v.patch_embd.bias", (e,)), ("v.position_embd.weight", (n_pos, e))]
    for i in range(layers):
        b = f"v.blk.{i}"
        plan += [(f"{b}.ln1.weight", (e,)), (f"{b}.ln2.weight", (e,))]
        if projector == "gemma3":
            plan += [(f"{b}.ln1.bias", (e,)), (f"{b}.ln2.bias", (e,))]
        for t in ("attn_q", "attn_k", "attn_v", "attn_out"):
            plan += [(f"{b}.{t}.weight", (e, e)), (f"{b}.{t}.bias", (e,))]
        plan += [(f"{b}.ffn_up.weight", (ff, e)), (f"{b}.ffn_up.bias", (ff,)),
                 (f"{b}.ffn_down.weight", (e, ff)), (f"{b}.ffn_down.bias", (e,))]
        if projector == "qwen2.5vl":
            plan += [(f"{b}.ffn_gate.weight", (ff, e)), (f"{b}.ffn_gate.bias", (ff,))]
    if projector == "qwen2.5vl":
        plan += [("v.post_ln.weight", (e,)),
                 ("mm.0.weight", (4 * e, 4 * e)), ("mm.0.bias", (4 * e,)),
                 ("mm.2.weight", (text_embd, 4 * e)), ("mm.2.bias", (text_embd,))]
    else:
        plan += [("v.post_ln.weight", (e,)), ("v.post_ln.bias", (e,)),
                 ("mm.soft_emb_norm.weight", (e,)),
                 ("mm.input_projection.weight", (e, text_embd))]
    return plan


def write_projector(projector: str, path: Path, text_embd: int, e: int = 32, layers: int = 2, heads: int = 2) -> None:
    ff = 2 * e
    w = gguf.GGUFWriter(path, "clip")
    w.add_string("general.name", f"tiny-{projector}-mmproj")
    w.add_uint32("general.file_type", 0)
    w.add_bool("clip.has_vision_encoder", True)
    w.add_string("clip.projector_type", "qwen2.5vl_merger" if projector == "qwen2.5vl" else "gemma3")
    w.add_uint32("clip.vision.embedding_length", e)
    w.add_uint32("clip.vision.feed_forward_length", ff)
    w.add_uint32("clip.vision.block_count", layers)
    w.add_uint32("clip.vision.attention.head_count", heads)
    w.add_uint32("clip.vision.projection_dim", text_embd)
    w.add_float32("clip.vision.attention.layer_norm_epsilon", 1e-6)
    if projector == "qwen2.5vl":
        patch, n_pos = 14, 0
        w.add_uint32("clip.vision.image_size", 560)
        w.add_uint32("clip.vision.patch_size", patch)
        w.add_bool("clip.use_silu", True)
        w.add_uint32("clip.vision.n_wa_pattern", 2)  # layer 0 windowed, layer 1 full
        mean, std = [0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711]
    else:
        patch, size = 8, 64
        n_pos = (size // patch) ** 2
        w.add_uint32("clip.vision.image_size", size)
        w.add_uint32("clip.vision.patch_size", patch)
        w.add_bool("clip.use_gelu", True)
        w.add_uint32("clip.vision.projector.scale_factor", 2)  # 8x8 patches -> 4x4 = 16 tokens
        mean, std = [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]
    w.add_array("clip.vision.image_mean", mean)
    w.add_array("clip.vision.image_std", std)

    plan = vision_plan(projector, e, ff, layers, patch, n_pos, text_embd)
    rng = np.random.default_rng(2 if projector == "qwen2.5vl" else 3)
    for name, shape in plan:
        if name.endswith(("ln1.weight", "ln2.weight", "post_ln.weight", "soft_emb_norm.weight")):
            data = np.ones(shape, dtype=np.float32)
        elif name.endswith("ln1.bias") or name.endswith("ln2.bias") or name.endswith("post_ln.bias"):
            data = np.zeros(shape, dtype=np.float32)
        else:
            # Larger than the text model's 0.02 so that different images give visibly different
            # embeddings, and so different answers from the text model.
            data = rng.standard_normal(shape, dtype=np.float32) * np.float32(0.2 if e <= 32 else e ** -0.5)
        w.add_tensor(name, data)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--projector", choices=["qwen2.5vl", "gemma3"], required=True)
    p.add_argument("--out", required=True, type=Path, help="folder for model.gguf and mmproj-model.gguf")
    # The tests' encoder is tiny; the bench (bench/vision.ts) asks for one whose cost shows.
    p.add_argument("--vision-embd", type=int, default=32, help="the encoder's width (a multiple of 4 × heads)")
    p.add_argument("--vision-layers", type=int, default=2)
    p.add_argument("--vision-heads", type=int, default=2)
    a = p.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    write_text_model(a.projector, a.out / "model.gguf")
    write_projector(a.projector, a.out / "mmproj-model.gguf", TEXT_EMBD, a.vision_embd, a.vision_layers, a.vision_heads)
    print(f"{a.out}: model.gguf + mmproj-model.gguf ({a.projector})", file=sys.stderr)


if __name__ == "__main__":
    main()
