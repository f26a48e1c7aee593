// Bad model files must give a clear error, never a native crash.
import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LlamaModel, ModelLoadError } from "../../src/llama/index.ts";
import { defaultModel } from "../helpers/paths.ts";

const dir = mkdtempSync(join(tmpdir(), "hearth-load-"));

test("a missing file is a ModelLoadError naming the path", () => {
  const path = join(dir, "nope.gguf");
  expect(() => LlamaModel.load(path)).toThrow(ModelLoadError);
  expect(() => LlamaModel.load(path)).toThrow(/not found.*nope\.gguf/);
});

test("a file that is not GGUF is refused before llama.cpp sees it", () => {
  const path = join(dir, "text.gguf");
  writeFileSync(path, "this is not a model, just some text that is long enough");
  expect(() => LlamaModel.load(path)).toThrow(/not a GGUF file/);
});

test.each([0.1, 0.5, 0.9])("a GGUF truncated to %p of its size fails cleanly", fraction => {
  const bytes = readFileSync(defaultModel);
  const path = join(dir, `truncated-${fraction}.gguf`);
  writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length * fraction)));
  expect(() => LlamaModel.load(path)).toThrow(ModelLoadError);
});

test("the process is still healthy: a good model loads after the failures", () => {
  const model = LlamaModel.load(defaultModel);
  expect(model.vocab.nTokens).toBe(512);
  model.dispose();
  expect(() => model.ptr).toThrow(/after dispose/);
});
