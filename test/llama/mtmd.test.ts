// The libmtmd binding (src/llama/mtmd.ts over lib/shim/hearth_mtmd.cpp) on the tiny vision test
// models: a projector loads for its model and says what it needs (M-RoPE or not), images decode
// from file bytes (not from other bytes), each image comes with the model's own markup around it,
// and the encoder fills one embedding per image token.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { LlamaModel } from "../../src/llama/index.ts";
import { Projector } from "../../src/llama/mtmd.ts";
import { jpegFixture, png } from "../helpers/images.ts";
import { visionModelDir } from "../helpers/vision-models.ts";

const image = png(40, 30, (x, y) => [x * 6, y * 8, 50]);

describe.each([
  ["qwen2.5vl", { mrope: true, before: "<|vision_start|>", after: "<|vision_end|>" }],
  ["gemma3", { mrope: false, before: "<start_of_image>", after: "<end_of_image>" }],
] as const)("%s projector", (type, expected) => {
  let model: LlamaModel;
  let projector: Projector;
  beforeAll(async () => {
    const dir = await visionModelDir(type);
    model = LlamaModel.load(join(dir, "model.gguf"));
    projector = Projector.load(join(dir, "mmproj-model.gguf"), model, { useGpu: false, threads: 1 });
  });
  afterAll(() => {
    projector?.dispose();
    model?.dispose();
  });

  test("loads for its model and says how images are positioned", () => {
    expect(projector.vision).toBe(true);
    expect(projector.mrope).toBe(expected.mrope);
  });

  test("decodes PNG and JPEG bytes, and nothing else", async () => {
    const a = projector.decodeImage(image)!;
    expect([a.width, a.height]).toEqual([40, 30]);
    expect(a.pixelView().length).toBe(40 * 30 * 3);
    a.dispose();
    const b = projector.decodeImage(await jpegFixture())!;
    expect([b.width, b.height]).toEqual([48, 36]);
    b.dispose();
    expect(projector.decodeImage(new TextEncoder().encode("not an image"))).toBeNull();
    expect(projector.decodeImage(image.subarray(0, 60))).toBeNull();
  });

  test("an image comes with the model's markup around it, and encodes to one embedding per token", () => {
    const bitmap = projector.decodeImage(image)!;
    const chunks = projector.tokenizeImage(bitmap, "test")!;
    bitmap.dispose();
    expect(model.vocab.detokenize(chunks.before)).toBe(expected.before);
    expect(model.vocab.detokenize(chunks.after)).toBe(expected.after);
    // M-RoPE: an image takes fewer positions than it has tokens.
    if (expected.mrope) expect(chunks.nPos).toBeLessThan(chunks.nTokens);
    else expect(chunks.nPos).toBe(chunks.nTokens);
    const embd = projector.encode(chunks);
    expect(embd.length).toBe(chunks.nTokens * 64); // the text model's width
    expect(embd.every(Number.isFinite)).toBe(true);
    chunks.dispose();
  });
});

test("a file that is no projector does not load (an error, not a crash)", async () => {
  const dir = await visionModelDir("gemma3");
  const model = LlamaModel.load(join(dir, "model.gguf"));
  try {
    expect(() => Projector.load(join(dir, "model.gguf"), model, { useGpu: false, threads: 1 })).toThrow(/cannot load the projector/);
  } finally {
    model.dispose();
  }
});

test("every hearth_mtmd_* function the binding declares takes the parameters hearth_mtmd.cpp declares", async () => {
  const { readFileSync } = await import("node:fs");
  const { resolve } = await import("node:path");
  const { mtmdSymbols } = await import("../../src/llama/mtmd.ts");
  const { repoRoot } = await import("../helpers/paths.ts");
  const source = readFileSync(resolve(repoRoot, "lib/shim/hearth_mtmd.cpp"), "utf8").replace(/\/\/[^\n]*/g, "");
  const arity = new Map<string, number>();
  for (const m of source.matchAll(/\b(hearth_mtmd_\w+)\s*\(([^;{}()]*)\)\s*\{/g)) arity.set(m[1]!, m[2]!.trim() === "" ? 0 : m[2]!.split(",").length);
  const wrong = Object.entries(mtmdSymbols).filter(([name, def]) => arity.get(name) !== def.args.length).map(([name]) => name);
  expect(wrong).toEqual([]);
  expect(arity.size).toBe(Object.keys(mtmdSymbols).length);
});
