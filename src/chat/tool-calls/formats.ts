// How each model family writes tool calls, as data plus a small parser each: the texts that open
// a call (the grammar trigger, and what the stream holds back), the control tokens whose text the
// parser must see, the parser of a call section, and the grammar that forces a call.
import { literal } from "../../grammar/gbnf.ts";
import { jsonSchemaToGbnf, SchemaBudget } from "../../grammar/json-schema-grammar.ts";
import { scanObject, scanValue, skipWs } from "./json-scan.ts";
import type { PartialCall, SectionParse, ToolDefinition } from "./types.ts";

export type ToolFormatId = "hermes" | "llama3" | "mistral" | "glm45" | "glm4" | "harmony" | "json";

export interface ToolFormat {
  id: ToolFormatId;
  /** Texts that open a tool section anywhere in the answer. */
  triggers: string[];
  /** The section may also open at the very start of the answer without a trigger (bare JSON, a name line). */
  anchored?: (text: string, tools: ToolDefinition[]) => "yes" | "no" | "maybe";
  /** Control tokens whose text must reach the parser (rendered instead of dropped). */
  preserve: string[];
  /** Parses a section starting at a trigger (or at the anchored start). Null: not a tool call after all. */
  parse(text: string, tools: ToolDefinition[]): SectionParse | null;
  /**
   * GBNF (root rule `root`) of one or more calls to `tools`, starting with a trigger; `forced`:
   * at the answer's start (most formats' calls start there the same way).
   */
  grammar(tools: ToolDefinition[], parallel: boolean, forced?: boolean): string;
  /** Call ids this family's templates accept (Mistral's must be 9 alphanumerics). */
  idLength?: number;
}

const names = (tools: ToolDefinition[]) => new Set(tools.map(t => t.function.name));
const params = (t: ToolDefinition) => t.function.parameters ?? { type: "object", properties: {} };

/** The schema of `{"name": <one tool>, <argsKey>: <its parameters>}`, name first. */
function callSchema(tools: ToolDefinition[], argsKey: string) {
  return {
    anyOf: tools.map(t => ({
      type: "object",
      properties: { name: { const: t.function.name }, [argsKey]: params(t) },
      required: ["name", argsKey],
      additionalProperties: false,
    })),
  };
}

/**
 * One JSON call object at `pos`: name and the raw args text so far. Null when the text cannot be
 * a call (another first key, an unknown name).
 */
function jsonCall(text: string, pos: number, tools: ToolDefinition[], argsKeys: string[]): { call: PartialCall; end: number | null } | null {
  const obj = scanObject(text, pos);
  if (!obj) return null;
  const first = obj.members[0];
  if (first && first.key !== "name" && !argsKeys.includes(first.key)) return null;
  let name: string | null = null;
  let args = "";
  let argsDone = false;
  for (const m of obj.members) {
    if (m.key === "name" && m.end !== null) {
      const value = JSON.parse(text.slice(m.start, m.end));
      if (typeof value !== "string" || !names(tools).has(value)) return null;
      name = value;
    } else if (argsKeys.includes(m.key)) {
      args = text.slice(m.start, m.end ?? text.length);
      argsDone = m.end !== null;
    }
  }
  if (obj.end !== null && (name === null || !argsDone)) return null;
  return { call: { name, args, complete: obj.end !== null }, end: obj.end };
}

/** The rest of `text` from `pos` is blank or a prefix of `word`: the section may go on. */
const mayContinue = (text: string, pos: number, word: string) => word.startsWith(text.slice(pos)) || text.slice(pos).startsWith(word);

