// OpenAI's Responses request → the chat core's request (src/api/chat-core/request.ts): input items
// become turns (an assistant's reasoning, text and calls one turn), instructions the first system
// turn, namespace tools flat function names, text.format a grammar.
import type { ToolDefinition } from "../../chat/tool-calls/types.ts";
import { jsonObjectGrammar } from "../../grammar/json-primitives.ts";
import { jsonSchemaToGbnf } from "../../grammar/json-schema-grammar.ts";
import { SchemaGrammarError } from "../../grammar/schema-error.ts";
import { imageFromUrl } from "../chat-core/images.ts";
import type { ChatRequest, ContentPart, RequestMessage, ToolChoice } from "../chat-core/request.ts";
import { EFFORT_BUDGETS, type ReasoningEffort } from "../chat-core/thinking.ts";
import { badRequest } from "../errors.ts";
import { openReasoning } from "./encrypted.ts";
import type { InputItem, InputTokensBody, ResponsesBody, WireTool } from "./schema.ts";

/** A namespace function as the client knows it. */
export interface NamespacedName {
  namespace: string;
  name: string;
}

/**
 * A namespace tool's function as the model sees it: Codex's own flat spelling of a namespaced
 * tool (codex-rs/protocol/src/tool_name.rs, `canonical_flat_name`), `NAMESPACE__NAME`.
 */
export const flatName = (namespace: string, name: string) => `${namespace.replace(/_+$/, "")}__${name.replace(/^_+/, "")}`;

export interface Translated {
  request: ChatRequest;
  /** Hosted tools left out of the prompt (for the log). */
  leftOut: string[];
  /** Flat function names of namespace tools → the namespace and name calls are returned with. */
  namespaced: Map<string, NamespacedName>;
  /** Names of custom (freeform) tools: their calls are returned as custom_tool_call with free-text input. */
  custom: Set<string>;
  /** This request's input as items (a string input is one user message). */
  input: InputItem[];
}

/** An item and the request field it came from (for `param` in errors). */
type Placed = [InputItem, string];

/** A message's or tool output's text parts; anything else is refused, naming what. */
function textParts(content: string | Array<{ type: string; text?: string }>, param: string): ContentPart[] {
  if (typeof content === "string") return [{ type: "text", text: content }];
  return content.map((part, i) => {
    if ((part.type === "input_text" || part.type === "output_text" || part.type === "text") && typeof part.text === "string") return { type: "text", text: part.text };
    if (part.type === "input_image") {
      // image_url: a data: URL, or an http(s) URL (--allow-image-urls); file_id needs the Files API.
      const url = (part as { image_url?: unknown }).image_url;
      if (typeof url !== "string") throw badRequest("input_image needs image_url (a data: URL or an http(s) URL); file_id is not supported", { param: `${param}[${i}]` });
      return imageFromUrl(url, `${param}[${i}]`);
    }
    if (part.type === "input_file") throw badRequest("input_file is not supported: send the file's text as input_text", { param: `${param}[${i}]` });
    throw badRequest(`content part type "${part.type}" is not supported here`, { param: `${param}[${i}]` });
  });
}

/** A reasoning item's text: its reasoning_text content, else Hearth's own encrypted_content; else nothing. */
function reasoningText(item: Extract<InputItem, { type: "reasoning" }>, open: (sealed: string) => string | null): string {
  if (item.content?.length) return item.content.map(c => c.text).join("");
  if (item.encrypted_content) return open(item.encrypted_content) ?? "";
  return "";
}

/**
 * Items → turns. An assistant's consecutive reasoning, message and function_call items are one
 * assistant turn (reasoning first, then text, then calls, as the model wrote them); a
 * function_call_output is a tool turn; other messages are turns of their own.
 */
