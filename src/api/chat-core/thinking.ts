// A reasoning model's thinking, decided once per request for every dialect: its budget (a token
// count, from the request, the effort table, the model's hearth.json entry or --reasoning-budget),
// the markers the engine follows and closes (engine/thinking-budget.ts), and the output constraint
// moved past the thinking: "optional thinking, then the answer", as llama-server v0.5.0 builds it
// (common/chat-auto-parser-generator.cpp), so that a model thinks freely and then answers in JSON
// or calls the tool it must call.
import type { ChatRenderer } from "../../chat/renderer.ts";
import type { GrammarConstraint, ThinkingControl } from "../../engine/types.ts";
import { classChar, literal } from "../../grammar/gbnf.ts";
import type { ReasoningOptions } from "./request.ts";

/** What each reasoning effort allows a model to think, in tokens (docs/reasoning.md). */
export const EFFORT_BUDGETS = { none: 0, minimal: 256, low: 1024, medium: 4096, high: 16384 } as const;
export type ReasoningEffort = keyof typeof EFFORT_BUDGETS;

/** An effort's budget in tokens, or undefined for an effort this table does not know. */
export function effortBudget(effort: string | undefined): number | undefined {
  return effort !== undefined && effort in EFFORT_BUDGETS ? EFFORT_BUDGETS[effort as ReasoningEffort] : undefined;
}

/**
 * The request's thinking budget: its own token count, else its effort's, else the model's default
 * (hearth.json's reasoning_budget, --reasoning-budget). -1: no limit.
 */
export function thinkingBudget(reasoning: Pick<ReasoningOptions, "budgetTokens" | "effort">, modelDefault = -1): number {
  return reasoning.budgetTokens ?? effortBudget(reasoning.effort) ?? modelDefault;
}

/**
 * A budget of 0 means no thinking: the template's switch is turned off (the prompt then closes the
 * thinking and a constraint applies from the first token), unless the request turned it on itself.
 */
export function withBudgetSwitch(reasoning: ReasoningOptions, budget: number): ReasoningOptions {
  return budget === 0 && reasoning.enable === undefined ? { ...reasoning, enable: false } : reasoning;
}

/** `<think>` and `</think>` as the template writes them around reasoning: the blanks it puts inside and after. */
export interface ThinkMarkers {
  /** Blanks after `<think>`, and before and after `</think>` (Qwen3: "\n", "\n", "\n\n"). */
  afterStart: string;
  beforeEnd: string;
  afterEnd: string;
}

const markerCache = new WeakMap<object, ThinkMarkers>();

/**
 * The blanks a template writes around `<think>…</think>`, read from a probe conversation whose
 * last assistant turn holds reasoning (a template that never renders reasoning, like DeepSeek-R1's,
 * writes none).
 */
export function thinkMarkers(renderer: Pick<ChatRenderer, "render">): ThinkMarkers {
  const cached = markerCache.get(renderer);
  if (cached) return cached;
  const found: ThinkMarkers = { afterStart: "", beforeEnd: "", afterEnd: "" };
  try {
    const probe = [
      { role: "user" as const, content: "U" },
      { role: "assistant" as const, content: "ANSWER", reasoning_content: "REASONING" },
    ];
    const text = renderer.render(probe, false).prompt;
    const m = /<think>([ \t\r\n]*)REASONING([ \t\r\n]*)<\/think>([ \t\r\n]*)ANSWER/.exec(text);
    if (m) [found.afterStart, found.beforeEnd, found.afterEnd] = [m[1]!, m[2]!, m[3]!];
  } catch {
    // A template that cannot render the probe writes no blanks we know of.
  }
  markerCache.set(renderer, found);
  return found;
}

/** Where the rendered prompt leaves the thinking. */
export type PromptThinking = ThinkingControl["prompt"];

