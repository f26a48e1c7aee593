// Log-probabilities of a sampled token from one row of logits: the model's own distribution
// (log-softmax of the raw logits), as llama-server reports by default (post_sampling_probs off)
// and as OpenAI documents. Only computed for requests that ask; two passes over the vocabulary.

/** log-softmax of `logits` at `token`, plus the `k` most likely tokens (most likely first). */
export function logprobsAt(logits: Float32Array, token: number, k: number): { logprob: number; top: Array<[number, number]> } {
  const n = logits.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (logits[i]! > max) max = logits[i]!;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(logits[i]! - max);
  const logZ = max + Math.log(sum);
  // Top k by insertion into a small sorted list; ties keep the lower id first (as a stable sort does).
  const ids: number[] = [];
  const vals: number[] = [];
  if (k > 0) {
    for (let i = 0; i < n; i++) {
      const v = logits[i]!;
      if (ids.length === k && v <= vals[k - 1]!) continue;
      let j = ids.length === k ? k - 1 : ids.length;
      while (j > 0 && vals[j - 1]! < v) {
        vals[j] = vals[j - 1]!;
        ids[j] = ids[j - 1]!;
        j--;
      }
      vals[j] = v;
      ids[j] = i;
      if (ids.length > k) {
        ids.length = k;
        vals.length = k;
      }
    }
  }
  return { logprob: logits[token]! - logZ, top: ids.map((id, i) => [id, vals[i]! - logZ]) };
}