function toMessages(items: Placed[], namespaced: Map<string, NamespacedName>, open: (sealed: string) => string | null): RequestMessage[] {
  const out: RequestMessage[] = [];
  let turn: RequestMessage | null = null;
  const flush = () => {
    if (turn) out.push(turn);
    turn = null;
  };
  const assistant = (): RequestMessage => (turn ??= { role: "assistant", content: [] });
  for (const [item, param] of items) {
    const type = item.type ?? "message";
    if (type === "message") {
      const m = item as Extract<InputItem, { role: string }>;
      const parts = textParts(m.content, `${param}.content`);
      if (m.role !== "assistant") {
        flush();
        out.push({ role: m.role, content: parts });
        continue;
      }
      if (turn && (turn as RequestMessage).toolCalls?.length) flush();
      assistant().content.push(...parts);
    } else if (type === "reasoning") {
      const text = reasoningText(item as Extract<InputItem, { type: "reasoning" }>, open);
      const current = turn as RequestMessage | null;
      if (current && (current.content.length > 0 || current.toolCalls?.length)) flush();
      if (text) assistant().reasoning = (assistant().reasoning ?? "") + text;
    } else if (type === "function_call") {
      const c = item as Extract<InputItem, { type: "function_call" }>;
      const name = c.namespace ? flatName(c.namespace, c.name) : c.name;
      if (c.namespace) namespaced.set(name, { namespace: c.namespace, name: c.name });
      const t = assistant();
      (t.toolCalls ??= []).push({ id: c.call_id, name, arguments: c.arguments });
    } else if (type === "custom_tool_call") {
      const c = item as Extract<InputItem, { type: "custom_tool_call" }>;
      (assistant().toolCalls ??= []).push({ id: c.call_id, name: c.name, arguments: customArguments(c.input) });
    } else if (type === "function_call_output" || type === "custom_tool_call_output") {
      const o = item as Extract<InputItem, { type: "function_call_output" }>;
      flush();
      out.push({ role: "tool", toolCallId: o.call_id, content: textParts(o.output, `${param}.output`) });
    } else {
      throw badRequest(`input item type "${type}" is not supported here`, { param });
    }
  }
  flush();
  return out;
}

const NAME = /^[a-zA-Z0-9_.-]{1,128}$/;

/**
 * A custom (freeform) tool as the model sees it: a function of one string, `input`, so every chat
 * family's call format and grammar carry it; its calls come back as the free text alone.
 */
const CUSTOM_PARAMETERS = { type: "object", properties: { input: { type: "string" } }, required: ["input"], additionalProperties: false };

/** A custom tool call's input as the function arguments the model wrote. */
export const customArguments = (input: string) => JSON.stringify({ input });

/** A custom tool call's free text from the arguments the model wrote (the raw text where they are not `{"input": …}`). */
export function customInput(args: string): string {
  try {
    const value = JSON.parse(args);
    return typeof value?.input === "string" ? value.input : args;
  } catch {
    return args;
  }
}

function definition(name: string, f: { description?: string | null; parameters?: Record<string, unknown> | null; strict?: boolean | null }): ToolDefinition {
  return {
    type: "function",
    function: {
      name,
      ...(f.description != null ? { description: f.description } : {}),
      parameters: f.parameters ?? { type: "object", properties: {} },
      ...(f.strict != null ? { strict: f.strict } : {}),
    },
  };
}

/** Function tools, namespace tools' functions under flat names, custom tools as one-string functions; hosted tools left out and named. */
function tools(list: WireTool[], namespaced: Map<string, NamespacedName>, custom: Set<string>): { tools: ToolDefinition[]; leftOut: string[] } {
  const out: ToolDefinition[] = [];
  const leftOut: string[] = [];
  list.forEach((tool, i) => {
    if (tool.type === "function") {
      const f = tool as Extract<WireTool, { type: "function" }>;
      out.push(definition(f.name, f));
    } else if (tool.type === "namespace") {
      const ns = tool as Extract<WireTool, { type: "namespace" }>;
      ns.tools.forEach((f, j) => {
        const flat = flatName(ns.name, f.name);
        if (!NAME.test(flat)) throw badRequest(`the namespace function "${flat}" must be 1-128 letters, digits, '_', '.' or '-'`, { param: `tools[${i}].tools[${j}].name` });
        namespaced.set(flat, { namespace: ns.name, name: f.name });
        out.push(definition(flat, f));
      });
    } else if (tool.type === "custom") {
      const c = tool as Extract<WireTool, { type: "custom" }>;
      const format = c.format as { type: string; syntax?: string } | null | undefined;
      if (format?.type === "grammar" && format.syntax === "regex") {
        throw badRequest("a custom tool's regex grammar is not supported yet: use a text or lark format (taken as free text)", { param: `tools[${i}].format` });
      }
      custom.add(c.name);
      out.push(definition(c.name, { description: c.description, parameters: CUSTOM_PARAMETERS }));
    } else {
      const name = (tool as { name?: unknown }).name;
      leftOut.push(typeof name === "string" ? `${name} (${tool.type})` : tool.type);
    }
  });
  return { tools: out, leftOut };
}

function toolChoice(choice: InputTokensBody["tool_choice"]): ToolChoice {
  if (choice == null) return "auto";
  if (typeof choice === "string") return choice;
  if (choice.type === "function" || choice.type === "custom") {
    const c = choice as { name: string; namespace?: string | null };
    return { name: c.namespace ? flatName(c.namespace, c.name) : c.name };
  }
  throw badRequest(`tool_choice of type "${choice.type}" is not supported: use "auto", "none", "required" or {"type": "function", "name": …}`, { param: "tool_choice" });
}