/**
 * What the engine follows: the markers, the budget and what closing writes. With a constraint the
 * grammar lets the model write the blanks after `</think>` (as llama-server forces the marker
 * alone); without one, closing writes them as the template does, so the answer starts as it would.
 */
/** gpt-oss's thinking: its analysis message; the budget closes it and opens the final channel (when no grammar does). */
export function harmonyThinkingControl(budget: number, constrained: boolean): ThinkingControl {
  return { start: HARMONY_ANALYSIS, end: "<|end|>", after: constrained ? "" : "<|start|>assistant<|channel|>final<|message|>", prompt: "optional", budget };
}

export function thinkingControl(prompt: PromptThinking, budget: number, markers: ThinkMarkers, constrained: boolean, renderedPrompt: string): ThinkingControl {
  const control: ThinkingControl = { start: "<think>", end: "</think>", after: constrained ? "" : markers.afterEnd, prompt, budget };
  const opened = prompt === "open" ? renderedPrompt.slice(renderedPrompt.lastIndexOf("<think>") + "<think>".length) : "";
  return opened ? { ...control, promptThinking: opened } : control;
}

/** GBNF: `c` optional for each blank of `blanks` (llama-server's optspace). */
const optionalBlanks = (blanks: string) => [...blanks].map(c => `${literal(c)}?`).join(" ");

/**
 * Rules for text up to (not including) the first occurrence of `delimiter`: a automaton over how
 * much of the delimiter the text's end has matched (KMP), each state a rule that may end there.
 */
export function untilRules(name: string, delimiter: string): string[] {
  const d = [...delimiter];
  const fail: number[] = new Array(d.length).fill(0);
  for (let i = 1, k = 0; i < d.length; i++) {
    while (k > 0 && d[i] !== d[k]) k = fail[k - 1]!;
    if (d[i] === d[k]) k++;
    fail[i] = k;
  }
  const step = (state: number, c: string): number => {
    while (state > 0 && d[state] !== c) state = fail[state - 1]!;
    return d[state] === c ? state + 1 : 0;
  };
  const rule = (state: number) => (state === 0 ? name : `${name}-${state}`);
  const chars = [...new Set(d)];
  const rules: string[] = [];
  for (let state = 0; state < d.length; state++) {
    const alts = [""];
    const listed: string[] = [];
    for (const c of chars) {
      const next = step(state, c);
      if (next === 0) continue;
      listed.push(c);
      if (next < d.length) alts.push(`[${classChar(c)}] ${rule(next)}`);
    }
    alts.push(`[^${listed.map(classChar).join("")}] ${name}`);
    rules.push(`${rule(state)} ::= ${alts.join(" | ")}`);
  }
  return rules;
}

