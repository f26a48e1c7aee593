// How long an idle slot keeps its KV cache.
//
// A slot keeps its tokens after its job ends so that the conversation's next turn skips them. But
// in the unified KV cache every ubatch attends over the whole occupied span, so an idle cache of L
// cells adds L cells of attention to every token the engine processes for anyone else. Keeping it
// is renting; dropping it means buying it back (a prefill of L tokens) if the conversation returns.
// The break-even rule for such rent-or-buy choices: keep the cache until the rent paid equals the
// price of buying, then drop it. That is never worse than twice the better choice in hindsight.
//
// Rent per processed token is L·a (a: attention work per cell), the price L·m (m: work of one
// token's forward pass), so the break-even point is m/a processed tokens, whatever L is. A server
// with no other traffic never evicts: caches wait for their users however long they take.

import type { LlamaModel } from "../llama/index.ts";

/**
 * Tokens the engine may process for others before an idle cache is dropped: m/a, estimated from
 * the model's shape. m ≈ 2·n_params (every weight once, the output layer included), a ≈ 4·n_layer·
 * n_embd (q·k and p·v per layer). For Qwen2.5-0.5B that is ~11,500 tokens; the cost measured on a
 * 2-core CPU puts it nearer 6,500 (attention runs at fewer flops per second than matmuls), well
 * within the factor the rule tolerates.
 */
export function idleCacheLifetime(model: Pick<LlamaModel, "nParams" | "nLayer" | "nEmbd">): number {
  const attentionPerCell = 4 * model.nLayer * model.nEmbd;
  if (attentionPerCell <= 0) return Infinity;
  return Math.max(1, Math.round((2 * model.nParams) / attentionPerCell));
}
