#!/usr/bin/env bash
# Runs on the lent GPU machine: CUDA build (if missing), then Hearth vs llama-server on a
# random-weight Qwen2.5-0.5B-shaped Q4_0 model, fully offloaded.
set -u
export PATH=/usr/local/cuda/bin:$PATH
if [ ! -f lib/libggml-cuda.so ]; then
  mkdir -p lib && tar xzf .device/llama-src.tgz -C lib && touch lib/llama.cpp/.verified
  make lib GPU=cuda CUDA_ARCHS=90 JOBS=16 > $OUT/build.log 2>&1 || { echo build failed; tail -20 $OUT/build.log; exit 1; }
fi
mkdir -p lib/llama.cpp/models/templates
cp .device/vocab/ggml-vocab-qwen2.gguf lib/llama.cpp/models/
cp .device/vocab/Qwen-Qwen2.5-7B-Instruct.jinja lib/llama.cpp/models/templates/
python3 -c "import numpy" 2>/dev/null || export PATH=/opt/torch/.venv/bin:$PATH
M=/tmp/qwen05-q4_0.gguf
time python3 scripts/make-model.py --preset qwen2.5-0.5b --quant q4_0 --out $M > $OUT/gen.log 2>&1 || { tail $OUT/gen.log; exit 1; }
mkdir -p dist && xz -dc .device/hearth.xz > dist/hearth && chmod +x dist/hearth && cp -P lib/libllama.so* lib/libggml*.so* lib/libhearth_shim.so dist/
dist/hearth serve --verbose --model $M --port 8080 -ngl 99 --parallel 4 -c 8192 > $OUT/hearth.log 2>&1 &
lib/bin/llama-server -m $M --port 8081 -ngl 99 -np 4 -c 8192 -kvu > $OUT/llama-server.log 2>&1 &
for p in 8080 8081; do for i in $(seq 1 120); do curl -sf localhost:$p/health | grep -q '"loaded"\|"ok"' && break; sleep 0.5; done; done
sleep 2
req='{"model":"qwen05-q4_0","prompt":"Hello world, this is a test of","max_tokens":256,"temperature":0,"ignore_eos":true}'
for p in 8080 8081; do
  echo "== port $p single stream (256 tokens, greedy)"
  for k in 1 2 3; do curl -s localhost:$p/v1/completions -H 'content-type: application/json' -d "$req" > $OUT/single-$p.json; python3 -c "import json;t=json.load(open('$OUT/single-$p.json'))['timings'];print('predicted tok/s %.1f  prompt tok/s %.1f' % (t['predicted_per_second'], t['prompt_per_second']))"; done
  echo "== port $p 4 concurrent"
  start=$(date +%s.%N)
  pids=""; for k in 1 2 3 4; do curl -s localhost:$p/v1/completions -H 'content-type: application/json' -d "${req/test of/test $k of}" > /dev/null & pids="$pids $!"; done; wait $pids
  end=$(date +%s.%N); python3 -c "print('aggregate tok/s %.1f' % (4*256/($end-$start)))"
done
python3 - <<'PY'
import json,os
a=json.load(open(os.environ['OUT']+'/single-8080.json'));b=json.load(open(os.environ['OUT']+'/single-8081.json'))
print('greedy text identical on GPU:', a['choices'][0]['text']==b['choices'][0]['text'])
PY
grep -i "offloaded\|CUDA0" $OUT/hearth.log | head -5; grep -i "offloaded" $OUT/llama-server.log | head -2
nvidia-smi --query-gpu=name,memory.used --format=csv
