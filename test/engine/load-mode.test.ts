import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chooseLoadMode, modelFileBytes } from "../../src/engine/load-mode.ts";

const GiB = 2 ** 30;

describe("chooseLoadMode", () => {
  test("auto reads a file that takes under half the free memory", () => {
    expect(chooseLoadMode("auto", 4 * GiB, 16 * GiB, "linux")).toBe("read");
    expect(chooseLoadMode("auto", 8 * GiB, 16 * GiB, "linux")).toBe("read");
  });

  test("auto maps a file too big to hold comfortably, so the kernel can page it", () => {
    expect(chooseLoadMode("auto", 8 * GiB + 1, 16 * GiB, "linux")).toBe("mmap");
    expect(chooseLoadMode("auto", 40 * GiB, 16 * GiB, "linux")).toBe("mmap");
  });

  test("auto maps on macOS, where Metal uses the mapped pages", () => {
    expect(chooseLoadMode("auto", 1 * GiB, 64 * GiB, "darwin")).toBe("mmap");
  });

  test("an explicit mode is kept whatever the sizes", () => {
    expect(chooseLoadMode("mmap", 1, 64 * GiB, "linux")).toBe("mmap");
    expect(chooseLoadMode("read", 40 * GiB, 16 * GiB, "linux")).toBe("read");
  });
});

describe("modelFileBytes", () => {
  test("a split model counts all of its parts", () => {
    const dir = mkdtempSync(join(tmpdir(), "hearth-split-"));
    writeFileSync(join(dir, "m-00001-of-00003.gguf"), new Uint8Array(100));
    writeFileSync(join(dir, "m-00002-of-00003.gguf"), new Uint8Array(250));
    writeFileSync(join(dir, "m-00003-of-00003.gguf"), new Uint8Array(7));
    writeFileSync(join(dir, "plain.gguf"), new Uint8Array(42));
    expect(modelFileBytes(join(dir, "m-00001-of-00003.gguf"))).toBe(357);
    expect(modelFileBytes(join(dir, "plain.gguf"))).toBe(42);
    // Missing: 0, and the loader reports the file in its own words.
    expect(modelFileBytes(join(dir, "gone.gguf"))).toBe(0);
  });
});