const hermes: ToolFormat = {
  id: "hermes",
  triggers: ["<tool_call>"],
  preserve: ["<tool_call>", "</tool_call>"],
  parse(text, tools) {
    const calls: PartialCall[] = [];
    let pos = 0;
    for (;;) {
      // <tool_call> ws {json} ws </tool_call>, repeated with blanks between
      pos = skipWs(text, pos + "<tool_call>".length);
      const parsed = jsonCall(text, pos, tools, ["arguments", "parameters"]);
      if (!parsed) return null;
      calls.push(parsed.call);
      if (parsed.end === null) return { calls, end: null };
      pos = skipWs(text, parsed.end);
      if ("</tool_call>".startsWith(text.slice(pos))) return { calls: markOpen(calls), end: null };
      if (!text.startsWith("</tool_call>", pos)) return null;
      pos = skipWs(text, pos + "</tool_call>".length);
      if (pos >= text.length || (text.length - pos < 11 && "<tool_call>".startsWith(text.slice(pos)))) return { calls, end: null };
      if (!text.startsWith("<tool_call>", pos)) return { calls, end: pos };
    }
  },
  grammar(tools, parallel) {
    const call = `"<tool_call>\\n" call "\\n</tool_call>"`;
    const root = parallel ? `root ::= ${call} ("\\n" ${call})*` : `root ::= ${call}`;
    return `${root}\n${jsonSchemaToGbnf(callSchema(tools, "arguments"), "call")}`;
  },
};

/** A call whose closing tag has not arrived yet is not complete. */
function markOpen(calls: PartialCall[]): PartialCall[] {
  const last = calls[calls.length - 1];
  if (last) last.complete = false;
  return calls;
}

/** Bare JSON at the start of the answer: `{"name": …` so far. */
function startsJsonCall(text: string): "yes" | "no" | "maybe" {
  const t = text.trimStart();
  if (t === "") return "maybe";
  const head = '{"name"';
  const compact = t.replace(/\s+/g, "");
  if (compact.startsWith(head)) return "yes";
  return head.startsWith(compact) ? "maybe" : "no";
}

const llama3: ToolFormat = {
  id: "llama3",
  triggers: ["<|python_tag|>"],
  anchored: startsJsonCall,
  preserve: ["<|python_tag|>"],
  parse(text, tools) {
    // Optional <|python_tag|>, then one or more {"name", "parameters"} objects separated by ';'.
    let pos = text.startsWith("<|python_tag|>") ? "<|python_tag|>".length : 0;
    const calls: PartialCall[] = [];
    for (;;) {
      pos = skipWs(text, pos);
      const parsed = jsonCall(text, pos, tools, ["parameters", "arguments"]);
      if (!parsed) return calls.length && pos >= text.length ? { calls, end: null } : null;
      calls.push(parsed.call);
      if (parsed.end === null) return { calls, end: null };
      pos = skipWs(text, parsed.end);
      if (pos >= text.length) return { calls, end: null };
      if (text[pos] !== ";") return { calls, end: pos };
      pos++;
    }
  },
  grammar(tools) {
    // Llama 3.1's template takes one call per assistant turn.
    return `root ::= call\n${jsonSchemaToGbnf(callSchema(tools, "parameters"), "call")}`;
  },
};

/**
 * JSON call objects from `pos`: one, or (`inArray`, just after its "[") a comma-separated list up
 * to "]". `end` is null while the text may still grow into more of it.
 */
function jsonCalls(text: string, pos: number, tools: ToolDefinition[], inArray: boolean): ReturnType<ToolFormat["parse"]> {
  const calls: PartialCall[] = [];
  for (;;) {
    const parsed = jsonCall(text, pos, tools, ["arguments", "parameters"]);
    if (!parsed) return null;
    calls.push(parsed.call);
    if (parsed.end === null) return { calls, end: null };
    pos = skipWs(text, parsed.end);
    if (!inArray) return { calls, end: pos >= text.length ? null : pos };
    if (pos >= text.length) return { calls: markOpen(calls), end: null };
    if (text[pos] === "]") return { calls, end: pos + 1 };
    if (text[pos] !== ",") return null;
    pos = skipWs(text, pos + 1);
  }
}

const mistral: ToolFormat = {
  id: "mistral",
  triggers: ["[TOOL_CALLS]"],
  preserve: ["[TOOL_CALLS]"],
  idLength: 9,
  parse(text, tools) {
    let pos = skipWs(text, "[TOOL_CALLS]".length);
    if (pos >= text.length) return { calls: [], end: null };
    if (text[pos] !== "[") return null;
    return jsonCalls(text, skipWs(text, pos + 1), tools, true);
  },
  grammar(tools, parallel) {
    const schema = { type: "array", items: callSchema(tools, "arguments"), minItems: 1, ...(parallel ? {} : { maxItems: 1 }) };
    return `root ::= "[TOOL_CALLS]" calls\n${jsonSchemaToGbnf(schema, "calls")}`;
  },
};

