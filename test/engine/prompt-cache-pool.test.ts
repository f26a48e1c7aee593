// The prompt cache's buffer pool: a buffer handed back is the one the next state of a size it fits
// gets (its pages are already touched), the smallest that fits is taken, and spares stay within
// their byte bound.
import { expect, test } from "bun:test";
import { BufferPool } from "../../src/engine/prompt-cache/buffer-pool.ts";

test("a buffer given back is taken again for a state it fits, the smallest that fits first", () => {
  const pool = new BufferPool(1 << 20);
  const big = pool.take(1000);
  const small = pool.take(100);
  expect(big.length).toBe(1000);
  pool.give(big);
  pool.give(small);
  expect(pool.take(50)).toBe(small);
  expect(pool.take(500)).toBe(big);
  // Nothing spare left: a new one.
  const fresh = pool.take(10);
  expect(fresh).not.toBe(big);
  expect(fresh).not.toBe(small);
});

test("spares stay within the bound: the smallest give way, and one larger than the bound is not kept", () => {
  const pool = new BufferPool(1000);
  const a = new Uint8Array(600);
  const b = new Uint8Array(300);
  const c = new Uint8Array(300);
  pool.give(a);
  pool.give(b);
  pool.give(c); // 1200 > 1000: the smallest (one of the 300s) goes
  expect(pool.take(600)).toBe(a);
  const kept = pool.take(1);
  expect(kept === b || kept === c).toBe(true);
  expect(pool.take(1)).not.toBe(kept === b ? c : b);
  pool.give(new Uint8Array(2000));
  expect(pool.take(1500).length).toBe(1500);
});
