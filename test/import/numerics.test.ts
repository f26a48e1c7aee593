// Every supported architecture: the imported f32 GGUF, run through Hearth's binding, gives the
// logits of an independent numpy forward pass over the checkpoint's own weights (relative error
// ≤ 1e-4 at every position) and the same 32 greedy tokens.
//
// Gemma's GELU on llama.cpp's CPU is an f16 lookup table (ggml-cpu/vec.h GGML_GELU_FP16), which the
// reference reproduces. But an input nearer an f16 rounding midpoint than llama.cpp's float32 value
// is to the float64 one may round the other way: one f16 step, up to ~1.5e-4 in this tiny model's
// logits (PROMPT: layer 0, position 7). So Gemma is compared on the first of some seeded prompts
// where the reference bounds the effect of all such roundings well below the tolerance.
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { importCheckpoint } from "../../src/import/import.ts";
import { type Arch, ARCHS, checkpoint, cleanup, referenceForward, tempRoot } from "./checkpoints.ts";
import { bindingForward, relErrors } from "./run-model.ts";

afterAll(cleanup);

// Token ids inside every fixture's vocabulary, not special tokens.
const PROMPT = [1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000];

// llama.cpp's float32 GELU inputs differ from the reference's float64 ones by at most 1.4e-6
// (measured on 65,536 inputs of both Gemma fixtures, from llama.cpp's own ffn_gate tensors).
const NEAR_MIDPOINT = 2e-6;
// The reference's bound on the relative logit error if every input that near rounded the other way
// (tens of them; most do not): with llama.cpp's ~5e-7 float32 noise it stays under the 1e-4
// tolerance. About 1 in 10 prompts meets it for Gemma 2, where one flip can cost 1.5e-4.
const AMBIGUITY_MAX = 9e-5;

/** Deterministic 8-token prompts (ids 1000..19999), for Gemma's well-conditioned comparison. */
function candidatePrompts(count: number): number[][] {
  let s = 1;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
  return Array.from({ length: count }, () => Array.from({ length: 8 }, () => 1000 + (next() % 19000)));
}

/** The checkpoint and its f32 import (imported once per architecture). */
const imported = new Map<Arch, { dir: string; gguf: string }>();
function importF32(arch: Arch): { dir: string; gguf: string } {
  let made = imported.get(arch);
  if (!made) {
    const dir = checkpoint(arch);
    const gguf = join(tempRoot(), `${arch}-f32.gguf`);
    expect(importCheckpoint({ src: dir, out: gguf, quant: "f32" }).path).toBe(gguf);
    imported.set(arch, (made = { dir, gguf }));
  }
  return made;
}

/** Largest and median per-position relative logit error; asserts the greedy tokens match. */
async function compare(arch: Arch, prompt: number[], label: string): Promise<{ max: number; median: number }> {
  const { dir, gguf } = importF32(arch);
  const ref = await referenceForward(dir, prompt, 32, { geluF16Table: arch.startsWith("gemma") });
  const got = bindingForward(gguf, prompt, 32);
  expect(got.logits.length).toBe(ref.logits.length);
  const errs = relErrors(got.logits, ref.logits, got.nVocab);
  const median = [...errs].sort((a, b) => a - b)[errs.length >> 1]!;
  const max = Math.max(...errs);
  console.log(`${label}: relative logit error max ${max.toExponential(2)}, median ${median.toExponential(2)}`);
  expect(got.greedy).toEqual(ref.greedy);
  // A model that only repeats one token would make the greedy comparison weak.
  expect(new Set(got.greedy).size).toBeGreaterThan(3);
  return { max, median };
}

/** The first candidate prompt whose GELU roundings cannot move the logits by more than AMBIGUITY_MAX. */
async function wellConditionedPrompt(arch: Arch): Promise<number[]> {
  const dir = checkpoint(arch);
  for (const prompt of candidatePrompts(24)) {
    const r = await referenceForward(dir, prompt, 0, { geluF16Table: true, geluNearMidpoint: NEAR_MIDPOINT });
    if (r.geluAmbiguity! <= AMBIGUITY_MAX) {
      console.log(`${arch}: prompt ${prompt.join(",")}: ${r.geluAmbiguous} GELU inputs within ${NEAR_MIDPOINT} of an f16 midpoint, bound ${r.geluAmbiguity!.toExponential(2)}`);
      return prompt;
    }
  }
  throw new Error(`${arch}: no candidate prompt has a GELU rounding bound ≤ ${AMBIGUITY_MAX}`);
}

describe("imported f32 GGUF equals the reference forward pass", () => {
  for (const arch of ARCHS) {
    test(arch, async () => {
      const prompt = arch.startsWith("gemma") ? await wellConditionedPrompt(arch) : PROMPT;
      const { max } = await compare(arch, prompt, arch);
      expect(max).toBeLessThanOrEqual(1e-4);
    }, 120_000);
  }

  // PROMPT puts a Gemma 2 GELU input 2e-7 from an f16 midpoint, which llama.cpp rounds the other
  // way (1.5e-4 at position 7): a looser bound there, kept so that case stays visible.
  for (const arch of ["gemma2", "gemma3"] as const) {
    test(`${arch} on PROMPT, ill-conditioned: median ≤ 1e-5, max ≤ 1e-3`, async () => {
      const { max, median } = await compare(arch, PROMPT, `${arch} on PROMPT`);
      expect(median).toBeLessThanOrEqual(1e-5);
      expect(max).toBeLessThanOrEqual(1e-3);
    }, 120_000);
  }
});