/** GLM-4.5/4.6: `<tool_call>name\n<arg_key>k</arg_key>\n<arg_value>v</arg_value>\n…</tool_call>`. */
const glm45: ToolFormat = {
  id: "glm45",
  triggers: ["<tool_call>"],
  preserve: ["<tool_call>", "</tool_call>", "<arg_key>", "</arg_key>", "<arg_value>", "</arg_value>"],
  parse(text, tools) {
    const calls: PartialCall[] = [];
    let pos = 0;
    for (;;) {
      pos += "<tool_call>".length;
      const close = text.indexOf("</tool_call>", pos);
      const body = text.slice(pos, close < 0 ? text.length : close);
      const nameEnd = body.search(/\n|<arg_key>/);
      const name = (nameEnd < 0 ? body : body.slice(0, nameEnd)).trim();
      if (nameEnd >= 0 || close >= 0) {
        if (!names(tools).has(name)) return null;
      } else if (![...names(tools)].some(n => n.startsWith(name))) return null;
      if (close < 0) {
        calls.push({ name: nameEnd >= 0 ? name : null, args: "", complete: false });
        return { calls, end: null };
      }
      const args: Record<string, unknown> = {};
      for (const m of body.matchAll(/<arg_key>([\s\S]*?)<\/arg_key>\s*<arg_value>([\s\S]*?)<\/arg_value>/g)) {
        args[m[1]!.trim()] = jsonOrText(m[2]!);
      }
      calls.push({ name, args: JSON.stringify(args), complete: true });
      pos = skipWs(text, close + "</tool_call>".length);
      if (pos >= text.length || "<tool_call>".startsWith(text.slice(pos))) return { calls, end: null };
      if (!text.startsWith("<tool_call>", pos)) return { calls, end: pos };
    }
  },
  grammar(tools, parallel) {
    const rules: string[] = [];
    const budget = new SchemaBudget(); // one for all the tools' arguments, as one schema has
    const alternatives = tools.map((t, i) => {
      const p = params(t) as { properties?: Record<string, unknown>; required?: string[] };
      const props = Object.keys(p.properties ?? {});
      const required = new Set(p.required ?? []);
      const ordered = [...props.filter(k => required.has(k)), ...props.filter(k => !required.has(k))];
      const parts = ordered.map((k, j) => {
        const rule = `tool${i}-arg${j}`;
        rules.push(jsonSchemaToGbnf(p.properties![k], rule, budget));
        const pair = `${literal(`<arg_key>${k}</arg_key>\n<arg_value>`)} ${rule} "</arg_value>\\n"`;
        return required.has(k) ? pair : `(${pair})?`;
      });
      return `${literal(`${t.function.name}\n`)} ${parts.join(" ")}`.trim();
    });
    const call = `"<tool_call>" (${alternatives.join(" | ")}) "</tool_call>"`;
    const root = parallel ? `root ::= ${call} ("\\n" ${call})*` : `root ::= ${call}`;
    return [root, ...mergeRules(rules)].join("\n");
  },
};

/** GLM-4 (chat): a line with the function's name, then its arguments as JSON. */
const glm4: ToolFormat = {
  id: "glm4",
  triggers: [],
  anchored(text, tools) {
    const t = text.trimStart();
    const nl = t.indexOf("\n");
    const first = nl < 0 ? t : t.slice(0, nl);
    if (nl < 0) return [...names(tools)].some(n => n.startsWith(first)) ? "maybe" : "no";
    return names(tools).has(first.trim()) ? "yes" : "no";
  },
  preserve: [],
  parse(text, tools) {
    const start = skipWs(text, 0);
    const nl = text.indexOf("\n", start);
    if (nl < 0) return { calls: [], end: null };
    const name = text.slice(start, nl).trim();
    if (!names(tools).has(name)) return null;
    const pos = skipWs(text, nl + 1);
    if (pos >= text.length) return { calls: [{ name, args: "", complete: false }], end: null };
    const scan = scanValue(text, pos);
    if (scan === "invalid" || text[pos] !== "{") return null;
    if (scan === "incomplete") return { calls: [{ name, args: text.slice(pos), complete: false }], end: null };
    return { calls: [{ name, args: text.slice(pos, scan.end), complete: true }], end: scan.end };
  },
  grammar(tools) {
    const alternatives = tools.map((t, i) => `${literal(`${t.function.name}\n`)} args${i}`);
    const budget = new SchemaBudget(); // one for all the tools, as one schema has
    return [`root ::= ${alternatives.join(" | ")}`, ...mergeRules(tools.map((t, i) => jsonSchemaToGbnf(params(t), `args${i}`, budget)))].join("\n");
  },
};

