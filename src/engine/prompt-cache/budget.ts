// The prompt cache's default byte budget: the smaller of 8 GiB and a tenth of the free space where
// it lives (measured once, at start-up), so a nearly full disk gets a small cache, not a full one.
import { existsSync, statfsSync } from "node:fs";
import { dirname } from "node:path";

export const MAX_DEFAULT_BYTES = 8 * 2 ** 30;

export function defaultCacheBytes(dir: string): number {
  let at = dir;
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  try {
    const fs = statfsSync(at);
    return Math.min(MAX_DEFAULT_BYTES, Math.floor((fs.bavail * fs.bsize) / 10));
  } catch {
    return MAX_DEFAULT_BYTES;
  }
}
