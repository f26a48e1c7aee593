// End to end per family: a tiny random-weight model with the family's real vocabulary and
// template answers a chat request over HTTP, and its usage.prompt_tokens equals what llama.cpp's
// `llama-server --jinja` reports for the same request on the same file.
import { describe, expect, test } from "bun:test";
import { basename } from "node:path";
import { generatedModel, type FamilyModel } from "../helpers/models.ts";
import { postJson, startHearth, startLlamaServer } from "../helpers/server.ts";

const cases: Array<[FamilyModel, string]> = [
  ["family-qwen", "qwen"],
  ["family-gemma", "gemma"],
  ["family-llama3", "llama3"],
  ["family-llama-spm", "generic"],
  ["family-phi3", "phi3"],
  ["family-glm", "glm4"],
];

const request = {
  messages: [
    { role: "system", content: "You answer briefly." },
    { role: "user", content: "Name three colours." },
    { role: "assistant", content: "Red, green, blue." },
    { role: "user", content: "And one more?" },
  ],
  max_tokens: 8,
  temperature: 0,
};

describe.each(cases)("%s", (preset, family) => {
  test(`detected as ${family}; prompt_tokens equal llama-server --jinja's`, async () => {
    const path = await generatedModel(preset);
    const model = basename(path, ".gguf");
    const [hearth, reference] = await Promise.all([
      startHearth(["--model", path, "--threads", "1", "--parallel", "1", "--ctx-size", "2048"]),
      startLlamaServer(["-m", path, "--jinja", "-t", "1", "-np", "1", "-c", "2048"]),
    ]);
    try {
      const [ours, theirs]: any[] = await Promise.all(
        [hearth, reference].map(s => postJson(`${s.url}/v1/chat/completions`, { model, ...request }).then(r => r.json())),
      );
      expect(ours.object).toBe("chat.completion");
      expect(typeof ours.choices[0].message.content).toBe("string");
      expect(ours.usage.completion_tokens).toBeGreaterThan(0);
      expect(ours.usage.prompt_tokens).toBe(theirs.usage.prompt_tokens);
      const listed: any = await (await fetch(`${hearth.url}/v1/models/${model}`)).json();
      expect(listed.meta.family).toBe(family);
    } finally {
      await Promise.all([hearth.stop(), reference.stop()]);
    }
  });
});