/** Where a harmony call's header ends and its arguments begin. */
const MESSAGE = "<|message|>";
/** What may stand between the function's name and `<|message|>`: its channel, a content type. */
const HARMONY_HEADER = /^(?:<\|channel\|>(?:commentary|analysis))?\s*(?:<\|constrain\|>)?\s*[A-Za-z0-9_-]*$/;
/** The headers models write, for telling whether a header cut off by the stream may still become one. */
const HARMONY_HEADERS = ["<|channel|>commentary", "<|channel|>analysis", ""].flatMap(c => [`${c} <|constrain|>json`, `${c}<|constrain|>json`, `${c} json`, c]);
/**
 * The offered tool a header's name means. A content type run into the name (`lookupjson`: the
 * space before `json` left out, which llama.cpp's gpt-oss grammar allows and its parser reads as
 * `lookup` then `json`) is read the same way; an exact name wins.
 */
function harmonyTool(name: string, tools: ToolDefinition[]): string | null {
  if (names(tools).has(name)) return name;
  if (!name.endsWith("json")) return null;
  const bare = name.slice(0, -"json".length);
  return names(tools).has(bare) ? bare : null;
}
/** Whether a name cut off by the stream may still become an offered tool's (perhaps with `json` run in). */
function mayBeHarmonyTool(name: string, tools: ToolDefinition[]): boolean {
  return [...names(tools)].some(n => n.startsWith(name) || (name.startsWith(n) && "json".startsWith(name.slice(n.length))));
}
function mayBeHarmonyHeader(rest: string): boolean {
  // A `<|message|>` cut by the stream may end it.
  for (let n = Math.min(MESSAGE.length - 1, rest.length); n > 0; n--) {
    if (rest.endsWith(MESSAGE.slice(0, n))) {
      rest = rest.slice(0, -n);
      break;
    }
  }
  return HARMONY_HEADER.test(rest) || HARMONY_HEADERS.some(h => h.startsWith(rest));
}

/**
 * gpt-oss (harmony): a message addressed to a function, ` to=functions.NAME`, its header (channel,
 * `<|constrain|>json`) up to `<|message|>`, the arguments as JSON, then `<|call|>` (an
 * end-of-generation token: the answer usually just ends). The reasoning splitter passes such a
 * message on as ` to=functions.NAME<|message|>{…}<|call|>` (src/chat/reasoning.ts); with reasoning
 * parsing off this reads the model's own header too. One call per message: the model stops at
 * `<|call|>`.
 */
