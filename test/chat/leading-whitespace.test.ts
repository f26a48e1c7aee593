// Where a reasoning (<think>) template's answer starts, as llama-server reads it: it parses
// `generation prompt, blanks, optional <think>…</think>, content`, so with thinking on the answer's
// leading ASCII whitespace is dropped (" depuis" → "depuis"), while after a prompt that closed
// thinking itself (enable_thinking: false) the answer is content as written. Whole answers and
// every way of cutting them into streamed pieces agree. Expected values are llama-server's own on
// the same model (test/server/glm-content-parity.test.ts checks them against it).
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { AnswerParser, parseAnswer, type AnswerSetup } from "../../src/chat/answer-parser.ts";
import { ChatRenderer } from "../../src/chat/renderer.ts";
import { reasoningSetup } from "../../src/api/chat-core/tools.ts";
import { llamaSrc } from "../helpers/paths.ts";

const glm = new ChatRenderer({ chatTemplate: readFileSync(`${llamaSrc}/models/templates/GLM-4.6.jinja`, "utf8"), bosText: "", eosText: "<|endoftext|>", modelId: "glm", family: "glm4" });

function setupFor(thinking: boolean): AnswerSetup {
  const prompt = glm.render([{ role: "user", content: "Bonjour" }], true, undefined, { enable_thinking: thinking }).prompt;
  return { reasoning: reasoningSetup({ parse: true }, glm, prompt).setup, tools: null };
}

function streamed(setup: AnswerSetup, text: string, size: number) {
  const parser = new AnswerParser(setup);
  let content = "";
  let reasoning = "";
  for (let i = 0; i < text.length; i += size) {
    const d = parser.push(text.slice(i, i + size));
    content += d.content;
    reasoning += d.reasoning;
  }
  const d = parser.end();
  return { content: content + d.content, reasoning: reasoning + d.reasoning };
}

const cases: Array<[string, boolean, string, { content: string; reasoning: string }]> = [
  ["a leading space", true, " depuis le", { content: "depuis le", reasoning: "" }],
  ["leading newlines and a space", true, "\n\n depuis", { content: "depuis", reasoning: "" }],
  ["a tab and a space", true, "\t x", { content: "x", reasoning: "" }],
  ["a no-break space is not ASCII whitespace: kept", true, "\u00a0nbsp", { content: "\u00a0nbsp", reasoning: "" }],
  ["blanks before <think>", true, "\n<think>r</think>\nb", { content: "b", reasoning: "r" }],
  ["an answer of blanks only is answered as written", true, "   ", { content: "   ", reasoning: "" }],
  ["thinking off: the leading space stays", false, " depuis le", { content: " depuis le", reasoning: "" }],
  ["thinking off: a tab and a space stay", false, "\t x", { content: "\t x", reasoning: "" }],
  ["thinking off: a <think> block the model writes anyway is content", false, "<think>r1</think>\nanswer", { content: "<think>r1</think>\nanswer", reasoning: "" }],
];

describe("GLM-4.6: where the answer starts", () => {
  test("the setup: <think> format; thinking off means the prompt closed <think>", () => {
    expect(setupFor(true).reasoning).toEqual({ format: "think", startsInReasoning: false, thinkingClosed: false });
    expect(setupFor(false).reasoning).toEqual({ format: "think", startsInReasoning: false, thinkingClosed: true });
  });

  test.each(cases)("%s", (_, thinking, text, expected) => {
    const setup = setupFor(thinking);
    const whole = parseAnswer(setup, text);
    expect({ content: whole.content, reasoning: whole.reasoning }).toEqual(expected);
    for (const size of [1, 2, 3, 5]) expect(streamed(setup, text, size)).toEqual(expected);
  });
});
