// Our Jinja rendering (@huggingface/jinja) must be byte-identical to llama.cpp's own engine for
// the real templates in llama.cpp's models/templates. The expected prompts were rendered by
// `llama-server --jinja` /apply-template (test/fixtures/make-golden.ts) and stored as golden files.
import { afterAll, describe, expect, setSystemTime, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ChatRenderer } from "../../src/chat/renderer.ts";
import type { ChatMessage } from "../../src/chat/types.ts";
import { conversations, goldenTemplates } from "../fixtures/conversations.ts";
import { llamaSrc } from "../helpers/paths.ts";

afterAll(() => setSystemTime());

describe.each(goldenTemplates)("%s", name => {
  const golden = JSON.parse(readFileSync(resolve(import.meta.dir, "../fixtures/golden", `${name}.json`), "utf8"));
  const source = readFileSync(resolve(llamaSrc, "models/templates", `${name}.jinja`), "utf8");
  // Templates that print today's date saw the day the golden file was made.
  setSystemTime(new Date(golden.rendered_on));
  const renderer = new ChatRenderer({ chatTemplate: source, bosText: golden.bos_token, eosText: golden.eos_token, modelId: name });
  setSystemTime();

  test.each(conversations.map(c => c.name))("%s renders byte-identically", caseName => {
    const conversation = conversations.find(c => c.name === caseName)!;
    const expected = golden.cases.find((c: any) => c.name === caseName);
    setSystemTime(new Date(golden.rendered_on));
    try {
      const rendered = renderer.render(conversation.messages as ChatMessage[], true, conversation.tools);
      expect(rendered.source).toBe("gguf");
      expect(rendered.prompt).toBe(expected.prompt);
    } finally {
      setSystemTime();
    }
  });
});