const harmony: ToolFormat = {
  id: "harmony",
  triggers: [" to=functions."],
  preserve: ["<|channel|>", "<|message|>", "<|constrain|>", "<|call|>"],
  parse(text, tools) {
    const nameStart = " to=functions.".length;
    const header = text.indexOf(MESSAGE, nameStart);
    const head = text.slice(nameStart, header < 0 ? text.length : header);
    const written = /^[^\s<]*/.exec(head)![0];
    const rest = head.slice(written.length);
    const name = harmonyTool(written, tools);
    if (header < 0) {
      // Still in the header: a name that may still grow into a tool's, then a header's prefix.
      if (rest === "") return mayBeHarmonyTool(written, tools) ? { calls: [], end: null } : null;
      return name !== null && mayBeHarmonyHeader(rest) ? { calls: [], end: null } : null;
    }
    if (name === null || !HARMONY_HEADER.test(rest)) return null;
    const pos = skipWs(text, header + MESSAGE.length);
    if (pos >= text.length) return { calls: [{ name, args: "", complete: false }], end: null };
    const scan = scanValue(text, pos);
    if (scan === "invalid" || text[pos] !== "{") return null;
    if (scan === "incomplete") return { calls: [{ name, args: text.slice(pos), complete: false }], end: null };
    const calls = [{ name, args: text.slice(pos, scan.end), complete: true }];
    const after = skipWs(text, scan.end);
    if (text.startsWith("<|call|>", after)) return { calls, end: after + "<|call|>".length };
    if (after >= text.length || "<|call|>".startsWith(text.slice(after))) return { calls, end: null };
    return { calls, end: scan.end };
  },
  grammar(tools, _parallel, forced) {
    // Lazy, it starts at the trigger, which either header holds; forced, at the answer's start,
    // where the call opens its commentary channel (the prompt ends with `<|start|>assistant`).
    // One call per message (the model stops at <|call|>), so `parallel` changes nothing.
    // The content type is set off from the name (a space, `<|constrain|>` or both, as the model
    // writes ` <|constrain|>json` and the template ` json`), so the name cannot run into it.
    const head = `("<|channel|>" ("commentary" | "analysis"))? ((" " | " <|constrain|>" | "<|constrain|>") "json")? "<|message|>"`;
    const alternatives = tools.map((t, i) => `${literal(t.function.name)} harmony-head args${i}`);
    const budget = new SchemaBudget(); // one for all the tools, as one schema has
    return [
      `root ::= ${forced ? '"<|channel|>commentary" ' : ""}" to=functions." (${alternatives.join(" | ")})`,
      `harmony-head ::= ${head}`,
      ...mergeRules(tools.map((t, i) => jsonSchemaToGbnf(params(t), `args${i}`, budget))),
    ].join("\n");
  },
};

/** Any model: the whole answer is a JSON call object (or an array of them). */
const json: ToolFormat = {
  id: "json",
  triggers: [],
  anchored(text) {
    const t = text.trimStart();
    if (t.startsWith("[")) return startsJsonCall(t.slice(1));
    return startsJsonCall(t);
  },
  preserve: [],
  parse(text, tools) {
    const pos = skipWs(text, 0);
    const array = text[pos] === "[";
    return jsonCalls(text, array ? skipWs(text, pos + 1) : pos, tools, array);
  },
  grammar(tools, parallel) {
    if (!parallel) return `root ::= call\n${jsonSchemaToGbnf(callSchema(tools, "arguments"), "call")}`;
    return `root ::= calls\n${jsonSchemaToGbnf({ type: "array", items: callSchema(tools, "arguments"), minItems: 1 }, "calls")}`;
  },
};

function jsonOrText(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** Rules of several grammars in one; the same rule name must mean the same body. */
function mergeRules(grammars: string[]): string[] {
  const seen = new Map<string, string>();
  for (const g of grammars) {
    for (const line of g.split("\n")) {
      const m = /^([a-zA-Z0-9-]+) ::= (.*)$/.exec(line);
      if (!m) continue;
      const before = seen.get(m[1]!);
      if (before !== undefined && before !== m[2]) throw new Error(`tool grammars disagree on rule ${m[1]}`);
      seen.set(m[1]!, m[2]!);
    }
  }
  return [...seen].map(([name, body]) => `${name} ::= ${body}`);
}

export const toolFormats: Record<ToolFormatId, ToolFormat> = { hermes, llama3, mistral, glm45, glm4, harmony, json };

/**
 * The formats a model writes calls in, read from its chat template (what it was trained to emit)
 * and its family. The first one is used to force a call.
 */
export function detectToolFormats(template: string | null, family: string): ToolFormat[] {
  const t = template ?? "";
  if (t.includes("<|channel|>") && t.includes("to=")) return [harmony];
  if (t.includes("<arg_key>")) return [glm45];
  if (t.includes("<tool_call>")) return [hermes];
  if (t.includes("[TOOL_CALLS]")) return [mistral];
  if (t.includes("<|python_tag|>") || family === "llama3") return [llama3];
  if (family === "glm4" || family === "chatglm3") return [glm4];
  return [hermes, json];
}
