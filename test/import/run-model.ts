// Runs an imported GGUF through Hearth's binding: logits of every prompt position (f32 KV cache)
// and a greedy continuation. Flash attention is off: on the CPU it rounds attention inputs to f16
// (relative logit error ~5e-4 measured here, ~2e-7 without it).
import { Batch, LlamaContext, LlamaModel } from "../../src/llama/index.ts";

export function bindingForward(path: string, tokens: number[], greedy: number): { logits: Float32Array; greedy: number[]; nVocab: number } {
  using model = LlamaModel.load(path);
  using ctx = new LlamaContext(model, { nCtx: 128, nBatch: 128, nSeqMax: 1, threads: 1, kvF32: true, flashAttn: 0 });
  const nVocab = ctx.nVocab;
  const batch = new Batch(ctx.nBatch);
  tokens.forEach((t, i) => batch.add(t, i, 0, true));
  ctx.decode(batch);
  const logits = new Float32Array(tokens.length * nVocab);
  for (let i = 0; i < tokens.length; i++) logits.set(ctx.logitsView(i), i * nVocab);
  const out: number[] = [];
  let last: Float32Array = logits.subarray((tokens.length - 1) * nVocab);
  for (let n = 0; n < greedy; n++) {
    let best = 0;
    for (let i = 1; i < nVocab; i++) if (last[i]! > last[best]!) best = i;
    out.push(best);
    batch.clear();
    batch.add(best, tokens.length + n, 0, true);
    ctx.decode(batch);
    last = ctx.logitsView(0);
  }
  return { logits, greedy: out, nVocab };
}

/** Per position: max |a − b| / max |b| over the vocabulary. */
export function relErrors(a: Float32Array, b: Float32Array, nVocab: number): number[] {
  const out: number[] = [];
  for (let p = 0; p < a.length / nVocab; p++) {
    let diff = 0;
    let scale = 0;
    for (let i = p * nVocab; i < (p + 1) * nVocab; i++) {
      diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
      scale = Math.max(scale, Math.abs(b[i]!));
    }
    out.push(diff / scale);
  }
  return out;
}
