// The generated test models must load and generate in llama.cpp's own reference tool,
// so a failure in a test that uses them points at Hearth rather than at the generator.
import { expect, test } from "bun:test";
import { generatedModel, type GeneratedPreset } from "../helpers/models.ts";
import { refBin } from "../helpers/paths.ts";

const PROMPT = "Hello";

for (const preset of ["tiny-qwen2", "tiny-llama-spm"] as const satisfies GeneratedPreset[]) {
  test(`${preset} loads and generates in llama-simple`, async () => {
    const model = await generatedModel(preset);
    const run = Bun.spawnSync([refBin("llama-simple"), "-m", model, "-n", "8", PROMPT], {
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(run.exitCode, run.stderr.toString().slice(-2000)).toBe(0);
    // llama-simple echoes the prompt, then the sampled pieces; random weights still yield tokens.
    const text = run.stdout.toString();
    expect(text).toContain(PROMPT);
    expect(text.trim().length).toBeGreaterThan(PROMPT.length);
  });
}