/** Renames rule `from` of a GBNF text (references and definition), leaving literals, classes and comments alone. */
export function renameRule(gbnf: string, from: string, to: string): string {
  let out = "";
  let i = 0;
  while (i < gbnf.length) {
    const c = gbnf[i]!;
    if (c === '"' || c === "[") {
      const close = c === '"' ? '"' : "]";
      let j = i + 1;
      while (j < gbnf.length && gbnf[j] !== close) j += gbnf[j] === "\\" ? 2 : 1;
      out += gbnf.slice(i, j + 1);
      i = j + 1;
    } else if (c === "#") {
      const j = gbnf.indexOf("\n", i);
      const end = j < 0 ? gbnf.length : j;
      out += gbnf.slice(i, end);
      i = end;
    } else if (/[a-zA-Z0-9-]/.test(c)) {
      let j = i;
      while (j < gbnf.length && /[a-zA-Z0-9-]/.test(gbnf[j]!)) j++;
      const word = gbnf.slice(i, j);
      out += word === from ? to : word;
      i = j;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const ANSWER = "hearth-answer";
const BODY = "hearth-thinking";
/** llama.cpp's JSON whitespace (common/json-schema-to-grammar.cpp's SPACE_RULE), around the answer. */
const WS = "hearth-ws";
const SPACE_BODY = `| " " | "\\n"{1,2} [ \\t]{0,20}`;
const WS_RULE = `${WS} ::= ${SPACE_BODY}`;
/** The blanks rule of Hearth's JSON grammars (grammar/json-primitives.ts), one newline at most. */
const HEARTH_JSON_SPACE = /^space ::= \| " " \| "\\n" \[ \\t\]\{0,20\}$/m;

/**
 * The constraint with optional thinking in front (llama-server's grammar shape): the thinking is any
 * text up to `</think>` (so end-of-generation cannot end it: the grammar is not complete there), then
 * the answer. A JSON answer may sit in a ```json fence, with blanks around it (AnswerParser strips
 * them). `prompt` "open": the prompt opened the thinking; "closed": it closed it (the answer alone).
 */
export function afterThinking(constraint: GrammarConstraint, json: boolean, prompt: PromptThinking, markers: ThinkMarkers): GrammarConstraint {
  let answerRules = renameRule(constraint.gbnf, "root", ANSWER);
  // Hearth's JSON rules end with their own blanks (where llama-server's wrapper adds them), so none
  // follow the value here; and those blanks are llama.cpp's current ones (up to two newlines), as
  // in llama-server's chat grammar.
  if (json) answerRules = answerRules.replace(HEARTH_JSON_SPACE, `space ::= ${SPACE_BODY}`);
  const answer = json ? `${WS} ("\`\`\`json" ${WS} ${ANSWER} "\`\`\`" | ${WS} ${ANSWER})` : `${WS} ${ANSWER}`;
  const close = [optionalBlanks(markers.beforeEnd), literal("</think>"), optionalBlanks(markers.afterEnd)].filter(Boolean).join(" ");
  let root: string;
  if (prompt === "closed") root = answer;
  else if (prompt === "open") root = `${BODY} ${close} ${answer}`;
  else root = `${WS} (${[literal("<think>"), optionalBlanks(markers.afterStart), BODY, close].filter(Boolean).join(" ")})? ${answer}`;
  const rules = [`root ::= ${root}`, WS_RULE, ...(prompt === "closed" ? [] : untilRules(BODY, "</think>")), answerRules];
  return { ...constraint, gbnf: rules.join("\n") };
}

const HARMONY_ANALYSIS = "<|channel|>analysis<|message|>";

/**
 * gpt-oss (harmony) after its thinking, as llama-server's gpt-oss grammar (common/parsers/gpt-oss.cpp):
 * an analysis message (free text up to `<|end|>`), then a JSON answer in the final channel (its
 * header may name the format: `<|constrain|>json`) or the forced call, which opens its own
 * commentary channel. The prompt ends with `<|start|>assistant`.
 */
export function harmonyAfterThinking(constraint: GrammarConstraint, json: boolean): GrammarConstraint {
  let answerRules = renameRule(constraint.gbnf, "root", ANSWER);
  if (json) answerRules = answerRules.replace(HEARTH_JSON_SPACE, `space ::= ${SPACE_BODY}`);
  const analysis = `${literal(HARMONY_ANALYSIS)} ${BODY} "<|end|>" "<|start|>assistant"`;
  // The format's name (`json`) is set off from the channel and bounded, unlike llama-server's
  // (where `final` may run on into any word).
  const format = `([ \\t\\n]* "<|constrain|>" [A-Za-z0-9_-]{1,16} | [ \\t\\n]+ [A-Za-z0-9_-]{1,16})?`;
  const answer = json ? `"<|channel|>final" ${format} "<|message|>" ${ANSWER}` : ANSWER;
  // One analysis message at most (llama-server allows any number): once the budget closes it, the
  // answer must follow, where a model could otherwise open thinking after thinking.
  const rules = [`root ::= (${analysis})? ${answer}`, ...untilRules(BODY, "<|end|>"), answerRules];
  return { ...constraint, gbnf: rules.join("\n") };
}
