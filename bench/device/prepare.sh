#!/usr/bin/env bash
# Run here, on a machine without a GPU, before asking for a lent one: packs into .device/ (ignored
# by git through .git/info/exclude) what bench/device/bench.sh needs there, where nothing can be
# downloaded: the pinned llama.cpp source without its model files, the Qwen2 vocabulary and
# template for the generated model, and Hearth compiled into one binary (bun build --compile:
# the lent machine has no Bun). Then: the device tool's `run` with carry [".device"] and the
# command `bash bench/device/bench.sh`.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUN=${BUN:-.tools/node_modules/.bin/bun}
grep -qx '/.device/' .git/info/exclude 2>/dev/null || echo '/.device/' >> .git/info/exclude
rm -rf .device && mkdir -p .device/vocab
# The source as `make lib` verified it, less what a CUDA build does not read (vocab files, docs, web UI).
# (xz: the working tree and what it carries must stay under the device tool's 64 MiB.)
XZ_OPT=-9 tar cJf .device/llama-src.txz -C lib --exclude='llama.cpp/models' --exclude='llama.cpp/.git' \
  --exclude='llama.cpp/docs' --exclude='llama.cpp/tools/server/webui' --exclude='llama.cpp/media' llama.cpp
xz -9 -c lib/llama.cpp/models/ggml-vocab-qwen2.gguf > .device/vocab/ggml-vocab-qwen2.gguf.xz
cp lib/llama.cpp/models/templates/Qwen-Qwen2.5-7B-Instruct.jinja .device/vocab/
"$BUN" build --compile src/cli.ts --outfile .device/hearth >/dev/null
xz -T0 -9 .device/hearth
du -sh .device/* && du -sh .device
