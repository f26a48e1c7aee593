// Families as data: detection from GGUF metadata, and each built-in template byte-identical to
// the family's official template (golden files rendered by llama.cpp) or to llama.cpp's own
// built-in template of that name (llama_chat_apply_template, through our binding).
import { describe, expect, setSystemTime, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { detectFamily, families, samplingDefaults, type Family } from "../../src/chat/families.ts";
import { ChatRenderer } from "../../src/chat/renderer.ts";
import type { ChatMessage } from "../../src/chat/types.ts";
import { applyBuiltinChatTemplate, LlamaModel } from "../../src/llama/index.ts";
import { conversations } from "../fixtures/conversations.ts";
import { defaultModel, llamaSrc } from "../helpers/paths.ts";

const template = (name: string) => readFileSync(resolve(llamaSrc, "models/templates", `${name}.jinja`), "utf8");

describe("detectFamily", () => {
  test.each([
    [{ "general.architecture": "qwen2" }, "qwen"],
    [{ "general.architecture": "qwen3moe" }, "qwen"],
    [{ "general.architecture": "gemma3" }, "gemma"],
    [{ "general.architecture": "glm4" }, "glm4"],
    [{ "general.architecture": "chatglm", "tokenizer.chat_template": "[gMASK]<sop>{% for m in messages %}" }, "glm4"],
    [{ "general.architecture": "chatglm" }, "chatglm3"],
    [{ "general.architecture": "phi3" }, "phi3"],
    [{ "general.architecture": "llama", "tokenizer.chat_template": template("meta-llama-Llama-3.1-8B-Instruct") }, "llama3"],
    [{ "general.architecture": "llama", "tokenizer.chat_template": template("mistralai-Mistral-Nemo-Instruct-2407") }, "mistral"],
    [{ "general.architecture": "llama", "general.name": "Llama 2 7B Chat" }, "llama2"],
    [{ "general.architecture": "llama", "general.name": "tinyllamas" }, "generic"],
  ] as Array<[Record<string, string>, Family]>)("%j → %s", (meta, family) => {
    expect(detectFamily(meta)).toBe(family);
  });

  test("the file name alone never outranks metadata", () => {
    expect(detectFamily({ "general.architecture": "gemma2" }, undefined, "/models/llama-2-7b.gguf")).toBe("gemma");
  });

  test("real GGUF metadata: stories260K is a generic llama; a Qwen2 vocab file is qwen by its template", () => {
    const stories = LlamaModel.load(defaultModel, { vocabOnly: true });
    expect(detectFamily(stories.metadata())).toBe("generic");
    stories.dispose();
    const qwen = LlamaModel.load(resolve(llamaSrc, "models/ggml-vocab-qwen2.gguf"), { vocabOnly: true });
    expect(detectFamily(qwen.metadata())).toBe("qwen");
    qwen.dispose();
  });
});

/** Built-in family → the official template whose golden output it must reproduce (no tools). */
const officialOf: Partial<Record<Family, string>> = {
  qwen: "Qwen-Qwen3-0.6B",
  gemma: "google-gemma-2-2b-it",
  llama3: "meta-llama-Llama-3.3-70B-Instruct",
  mistral: "mistralai-Mistral-Nemo-Instruct-2407",
  phi3: "microsoft-Phi-3.5-mini-instruct",
  glm4: "GLM-4.6",
};
const plain = conversations.filter(c => !c.tools);

describe.each(Object.entries(officialOf))("built-in %s template", (family, official) => {
  const golden = JSON.parse(readFileSync(resolve(import.meta.dir, "../fixtures/golden", `${official}.json`), "utf8"));
  test.each(plain.map(c => c.name))(`%s equals ${official}'s rendering`, name => {
    setSystemTime(new Date(golden.rendered_on));
    try {
      const renderer = new ChatRenderer({ chatTemplate: null, bosText: "<s>", eosText: "</s>", modelId: "t", family: family as Family });
      const rendered = renderer.render(plain.find(c => c.name === name)!.messages as ChatMessage[]);
      expect(rendered.source).toBe(`builtin:${family}`);
      expect(rendered.prompt).toBe(golden.cases.find((c: any) => c.name === name).prompt);
    } finally {
      setSystemTime();
    }
  });
});

// Llama 2 chat has no Jinja template in llama.cpp's tree: its built-in "llama2-sys-bos" is the reference.
describe.each([["llama2", "llama2-sys-bos"], ["chatglm3", "chatglm3"]] as const)("built-in %s template equals llama.cpp's built-in %s", (family, builtin) => {
  test.each(plain.map(c => c.name))("%s", name => {
    const messages = plain.find(c => c.name === name)!.messages;
    const reference = applyBuiltinChatTemplate(builtin, messages, true);
    const renderer = new ChatRenderer({ chatTemplate: null, bosText: "<s>", eosText: "</s>", modelId: "t", family });
    // llama.cpp's built-in writes no BOS of its own; ours drops the template's leading one.
    expect(renderer.render(messages as ChatMessage[]).prompt).toBe(reference.startsWith("<s>") ? reference.slice(3) : reference);
  });
});

test("every family lists stop tokens and renders a conversation", () => {
  for (const [family, data] of Object.entries(families)) {
    expect(data.stopTokens.length).toBeGreaterThan(0);
    const r = new ChatRenderer({ chatTemplate: null, bosText: "<s>", eosText: "</s>", modelId: "t", family: family as Family });
    expect(r.render([{ role: "user", content: "Hi" }]).prompt).toContain("Hi");
  }
});

test("a broken GGUF template falls back to the family's built-in one (with a warning), never an error", () => {
  const r = new ChatRenderer({ chatTemplate: "{% for m in messages %}{{ m.content ", bosText: "<s>", eosText: "</s>", modelId: "broken", family: "phi3" });
  const out = r.render([{ role: "user", content: "Hi" }]);
  expect(out.source).toBe("builtin:phi3");
  expect(out.prompt).toBe("<|user|>\nHi<|end|>\n<|assistant|>\n");
});

test("--chat-template NAME overrides the GGUF's template", () => {
  const r = new ChatRenderer({ chatTemplate: template("Qwen-Qwen3-0.6B"), bosText: "<s>", eosText: "</s>", modelId: "m", family: "qwen", override: "gemma" });
  expect(r.templateSource).toBe("builtin:gemma");
  expect(r.render([{ role: "user", content: "Hi" }]).prompt).toBe("<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n");
});

describe("sampling defaults", () => {
  test("the GGUF's general.sampling.* keys first, then the family's card, then llama-server's", () => {
    expect(samplingDefaults({}, "generic")).toEqual({ temperature: 0.8, topP: 0.95, topK: 40, minP: 0.05 });
    expect(samplingDefaults({}, "qwen")).toEqual({ temperature: 0.7, topP: 0.8, topK: 20, minP: 0 });
    expect(samplingDefaults({}, "llama3")).toEqual({ temperature: 0.6, topP: 0.9, topK: 40, minP: 0.05 });
    expect(samplingDefaults({ "general.sampling.temp": "0.3", "general.sampling.top_k": "5" }, "qwen")).toEqual({ temperature: 0.3, topP: 0.8, topK: 5, minP: 0 });
  });
});
