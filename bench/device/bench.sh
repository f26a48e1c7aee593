#!/usr/bin/env bash
# Runs on a lent GPU machine (one try in 15 minutes of device time, start-up and build included, so
# it is made to finish in under 10): the CUDA build of the pinned llama.cpp (skipped when
# lib/libggml-cuda.so is there), a random-weight Qwen2.5-0.5B-shaped Q4_0 model with every layer
# on the GPU, Hearth and llama-server from the same build side by side, then bench/device/abba.py:
# single stream and 4 streams in ABBA order, paired ratios, identical greedy text. Prepare with
# bench/device/prepare.sh. Output: stdout (the run's record: commit it under bench/device/) and
# $OUT/*.log.
#   ROUNDS=4 TOKENS=256 STREAMS=4 bash bench/device/bench.sh
# Tested on CPU as far as a CPU goes with NO_GPU=1 (no CUDA build, no offload, smaller numbers).
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/device-bench}; mkdir -p "$OUT"
ROUNDS=${ROUNDS:-4}; TOKENS=${TOKENS:-256}; STREAMS=${STREAMS:-4}
NGL=99; GPU_FLAGS="GPU=cuda CUDA_ARCHS=90"
if [ -n "${NO_GPU:-}" ]; then NGL=0; GPU_FLAGS=""; fi
export PATH=/usr/local/cuda/bin:$PATH
t0=$(date +%s)
echo "# bench/device/bench.sh $(git rev-parse --short HEAD 2>/dev/null || echo '?') on $(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null || echo 'no GPU') ($(nproc) cores), $(date -u +%FT%TZ)"
if [ -z "${NO_GPU:-}" ] && [ ! -f lib/libggml-cuda.so ]; then
  mkdir -p lib && tar xJf .device/llama-src.txz -C lib && touch lib/llama.cpp/.verified
  make lib $GPU_FLAGS JOBS=$(nproc) > "$OUT/build.log" 2>&1 || { echo "build failed"; tail -30 "$OUT/build.log"; exit 1; }
  echo "# CUDA build: $(( $(date +%s) - t0 )) s"
fi
if [ -d .device/vocab ]; then
  mkdir -p lib/llama.cpp/models/templates
  xz -dc .device/vocab/ggml-vocab-qwen2.gguf.xz > lib/llama.cpp/models/ggml-vocab-qwen2.gguf
  cp .device/vocab/Qwen-Qwen2.5-7B-Instruct.jinja lib/llama.cpp/models/templates/
fi
python3 -c "import numpy" 2>/dev/null || export PATH=/opt/torch/.venv/bin:$PATH
M=${MODEL:-/tmp/qwen05-q4_0.gguf}
[ -f "$M" ] || python3 scripts/make-model.py --preset qwen2.5-0.5b --quant q4_0 --out "$M" > "$OUT/gen.log" 2>&1 || { tail "$OUT/gen.log"; exit 1; }
NAME=$(basename "$M" .gguf)
if [ -f .device/hearth.xz ]; then
  mkdir -p dist && xz -dc .device/hearth.xz > dist/hearth && chmod +x dist/hearth && cp -P lib/lib*.so* dist/
  HEARTH=(dist/hearth)
else
  HEARTH=(${BUN:-.tools/node_modules/.bin/bun} src/cli.ts)
fi
HP=${HEARTH_PORT:-18480}; LP=${LLAMA_PORT:-18481}
"${HEARTH[@]}" serve --model "$M" --port $HP -ngl $NGL --parallel 4 -c 8192 > "$OUT/hearth.log" 2>&1 & H=$!
lib/bin/llama-server -m "$M" --port $LP -ngl $NGL -np 4 -c 8192 -kvu > "$OUT/llama-server.log" 2>&1 & L=$!
trap 'kill $H $L 2>/dev/null' EXIT
# Hearth's /health answers at once and names the model's state; llama-server's answers 503 until loaded.
for i in $(seq 1 240); do curl -s localhost:$HP/health | grep -q '"loaded"\|"failed"' && break; sleep 0.5; done
for i in $(seq 1 240); do curl -sf localhost:$LP/health | grep -q '"ok"' && break; sleep 0.5; done
echo "# servers up: $(( $(date +%s) - t0 )) s; --parallel 4, -c 8192, -ngl $NGL (llama-server -kvu)"
python3 bench/device/abba.py --a http://127.0.0.1:$HP --b http://127.0.0.1:$LP --model "$NAME" --rounds "$ROUNDS" --tokens "$TOKENS" --streams "$STREAMS"
rc=$?
grep -ih "offloaded\|using device" "$OUT/hearth.log" | head -3
echo "# done in $(( $(date +%s) - t0 )) s"
exit $rc
