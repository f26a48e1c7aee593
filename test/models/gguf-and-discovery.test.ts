// Model files without loading them: our GGUF header reader agrees with llama.cpp, and discovery
// names files as the conventions say (split models once, collisions by sub-folder, new files seen).
import { describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LlamaModel } from "../../src/llama/index.ts";
import { discoverModels } from "../../src/models/discover.ts";
import { readGgufHeader, summarize } from "../../src/models/gguf.ts";
import { generatedModel } from "../helpers/models.ts";
import { defaultModel } from "../helpers/paths.ts";

describe("GGUF header reader", () => {
  test.each(["stories260K", "tiny-qwen2", "tiny-llama-spm", "family-gemma"])("%s: metadata and parameter count equal llama.cpp's", async name => {
    const path = name === "stories260K" ? defaultModel : await generatedModel(name as "tiny-qwen2");
    const summary = summarize(await readGgufHeader(path));
    const model = LlamaModel.load(path);
    try {
      const theirs = model.metadata();
      let compared = 0;
      for (const [key, value] of Object.entries(theirs)) {
        const ours = summary.metadata[key];
        expect(ours).toBeDefined();
        if (ours!.startsWith("arr[")) continue; // arrays: llama.cpp prints them its own way
        if (key === "tokenizer.chat_template") expect(ours).toBe(value);
        else if (Number.isFinite(Number(value)) && value !== "") expect(Number(ours)).toBeCloseTo(Number(value), 5);
        else expect(ours).toBe(value);
        compared++;
      }
      expect(compared).toBeGreaterThan(5);
      expect(summary.parameters).toBe(model.nParams);
      expect(summary.contextLength).toBe(model.nCtxTrain);
      expect(summary.architecture).toBe(theirs["general.architecture"]!);
    } finally {
      model.dispose();
    }
  });

  test("quantization is named from general.file_type", async () => {
    expect(summarize(await readGgufHeader(await generatedModel("tiny-qwen2"))).quantization).toBe("F32");
  });

  test("a truncated or foreign file is an error, not a crash", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hearth-gguf-"));
    await Bun.write(join(dir, "short.gguf"), (await Bun.file(defaultModel).arrayBuffer()).slice(0, 100));
    await Bun.write(join(dir, "text.gguf"), "hello");
    await expect(readGgufHeader(join(dir, "short.gguf"))).rejects.toThrow(/truncated/);
    // Cut inside the vocabulary (a ~7 MiB header, read through a 256 KiB window).
    await Bun.write(join(dir, "cut-vocab.gguf"), (await Bun.file(await generatedModel("tiny-qwen2")).arrayBuffer()).slice(0, 3 << 20));
    await expect(readGgufHeader(join(dir, "cut-vocab.gguf"))).rejects.toThrow(/truncated/);
    await expect(readGgufHeader(join(dir, "text.gguf"))).rejects.toThrow(/not a GGUF/);
  });
});

describe("discovery", () => {
  test("ids from file names; a split model once; a colliding stem gets its folder; new files appear", () => {
    const dir = mkdtempSync(join(tmpdir(), "hearth-discover-"));
    mkdirSync(join(dir, "team"));
    copyFileSync(defaultModel, join(dir, "alpha.gguf"));
    copyFileSync(defaultModel, join(dir, "team", "alpha.gguf"));
    copyFileSync(defaultModel, join(dir, "big-00001-of-00002.gguf"));
    copyFileSync(defaultModel, join(dir, "big-00002-of-00002.gguf"));
    expect(discoverModels([], [dir]).map(m => m.id).sort()).toEqual(["alpha", "big", "team/alpha"]);
    copyFileSync(defaultModel, join(dir, "later.gguf"));
    expect(discoverModels([], [dir]).map(m => m.id)).toContain("later");
  });

  test("symbolic links are followed: Hugging Face's cache layout, a linked folder; loops end, dangling links are skipped", () => {
    const dir = mkdtempSync(join(tmpdir(), "hearth-links-"));
    // Hugging Face's cache: snapshots/<rev>/<name>.gguf → ../../blobs/<sha> (the blob has no extension).
    const repo = join(dir, "hub", "models--owner--tiny-GGUF");
    mkdirSync(join(repo, "blobs"), { recursive: true });
    mkdirSync(join(repo, "snapshots", "0123abcd"), { recursive: true });
    copyFileSync(defaultModel, join(repo, "blobs", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"));
    symlinkSync("../../blobs/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", join(repo, "snapshots", "0123abcd", "tiny-q8_0.gguf"));
    // A folder of models elsewhere, linked into the models folder, and a file linked by another name.
    const elsewhere = mkdtempSync(join(tmpdir(), "hearth-elsewhere-"));
    copyFileSync(defaultModel, join(elsewhere, "far.gguf"));
    symlinkSync(elsewhere, join(dir, "shared"));
    symlinkSync(defaultModel, join(dir, "story.gguf"));
    // A loop (a folder that links to its parent, and to itself), and dangling links to a file and a folder.
    symlinkSync("..", join(dir, "hub", "up"));
    symlinkSync(".", join(elsewhere, "again"));
    symlinkSync(join(dir, "gone.gguf"), join(dir, "dangling.gguf"));
    symlinkSync(join(dir, "gone-folder"), join(dir, "dangling-folder"));

    const models = discoverModels([], [dir]);
    expect(models.map(m => m.id).sort()).toEqual(["far", "story", "tiny-q8_0"]);
    const tiny = models.find(m => m.id === "tiny-q8_0")!;
    // The model keeps the link's path and name (not the blob's); its size is the blob's.
    expect(tiny.path).toBe(join(repo, "snapshots", "0123abcd", "tiny-q8_0.gguf"));
    expect(tiny.sizeBytes).toBe(Bun.file(defaultModel).size);
    expect(models.find(m => m.id === "far")!.path).toBe(join(dir, "shared", "far.gguf"));
    // The same folder given twice, or once through a link, is walked once.
    expect(discoverModels([], [dir, join(dir, "shared"), elsewhere]).map(m => m.id).sort()).toEqual(["far", "story", "tiny-q8_0"]);
  });
});
