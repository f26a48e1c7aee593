// CPU time of another process, read from /proc: what bench/token-cost.ts and bench/wake-cost.ts
// count instead of wall time, so that other work on the machine does not enter the figures.
import { readdirSync, readFileSync } from "node:fs";

/** CPU time (ms) a thread group has run, from each thread's schedstat (first field, ns); `onlyMain`: its main thread alone. */
export function processCpuMs(pid: number, onlyMain = false): number {
  const tasks = onlyMain ? [String(pid)] : readdirSync(`/proc/${pid}/task`);
  let ns = 0;
  for (const t of tasks) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      /* a thread that just ended */
    }
  }
  return ns / 1e6;
}
