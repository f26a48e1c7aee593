// The thinking decisions the chat core makes for every dialect (chat-core/thinking.ts), the JSON
// answer trim (chat/json-answer.ts) and the engine's budget state machine (engine/thinking-budget.ts),
// model-free: the engine's part runs on a fake vocabulary.
import { describe, expect, test } from "bun:test";
import { afterThinking, EFFORT_BUDGETS, renameRule, thinkingBudget, thinkMarkers, untilRules, withBudgetSwitch } from "../../src/api/chat-core/thinking.ts";
import { JsonAnswerTrim } from "../../src/chat/json-answer.ts";
import { ThinkingBudget, utf8Complete } from "../../src/engine/thinking-budget.ts";
import type { ThinkingControl } from "../../src/engine/types.ts";
import type { Vocab } from "../../src/llama/index.ts";

describe("budget resolution", () => {
  test("the request's tokens, else its effort's, else the model's default", () => {
    expect(thinkingBudget({ budgetTokens: 7, effort: "high" }, 3)).toBe(7);
    expect(thinkingBudget({ effort: "low" }, 3)).toBe(EFFORT_BUDGETS.low);
    expect(thinkingBudget({ effort: "unknown" }, 3)).toBe(3);
    expect(thinkingBudget({})).toBe(-1);
    expect(Object.entries(EFFORT_BUDGETS)).toEqual([["none", 0], ["minimal", 256], ["low", 1024], ["medium", 4096], ["high", 16384]]);
  });

  test("a budget of 0 turns the template's thinking off unless the request turned it on", () => {
    expect(withBudgetSwitch({ parse: true }, 0).enable).toBe(false);
    expect(withBudgetSwitch({ parse: true, enable: true }, 0).enable).toBe(true);
    expect(withBudgetSwitch({ parse: true }, 16).enable).toBeUndefined();
  });
});

describe("grammar after thinking", () => {
  test("the text up to </think> is llama-server's until rule for it", () => {
    // llama-server v0.5.0's grammar for Qwen3 / DeepSeek-R1 (LLAMA_SERVER_SLOTS_DEBUG=1 /slots).
    expect(untilRules("until-4", "</think>")).toEqual([
      "until-4 ::=  | [<] until-4-1 | [^<] until-4",
      "until-4-1 ::=  | [<] until-4-1 | [/] until-4-2 | [^</] until-4",
      "until-4-2 ::=  | [<] until-4-1 | [t] until-4-3 | [^<t] until-4",
      "until-4-3 ::=  | [<] until-4-1 | [h] until-4-4 | [^<h] until-4",
      "until-4-4 ::=  | [<] until-4-1 | [i] until-4-5 | [^<i] until-4",
      "until-4-5 ::=  | [<] until-4-1 | [n] until-4-6 | [^<n] until-4",
      "until-4-6 ::=  | [<] until-4-1 | [k] until-4-7 | [^<k] until-4",
      "until-4-7 ::=  | [<] until-4-1 | [^<>] until-4",
    ]);
    // A delimiter that overlaps itself falls back to the longest prefix it still matches.
    expect(untilRules("u", "aab")[2]).toBe("u-2 ::=  | [a] u-2 | [^ab] u");
  });

  test("renaming a rule leaves literals, classes, comments and longer names alone", () => {
    const gbnf = 'root ::= "root" [root] root-a # root\nroot-a ::= root';
    expect(renameRule(gbnf, "root", "x")).toBe('x ::= "root" [root] root-a # root\nroot-a ::= x');
  });

  const markers = { afterStart: "\n", beforeEnd: "\n", afterEnd: "\n\n" };
  const json = { gbnf: 'root ::= "{}" space\nspace ::= | " " | "\\n" [ \\t]{0,20}', textOnly: true };

  test("optional thinking, then the answer, as llama-server writes it for Qwen3", () => {
    const g = afterThinking(json, true, "optional", markers);
    expect(g.textOnly).toBe(true);
    expect(g.gbnf.split("\n")[0]).toBe('root ::= hearth-ws ("<think>" "\\n"? hearth-thinking "\\n"? "</think>" "\\n"? "\\n"?)? hearth-ws ("```json" hearth-ws hearth-answer "```" | hearth-ws hearth-answer)');
    expect(g.gbnf).toContain('hearth-answer ::= "{}" space');
    // The answer's own blanks become llama.cpp's current ones (up to two newlines).
    expect(g.gbnf).toContain('space ::= | " " | "\\n"{1,2} [ \\t]{0,20}');
  });

  test("a prompt that opened the thinking starts inside it; one that closed it, at the answer", () => {
    const open = afterThinking(json, true, "open", { afterStart: "", beforeEnd: "", afterEnd: "" });
    expect(open.gbnf.split("\n")[0]).toBe('root ::= hearth-thinking "</think>" hearth-ws ("```json" hearth-ws hearth-answer "```" | hearth-ws hearth-answer)');
    const closed = afterThinking({ gbnf: 'root ::= "<tool_call>"' }, false, "closed", markers);
    expect(closed.gbnf.split("\n")[0]).toBe("root ::= hearth-ws hearth-answer");
    expect(closed.gbnf).not.toContain("hearth-thinking");
  });

  test("the blanks a template writes around its thinking come from rendering it", () => {
    const renderer = { render: () => ({ prompt: "<|im_start|>assistant\n<think>\nREASONING\n</think>\n\nANSWER<|im_end|>\n" }) } as any;
    expect(thinkMarkers(renderer)).toEqual({ afterStart: "\n", beforeEnd: "\n", afterEnd: "\n\n" });
    const silent = { render: () => ({ prompt: "<｜Assistant｜>ANSWER" }) } as any;
    expect(thinkMarkers(silent)).toEqual({ afterStart: "", beforeEnd: "", afterEnd: "" });
  });
});

