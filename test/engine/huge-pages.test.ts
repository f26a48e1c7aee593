// The runner's environment asks glibc for huge pages, keeping whatever tunables the user set.
import { describe, expect, test } from "bun:test";
import { withHugePages } from "../../src/engine/huge-pages.ts";

describe("withHugePages", () => {
  test("adds the tunable when GLIBC_TUNABLES is unset", () => {
    expect(withHugePages({ PATH: "/bin" })).toEqual({ PATH: "/bin", GLIBC_TUNABLES: "glibc.malloc.hugetlb=1" });
  });
  test("appends it to the user's other tunables", () => {
    expect(withHugePages({ GLIBC_TUNABLES: "glibc.malloc.arena_max=2" }).GLIBC_TUNABLES).toBe("glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1");
  });
  test("leaves a user's own choice of glibc.malloc.hugetlb alone", () => {
    expect(withHugePages({ GLIBC_TUNABLES: "glibc.malloc.hugetlb=0" }).GLIBC_TUNABLES).toBe("glibc.malloc.hugetlb=0");
    expect(withHugePages({ GLIBC_TUNABLES: "glibc.malloc.tcache_count=0:glibc.malloc.hugetlb=2" }).GLIBC_TUNABLES).toBe("glibc.malloc.tcache_count=0:glibc.malloc.hugetlb=2");
  });
});
