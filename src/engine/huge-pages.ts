// The runner's native heap on transparent huge pages.
//
// llama.cpp keeps the weights it reads in (and the CPU backend's repacked copies, the KV cache, the
// compute buffers) in memory from glibc's allocator. Where the kernel offers transparent huge pages
// only on request (`/sys/kernel/mm/transparent_hugepage/enabled` = madvise, the common default),
// those buffers sit on 4 KiB pages and every matrix pass walks ~100 TLB entries per 400 KiB.
// glibc's `glibc.malloc.hugetlb=1` tunable makes its allocator ask for huge pages (madvise) on the
// memory it maps; measured on the 2-core machine with the Qwen2.5-0.5B-shaped Q4_0 model,
// llama-bench's decode went from 65–67 to 77–79 tokens/s (docs/token-loop.md). glibc reads the
// tunable once at start, so it goes in the runner's environment. A user who sets
// `glibc.malloc.hugetlb` themselves (0 to keep 4 KiB pages) is left alone; elsewhere (macOS) the
// variable means nothing.

const TUNABLE = "glibc.malloc.hugetlb";

/** `env` with the huge-page tunable added to GLIBC_TUNABLES, unless it already names it. */
export function withHugePages(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const tunables = env.GLIBC_TUNABLES ?? "";
  if (tunables.split(":").some(t => t.split("=")[0] === TUNABLE)) return env;
  return { ...env, GLIBC_TUNABLES: tunables ? `${tunables}:${TUNABLE}=1` : `${TUNABLE}=1` };
}