/** text.format → the grammar that constrains the whole answer (the chat completions path's converter). */
function outputConstraint(format: NonNullable<InputTokensBody["text"]>["format"]): ChatRequest["output"] {
  if (!format || format.type === "text") return null;
  const schema = format.type === "json_schema" ? (format as { schema?: unknown }).schema : undefined;
  // No schema, or an empty one, means any JSON object.
  if (schema === undefined || (typeof schema === "object" && schema !== null && Object.keys(schema).length === 0)) {
    return { grammar: { gbnf: jsonObjectGrammar(), textOnly: true }, param: "text.format" };
  }
  try {
    return { grammar: { gbnf: jsonSchemaToGbnf(schema), textOnly: true }, param: "text.format.schema" };
  } catch (err) {
    if (err instanceof SchemaGrammarError) throw badRequest(`unsupported JSON schema: ${err.message}`, { param: "text.format.schema", code: "invalid_json_schema" });
    throw err;
  }
}

/**
 * reasoning.effort → a thinking budget (chat-core/thinking.ts's EFFORT_BUDGETS; none: 0, which closes
 * the template's thinking) and the template's switch; low to xhigh also reach gpt-oss's reasoning_effort.
 */
function reasoningOptions(effort: string | null | undefined): ChatRequest["reasoning"] {
  if (effort == null) return { parse: true };
  if (effort === "none") return { parse: true, budgetTokens: 0 };
  if (effort === "minimal") return { parse: true, enable: true, budgetTokens: EFFORT_BUDGETS.minimal };
  const level = effort === "xhigh" ? "high" : effort;
  return { parse: true, enable: true, effort: level, ...(level in EFFORT_BUDGETS ? { budgetTokens: EFFORT_BUDGETS[level as ReasoningEffort] } : {}) };
}

/** This request's input as items. */
export const inputItems = (input: InputTokensBody["input"]): InputItem[] =>
  input === undefined ? [] : typeof input === "string" ? [{ type: "message", role: "user", content: input }] : input;

/**
 * The request as the chat core takes it: `previous` (a stored response's conversation) comes
 * after the instructions and before this request's input. input_tokens bodies have no sampling.
 */
/** Where translation looks things up: Hearth's own sealed reasoning, stored output items (item_reference). */
export interface Lookups {
  open: (sealed: string) => string | null;
  item: (id: string) => InputItem | undefined;
}

const noLookups: Lookups = { open: openReasoning, item: () => undefined };

/** item_reference items replaced by the stored items they name; an unknown id is refused. */
function resolved(items: InputItem[], item: Lookups["item"], param: (i: number) => string): Placed[] {
  return items.map((it, i): Placed => {
    if (it.type !== "item_reference") return [it, param(i)];
    const id = (it as { id?: unknown }).id;
    const found = typeof id === "string" ? item(id) : undefined;
    if (!found) throw badRequest(`item_reference names no stored item: '${String(id)}' (send the item itself)`, { param: param(i) });
    return [found, param(i)];
  });
}

export function toChatRequest(body: ResponsesBody | InputTokensBody, previous: InputItem[] = [], lookups: Lookups = noLookups): Translated {
  const full = body as Partial<ResponsesBody>;
  if (full.background) throw badRequest("background responses are not supported: leave background unset", { param: "background" });
  const namespaced = new Map<string, NamespacedName>();
  const custom = new Set<string>();
  const { tools: defined, leftOut } = tools(body.tools ?? [], namespaced, custom);
  const input = inputItems(body.input);
  const placed: Placed[] = [
    ...previous.map((item): Placed => [item, "previous_response_id"]),
    ...resolved(input, lookups.item, i => (typeof body.input === "string" ? "input" : `input[${i}]`)),
  ];
  const messages: RequestMessage[] = [
    ...(body.instructions ? [{ role: "system" as const, content: [{ type: "text" as const, text: body.instructions }] }] : []),
    ...toMessages(placed, namespaced, lookups.open),
  ];
  if (messages.length === 0) throw badRequest("input is required: a string, or a list of input items", { param: "input" });
  return {
    request: {
      messages,
      tools: defined,
      toolChoice: toolChoice(body.tool_choice),
      parallelToolCalls: body.parallel_tool_calls ?? true,
      generation: {
        maxTokens: full.max_output_tokens ?? null,
        stop: [],
        sampling: { temperature: full.temperature ?? undefined, topP: full.top_p ?? undefined },
      },
      output: outputConstraint(body.text?.format),
      reasoning: reasoningOptions(body.reasoning?.effort),
      templateKwargs: {},
      n: 1,
    },
    leftOut,
    namespaced,
    custom,
    input,
  };
}