describe("a JSON answer's fence and blanks", () => {
  const trimAll = (pieces: string[]) => {
    const t = new JsonAnswerTrim();
    return pieces.map(p => t.push(p)).join("") + t.end();
  };
  test("streamed pieces give the value alone", () => {
    expect(trimAll(["``", "`js", "on\n", '{"a": ', "1}", "\n", "``", "`\n"])).toBe('{"a": 1}');
    expect(trimAll(["  \n", '"x y"', "  "])).toBe('"x y"');
    expect(trimAll(['{"s": "a  ', ' b"}'])).toBe('{"s": "a   b"}');
  });
  test("blanks inside the value are released once the value goes on", () => {
    const t = new JsonAnswerTrim();
    expect(t.push('{"a":')).toBe('{"a":');
    expect(t.push(" \n")).toBe("");
    expect(t.push("1}")).toBe(" \n1}");
  });
});

/** A vocabulary of one-character tokens (ids are char codes) plus `<think>` = 1000, `</think>` = 1001; 2000 is half a character. */
const fakeVocab = {
  tokenize(text: string): Int32Array {
    const out: number[] = [];
    for (let i = 0; i < text.length; ) {
      if (text.startsWith("<think>", i)) (out.push(1000), (i += 7));
      else if (text.startsWith("</think>", i)) (out.push(1001), (i += 8));
      else out.push(text.charCodeAt(i++));
    }
    return Int32Array.from(out);
  },
  pieceBytes(token: number): Uint8Array {
    if (token === 2000) return new Uint8Array([0xe4, 0xb8]);
    return new TextEncoder().encode(token === 1000 ? "<think>" : token === 1001 ? "</think>" : String.fromCharCode(token));
  },
} as unknown as Vocab;

const control = (over: Partial<ThinkingControl>): ThinkingControl => ({ start: "<think>", end: "</think>", after: "\n\n", prompt: "optional", budget: 3, ...over });
/** Feeds sampled tokens, taking forced ones where the budget forces; returns the whole output. */
function run(budget: ThinkingBudget, sampled: number[], steps: number): number[] {
  const out: number[] = [];
  for (let i = 0; out.length < steps; ) {
    const forced = budget.forcedToken();
    const token = forced ?? sampled[i++]!;
    budget.accept(token);
    out.push(token);
  }
  return out;
}

describe("the engine's thinking budget", () => {
  const a = 97;
  test("a thinking the model opens is closed after its budget, with the end marker and the family's newline", () => {
    const b = new ThinkingBudget(fakeVocab, control({}));
    expect(run(b, [1000, a, a, a, a, a], 8)).toEqual([1000, a, a, a, 1001, 10, 10, a]);
    expect(b.tokens).toBe(3);
  });

  test("the prompt's own thinking text counts; a natural end stops counting", () => {
    const b = new ThinkingBudget(fakeVocab, control({ prompt: "open", promptThinking: "\n", budget: 5 }));
    expect(run(b, [a, 1001, a, a, a, a], 6)).toEqual([a, 1001, a, a, a, a]);
    expect(b.tokens).toBe(1);
  });

  test("budget 0 closes at once; a closed prompt never forces", () => {
    expect(run(new ThinkingBudget(fakeVocab, control({ prompt: "open", budget: 0, after: "" })), [a], 2)).toEqual([1001, a]);
    const closed = new ThinkingBudget(fakeVocab, control({ prompt: "closed", budget: 0 }));
    expect(run(closed, [a, a], 2)).toEqual([a, a]);
    expect(closed.tokens).toBe(0);
  });

  test("a budget spent inside a character waits for the character to end", () => {
    expect(utf8Complete(new Uint8Array([0xe4, 0xb8]))).toBe(false);
    expect(utf8Complete(new Uint8Array([0xe4, 0xb8, 0x80]))).toBe(true);
    const b = new ThinkingBudget(fakeVocab, control({ prompt: "open", budget: 2, after: "" }));
    expect(run(b, [a, 2000, 2000, a, a], 5)).toEqual([a, 2000, 2000, a, 1001]);
  });

  test("a new <think> after the thinking closed opens a fresh budget (llama.cpp's re-arm), not counted again", () => {
    const b = new ThinkingBudget(fakeVocab, control({ prompt: "open", budget: 1, after: "" }));
    expect(run(b, [a, a, 1000, a, a], 6)).toEqual([a, 1001, a, 1000, a, 1001]);
    expect(b.tokens).toBe(1);
  });

  test("a marker the model spells in several tokens counts as its token does", () => {
    const b = new ThinkingBudget(fakeVocab, control({ prompt: "open", budget: 10, after: "" }));
    const spelled = [a, ..."</think>".split("").map(c => c.charCodeAt(0)), a];
    expect(run(b, spelled, spelled.length)).toEqual(spelled);
    // The end was found: no forcing later, and the thinking counted its text (the marker's pieces up to the last).
    expect(b.forcedToken()).toBeNull();
    expect(b.tokens).toBe(8);
  });

  test("no budget: only counted", () => {
    const b = new ThinkingBudget(fakeVocab, control({ budget: -1 }));
    expect(run(b, [1000, a, a, a, a, 1001, a], 7)).toEqual([1000, a, a, a, a, 1001, a]);
    expect(b.tokens).toBe(4);
  });
});
