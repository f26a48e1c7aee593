// Preloaded by bench/soak.ts into the server and its runners (BUN_OPTIONS=--preload): when the soak
// asks (it writes a number to $HEARTH_SOAK_PROBE/ask), the process collects its garbage fully and
// writes what is still live to $HEARTH_SOAK_PROBE/<pid>-<number>.json: the JS heap (bun:jsc
// heapStats) and what glibc malloc has handed out and not had back (malloc_info), which is where
// llama.cpp's allocations live. A leak raises these; RSS also moves with allocator caches and JIT
// warm-up (docs/reliability.md, Soak). The ask is polled, not signalled: JSC may use a signal of its
// own to suspend threads.
import { heapStats } from "bun:jsc";
import { dlopen, FFIType, type Pointer } from "bun:ffi";
import { readFileSync, renameSync, statSync, writeFileSync } from "node:fs";

const dir = process.env.HEARTH_SOAK_PROBE;
if (dir) {
  const libc = dlopen("libc.so.6", {
    fopen: { args: [FFIType.cstring, FFIType.cstring], returns: FFIType.ptr },
    fclose: { args: [FFIType.ptr], returns: FFIType.i32 },
    malloc_info: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  });
  const cString = (s: string) => Buffer.from(`${s}\0`);

  /** Bytes glibc malloc holds for the process: from its heaps, less what is free there, plus its own mmaps. */
  function mallocInUse(): number {
    const path = `${dir}/${process.pid}.xml`;
    const fp = libc.symbols.fopen(cString(path), cString("w")) as Pointer | null;
    if (!fp) return NaN;
    libc.symbols.malloc_info(0, fp);
    libc.symbols.fclose(fp);
    const xml = readFileSync(path, "utf8");
    // The process-wide totals follow the last </heap>.
    const tail = xml.slice(xml.lastIndexOf("</heap>"));
    const total = (type: string) => Number(tail.match(new RegExp(`<total type="${type}" count="\\d+" size="(\\d+)"/>`))?.[1]);
    const system = Number(tail.match(/<system type="current" size="(\d+)"\/>/)?.[1]);
    return system - total("fast") - total("rest") + total("mmap");
  }

  let answered = 0;
  setInterval(() => {
    let ask: number;
    try {
      if (statSync(`${dir}/ask`).size === 0) return;
      ask = Number(readFileSync(`${dir}/ask`, "utf8"));
    } catch {
      return;
    }
    if (!(ask > answered)) return;
    answered = ask;
    Bun.gc(true);
    const heap = heapStats();
    const out = { heapBytes: heap.heapSize, objects: heap.objectCount, types: heap.objectTypeCounts, mallocBytes: mallocInUse() };
    writeFileSync(`${dir}/${process.pid}-${ask}.tmp`, JSON.stringify(out));
    renameSync(`${dir}/${process.pid}-${ask}.tmp`, `${dir}/${process.pid}-${ask}.json`);
  }, 100).unref();
}
