// `hearth import` end to end through the CLI: default q4_0 (the family recommendation), one progress
// line per stage when stderr is not a terminal, and a quantized model that loads and generates.
// The other --quant types give the file type asked for.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { importCheckpoint } from "../../src/import/import.ts";
import { Batch, LlamaContext, LlamaModel } from "../../src/llama/index.ts";
import { repoRoot } from "../helpers/paths.ts";
import { checkpoint, cleanup, tempRoot } from "./checkpoints.ts";

afterAll(cleanup);

function generate(path: string, prompt: string, n: number): { text: string; tokens: number[] } {
  using model = LlamaModel.load(path);
  using ctx = new LlamaContext(model, { nCtx: 64, nBatch: 64, nSeqMax: 1, threads: 1 });
  const batch = new Batch(64);
  const ids = [...model.vocab.tokenize(prompt, true, false)];
  ids.forEach((t, i) => batch.add(t, i, 0, i === ids.length - 1));
  ctx.decode(batch);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const logits = ctx.logitsView(batch.size - 1);
    let best = 0;
    for (let j = 1; j < logits.length; j++) if (logits[j]! > logits[best]!) best = j;
    out.push(best);
    batch.clear();
    batch.add(best, ids.length + i, 0, true);
    ctx.decode(batch);
  }
  return { text: model.vocab.detokenize(out), tokens: out };
}

describe("hearth import", () => {
  test("defaults to q4_0, reports each stage, and the model loads and generates", () => {
    const dir = checkpoint("qwen3");
    const out = join(tempRoot(), "cli-q4_0.gguf");
    const run = Bun.spawnSync([process.execPath, join(repoRoot, "src/cli.ts"), "import", dir, "--out", out], { stderr: "pipe", stdout: "pipe" });
    expect(run.exitCode).toBe(0);
    expect(run.stdout.toString().trim()).toBe(out);
    const lines = run.stderr.toString().split("\n").filter(l => l.startsWith("hearth import:"));
    expect(lines).toEqual([
      "hearth import: reading config and weights",
      "hearth import: reading the tokenizer",
      "hearth import: writing tensors (24 tensors)",
      "hearth import: quantizing",
      "hearth import: done",
    ]);
    using model = LlamaModel.load(out, { vocabOnly: true });
    const meta = model.metadata();
    expect(meta["general.file_type"]).toBe("2"); // LLAMA_FTYPE_MOSTLY_Q4_0
    expect(meta["general.architecture"]).toBe("qwen3");
    const g = generate(out, "Hello", 16);
    expect(g.tokens.length).toBe(16);
    expect(g.tokens.every(t => t >= 0 && t < model.vocab.nTokens)).toBe(true);
  });

  test.each([
    ["q8_0", "7"],
    ["f16", "1"],
    ["bf16", "32"],
  ] as const)("--quant %s gives file type %s", (quant, ftype) => {
    const out = join(tempRoot(), `llama2-${quant}.gguf`);
    importCheckpoint({ src: checkpoint("llama2"), out, quant });
    using model = LlamaModel.load(out, { vocabOnly: true });
    expect(model.metadata()["general.file_type"]).toBe(ftype);
    expect(generate(out, "Hello", 4).tokens.length).toBe(4);
  });

  test("a bf16 checkpoint quantizes from a bf16 intermediate file (half the size of f32)", () => {
    const out = join(tempRoot(), "qwen2-bf16-q4_0.gguf");
    importCheckpoint({ src: checkpoint("qwen2"), out, quant: "q4_0" });
    using model = LlamaModel.load(out, { vocabOnly: true });
    expect(model.metadata()["general.file_type"]).toBe("2");
    expect(generate(out, "Hello", 4).tokens.length).toBe(4);
  });

  test("a bad --quant is refused before anything is read", () => {
    const run = Bun.spawnSync([process.execPath, join(repoRoot, "src/cli.ts"), "import", "/nonexistent", "--quant", "q3_k"], { stderr: "pipe" });
    expect(run.exitCode).toBe(2);
    expect(run.stderr.toString()).toContain("--quant must be one of q4_0, q8_0, f16, bf16, f32");
  });

  test("errors are one clear line and exit 1", () => {
    const out = join(tempRoot(), "none.gguf");
    const run = Bun.spawnSync([process.execPath, join(repoRoot, "src/cli.ts"), "import", tempRoot(), "--out", out], { stderr: "pipe" });
    expect(run.exitCode).toBe(1);
    expect(run.stderr.toString()).toContain("missing config.json");
    expect(existsSync(out)).toBe(false);
  });
});
