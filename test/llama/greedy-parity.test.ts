// Greedy generation through our binding must print exactly what llama.cpp's llama-simple prints
// for the same model and prompt. The reference binary runs inside the test.
import { afterAll, expect, test } from "bun:test";
import { Batch, LlamaContext, LlamaModel, Sampler, defaultSampling } from "../../src/llama/index.ts";
import { defaultModel, refBin } from "../helpers/paths.ts";

const N_PREDICT = 64;
const model = LlamaModel.load(defaultModel);
afterAll(() => model.dispose());

/** The same loop as llama-simple: prompt pieces, then up to N greedy tokens until end of generation. */
function generateGreedy(prompt: string, nPredict: number): string {
  const vocab = model.vocab;
  const tokens = Array.from(vocab.tokenize(prompt, true, true));
  const ctx = new LlamaContext(model, { nCtx: tokens.length + nPredict, nBatch: 512, nSeqMax: 1, threads: 2 });
  const sampler = new Sampler(vocab, { ...defaultSampling, temperature: 0 });
  const batch = new Batch(ctx.nBatch);
  let text = tokens.map(t => vocab.piece(t, true)).join("");
  try {
    tokens.forEach((t, i) => batch.add(t, i, 0, i === tokens.length - 1));
    let pos = tokens.length;
    for (let n = 0; n < nPredict; n++) {
      ctx.decode(batch);
      const next = sampler.sample(ctx.ptr, batch.size - 1);
      if (vocab.isEog(next)) break;
      text += vocab.piece(next, true);
      batch.clear();
      batch.add(next, pos++, 0, true);
    }
  } finally {
    sampler.dispose();
    ctx.dispose();
  }
  return text;
}

function referenceGreedy(prompt: string, nPredict: number): string {
  const run = Bun.spawnSync([refBin("llama-simple"), "-m", defaultModel, "-n", String(nPredict), prompt], {
    stdout: "pipe",
    stderr: "pipe",
  });
  expect(run.exitCode).toBe(0);
  return run.stdout.toString().replace(/\n$/, "");
}

const prompts = ["Once upon a time", "The little dog", "Lily and Tom went to the park. They", "One day, a big bear"];

test.each(prompts)("greedy text equals llama-simple's for %p", prompt => {
  const reference = referenceGreedy(prompt, N_PREDICT);
  const ours = generateGreedy(prompt, N_PREDICT);
  expect(reference.length).toBeGreaterThan(prompt.length + 20);
  expect(ours).toBe(reference);
});
