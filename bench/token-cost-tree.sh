#!/usr/bin/env bash
# Makes a runnable checkout of an older commit for `bun bench/token-cost.ts --tree DIR --tree .`:
#   bash bench/token-cost-tree.sh <commit> <dir>
# The commit's source (git archive), this checkout's node_modules and llama.cpp libraries linked
# in, that commit's own shim built when its lib/shim differs from this checkout's, and the loop
# probe (src/engine/loop-probe.ts, three lines in runner.ts) added when the commit predates it,
# so both versions are timed the same way. Nothing else of the old code changes.
set -euo pipefail
commit=$1 dir=$2
root=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$dir" && mkdir -p "$dir"
git -C "$root" archive "$commit" | tar -x -C "$dir"
ln -s "$root/node_modules" "$dir/node_modules"
for f in "$root"/lib/*.so* "$root/lib/bin" "$root/lib/llama.cpp"; do ln -sfn "$f" "$dir/lib/"; done
if ! diff -rq "$root/lib/shim" "$dir/lib/shim" >/dev/null; then
  L=$root/lib/llama.cpp F="-O2 -fPIC -I$L/include -I$L/ggml/include -I$L/tools/mtmd"
  rm -f "$dir/lib/libhearth_shim.so" && mkdir -p "$dir/.shim"
  gcc $F -std=c11 -c -o "$dir/.shim/hearth_shim.o" "$dir/lib/shim/hearth_shim.c"
  for src in "$dir"/lib/shim/*.cpp; do g++ $F -std=c++17 -c -o "$dir/.shim/$(basename "$src" .cpp).o" "$src"; done
  g++ -shared -o "$dir/lib/libhearth_shim.so" "$dir"/.shim/*.o -L"$root/lib" -lllama -lggml -lggml-base $(ls "$root"/lib/libmtmd.so >/dev/null 2>&1 && echo -lmtmd) '-Wl,-rpath,$ORIGIN'
fi
if [ ! -f "$dir/src/engine/loop-probe.ts" ]; then
  cp "$root/src/engine/loop-probe.ts" "$dir/src/engine/"
  python3 - "$dir/src/engine/runner.ts" <<'EOF'
import re, sys
p = sys.argv[1]
s = open(p).read()
s = s.replace('import { Scheduler } from "./scheduler.ts";\n', 'import { Scheduler } from "./scheduler.ts";\nimport { installLoopProbe } from "./loop-probe.ts";\n', 1)
s, n1 = re.subn(r'(this\.scheduler = new Scheduler\(model, \{.*?\n\s*\}\);\n)', r'\1        (this as any).probe = installLoopProbe(this.scheduler.ctx);\n', s, count=1, flags=re.S)
s, n2 = re.subn(r'(\n(\s*)await new Promise<void>\(resolve => \(this\.wake = resolve\)\);)', r'\n\2(this as any).probe?.idle();\1', s, count=1)
if n1 != 1 or n2 != 1:
    sys.exit("runner.ts: could not place the loop probe")
open(p, "w").write(s)
EOF
fi
echo "$dir: $commit ready"
