// The reasoning splitter on the text reasoning models write, whole and in pieces of every size.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { detectReasoningFormat, promptOpensThinking, reasoningSplitter, type ReasoningFormat } from "../../src/chat/reasoning.ts";
import { parseAnswer } from "../../src/chat/answer-parser.ts";
import { toolFormats } from "../../src/chat/tool-calls/formats.ts";
import { llamaSrc } from "../helpers/paths.ts";

function split(format: ReasoningFormat, inside: boolean, text: string, size: number) {
  const s = reasoningSplitter(format, inside);
  let content = "";
  let reasoning = "";
  for (let i = 0; i < text.length; i += size) {
    const d = s.push(text.slice(i, i + size));
    content += d.content;
    reasoning += d.reasoning;
  }
  const d = s.end();
  return { content: content + d.content, reasoning: reasoning + d.reasoning };
}

const cases: Array<[string, ReasoningFormat, boolean, string, { content: string; reasoning: string }]> = [
  ["Qwen3 thinking", "think", false, "<think>\nThe user greets me.\nI greet back.\n</think>\n\nHello!", { reasoning: "The user greets me.\nI greet back.", content: "Hello!" }],
  ["Qwen3 with thinking off (empty block)", "think", false, "<think>\n\n</think>\n\nHello!", { reasoning: "", content: "Hello!" }],
  ["DeepSeek-R1: the prompt opened <think>", "think", true, "Let me think: 2+2=4.\n</think>\n\nIt is 4.", { reasoning: "Let me think: 2+2=4.", content: "It is 4." }],
  ["cut off while thinking", "think", true, "Still thinking about", { reasoning: "Still thinking about", content: "" }],
  ["no thinking at all", "think", false, "Plain answer with </think> in it", { reasoning: "", content: "Plain answer with </think> in it" }],
  [
    "gpt-oss channels",
    "harmony",
    false,
    "<|channel|>analysis<|message|>User asks for a joke.<|end|><|start|>assistant<|channel|>final<|message|>Why did the chicken cross the road?",
    { reasoning: "User asks for a joke.", content: "Why did the chicken cross the road?" },
  ],
  ["gpt-oss, final only", "harmony", false, "<|channel|>final<|message|>Hi.", { reasoning: "", content: "Hi." }],
];

describe.each(cases)("%s", (_, format, inside, text, expected) => {
  test("whole and in pieces of 1 to 9 characters", () => {
    for (const size of [text.length, 1, 2, 3, 5, 9]) expect(split(format, inside, text, size)).toEqual(expected);
  });
});

test("formats and an opened <think> are read from templates and prompts", () => {
  const tmpl = (n: string) => readFileSync(`${llamaSrc}/models/templates/${n}.jinja`, "utf8");
  expect(detectReasoningFormat(tmpl("Qwen-Qwen3-0.6B"))).toBe("think");
  expect(detectReasoningFormat(tmpl("deepseek-ai-DeepSeek-R1-Distill-Qwen-32B"))).toBe("think");
  expect(detectReasoningFormat(tmpl("openai-gpt-oss-120b"))).toBe("harmony");
  expect(detectReasoningFormat(tmpl("Qwen-Qwen2.5-7B-Instruct"))).toBeNull();
  expect(promptOpensThinking("<｜Assistant｜><think>\n")).toBe(true);
  expect(promptOpensThinking("<|im_start|>assistant\n<think>\n\n</think>\n\n")).toBe(false);
});

test("thinking is split off before tool calls are parsed (a call inside thinking is not a call)", () => {
  const tools = [{ type: "function" as const, function: { name: "search", parameters: { type: "object" } } }];
  const a = parseAnswer(
    { reasoning: { format: "think", startsInReasoning: false }, tools: { formats: [toolFormats.hermes], definitions: tools } },
    '<think>Maybe <tool_call>{"name": "search", "arguments": {}}</tool_call>?</think>\n<tool_call>\n{"name": "search", "arguments": {"q": 1}}\n</tool_call>',
  );
  expect(a.reasoning).toContain("Maybe <tool_call>");
  expect(a.toolCalls.map(c => c.arguments)).toEqual(['{"q": 1}']);
  expect(a.content).toBe("");
});
