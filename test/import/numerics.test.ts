// Every supported architecture: the imported f32 GGUF, run through Hearth's binding, gives the
// logits of an independent numpy forward pass over the checkpoint's own weights and the same 32
// greedy tokens. Relative error ≤ 1e-4 at every position, except where llama.cpp itself is less
// exact than that: its CPU GELU (Gemma) is an f16 lookup table (ggml-cpu/vec.h GGML_GELU_FP16).
// For Gemma the reference computes GELU the same way; the positions then agree to ~1e-6, but an
// activation that sits on an f16 rounding boundary can still round the other way (one f16 step),
// so Gemma's bound is: median position ≤ 1e-5, every position ≤ 1e-3.
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { importCheckpoint } from "../../src/import/import.ts";
import { ARCHS, checkpoint, cleanup, referenceForward, tempRoot } from "./checkpoints.ts";
import { bindingForward, relErrors } from "./run-model.ts";

afterAll(cleanup);

// Token ids inside every fixture's vocabulary, not special tokens.
const PROMPT = [1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000];

describe("imported f32 GGUF equals the reference forward pass", () => {
  for (const arch of ARCHS) {
    test(arch, async () => {
      const dir = checkpoint(arch);
      const out = join(tempRoot(), `${arch}-f32.gguf`);
      const r = importCheckpoint({ src: dir, out, quant: "f32" });
      expect(r.path).toBe(out);
      const gemma = arch.startsWith("gemma");
      const ref = await referenceForward(dir, PROMPT, 32, gemma);
      const got = bindingForward(out, PROMPT, 32);
      expect(got.logits.length).toBe(ref.logits.length);
      const errs = relErrors(got.logits, ref.logits, got.nVocab);
      const max = Math.max(...errs);
      const median = [...errs].sort((a, b) => a - b)[errs.length >> 1]!;
      console.log(`${arch}: relative logit error max ${max.toExponential(2)}, median ${median.toExponential(2)}`);
      if (gemma) {
        expect(median).toBeLessThanOrEqual(1e-5);
        expect(max).toBeLessThanOrEqual(1e-3);
      } else {
        expect(max).toBeLessThanOrEqual(1e-4);
      }
      expect(got.greedy).toEqual(ref.greedy);
      // A model that only repeats one token would make the greedy comparison weak.
      expect(new Set(got.greedy).size).toBeGreaterThan(3);
    }, 120_000);
  }
});
