// A measuring probe for the token loop, off unless HEARTH_LOOP_PROBE names a file: it times the
// runner's own thread outside llama_decode — wall clock and the thread's CPU clock — from the
// end of one decode to the start of the next, over steps that follow each other without the loop
// going idle. bench/token-cost.ts reads the file; nothing else uses it. The thread CPU clock is
// what makes the figure hold on a loaded machine: time other processes take from our core is
// not counted, as wall time would count it.
import { dlopen, FFIType } from "bun:ffi";
import { writeFileSync } from "node:fs";
import type { LlamaContext } from "../llama/index.ts";

const CLOCK_THREAD_CPUTIME_ID = 3;

let clock: { libc: ReturnType<typeof openLibc>; ts: BigInt64Array } | undefined;
const openLibc = () => dlopen("libc.so.6", { clock_gettime: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 } });

/** CPU time the calling thread has run, in ms (CLOCK_THREAD_CPUTIME_ID; Linux). */
export function threadMs(): number {
  clock ??= { libc: openLibc(), ts: new BigInt64Array(2) };
  clock.libc.symbols.clock_gettime(CLOCK_THREAD_CPUTIME_ID, clock.ts);
  return Number(clock.ts[0]!) * 1e3 + Number(clock.ts[1]!) / 1e6;
}

export interface LoopProbe {
  /** The loop is going to sleep: the next decode starts a new run of steps. */
  idle(): void;
}

/** Wraps `ctx.decode` with the probe when HEARTH_LOOP_PROBE is set; null otherwise. */
export function installLoopProbe(ctx: LlamaContext): LoopProbe | null {
  const path = process.env.HEARTH_LOOP_PROBE;
  if (!path) return null;
  const totals = { steps: 0, outsideWallMs: 0, outsideCpuMs: 0, decodeWallMs: 0, decodeCpuMs: 0 };
  let lastEnd: { wall: number; cpu: number } | null = null;
  let lastWrite = 0;
  const decode = ctx.decode.bind(ctx);
  ctx.decode = batch => {
    const wall0 = performance.now();
    const cpu0 = threadMs();
    if (lastEnd) {
      totals.steps++;
      totals.outsideWallMs += wall0 - lastEnd.wall;
      totals.outsideCpuMs += cpu0 - lastEnd.cpu;
    }
    try {
      decode(batch);
    } finally {
      const wall1 = performance.now();
      const cpu1 = threadMs();
      totals.decodeWallMs += wall1 - wall0;
      totals.decodeCpuMs += cpu1 - cpu0;
      lastEnd = { wall: wall1, cpu: cpu1 };
    }
  };
  return {
    idle() {
      lastEnd = null;
      // Written when the loop goes idle (between requests), never inside a run of steps.
      if (totals.steps !== lastWrite) writeFileSync(path, JSON.stringify(totals));
      lastWrite = totals.steps;
    },
  };
}
