// Block-hash chains of token ids: how stored sequences are found (vLLM's prefix cache does the same).
//
// Tokens are cut into fixed blocks of BLOCK_TOKENS; block i's hash covers its tokens and block
// i-1's hash, and block 0 starts from the cache's namespace key (identity.ts). So equal hashes at
// block i mean equal prefixes of (i+1) blocks under the same model and KV layout, and every stored
// prefix of a prompt is found in one pass over the prompt's blocks. A trailing partial block gets
// no hash: the exact shared length is settled against the stored tokens when a file is read.

export const BLOCK_TOKENS = 16;

/** The chain hashes of every full block of `tokens` (64-bit wyhash, as bigint). */
export function blockChain(seed: bigint, tokens: ArrayLike<number>, maxBlocks = Infinity): bigint[] {
  const blocks = Math.min(Math.floor(tokens.length / BLOCK_TOKENS), maxBlocks);
  const chain: bigint[] = new Array(blocks);
  const block = new Int32Array(BLOCK_TOKENS);
  const bytes = new Uint8Array(block.buffer);
  let hash = seed;
  for (let b = 0; b < blocks; b++) {
    for (let i = 0; i < BLOCK_TOKENS; i++) block[i] = tokens[b * BLOCK_TOKENS + i]!;
    hash = Bun.hash.wyhash(bytes, hash);
    chain[b] = hash;
  }
  return chain;
}
