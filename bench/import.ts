// Import benchmark (not a test): a random-weight checkpoint in Qwen2.5-0.5B's shape (bf16, tied
// embeddings, the real Qwen tokenizer) → q4_0 GGUF through `hearth import`. Reports wall time and
// the import process's peak RSS next to the checkpoint's size on disk.
//
//   bun bench/import.ts [--quant q4_0] [--threads N] [--keep]
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { quant: { type: "string", default: "q4_0" }, threads: { type: "string", default: "2" }, keep: { type: "boolean", default: false } },
});
const root = resolve(import.meta.dir, "..");
const work = mkdtempSync(join(tmpdir(), "hearth-import-bench-"));
const ckpt = join(work, "qwen2.5-0.5b-shape");
const mib = (n: number) => `${(n / 1048576).toFixed(0)} MiB`;

try {
  const gen = Bun.spawnSync(["python3", join(root, "test/import/fixtures/make-checkpoint.py"), "qwen2", ckpt, "--dtype", "bf16", "--shape", "qwen2.5-0.5b"], { stderr: "inherit" });
  if (!gen.success) throw new Error("checkpoint generation failed");
  const onDisk = readdirSync(ckpt).reduce((n, f) => n + statSync(join(ckpt, f)).size, 0);
  const out = join(work, `out-${values.quant}.gguf`);
  const t0 = performance.now();
  const run = Bun.spawnSync([process.execPath, join(root, "src/cli.ts"), "import", ckpt, "--out", out, "--quant", values.quant!, "--threads", values.threads!], { stderr: "inherit" });
  const seconds = (performance.now() - t0) / 1000;
  if (!run.success) throw new Error("import failed");
  const rss = run.resourceUsage.maxRSS; // bytes (Bun reports maxRSS in bytes)
  console.log(`checkpoint on disk: ${mib(onDisk)} (bf16, Qwen2.5-0.5B shape, tied embeddings)`);
  console.log(`import → ${values.quant}: ${seconds.toFixed(1)} s, peak RSS ${mib(rss)}, output ${mib(statSync(out).size)} (threads ${values.threads})`);
} finally {
  if (!values.keep) rmSync(work, { recursive: true, force: true });
  else console.log(`kept ${work}`);
}
