// A request's tools, tool choice and reasoning options → what the template is given, the grammar
// that forces a call, and how the answer is parsed (src/chat/answer-parser.ts).
import type { AnswerSetup } from "../../chat/answer-parser.ts";
import { detectReasoningFormat, harmonyTokens, promptClosesThinking, promptOpensThinking } from "../../chat/reasoning.ts";
import type { ChatRenderer } from "../../chat/renderer.ts";
import { detectToolFormats } from "../../chat/tool-calls/formats.ts";
import type { ToolDefinition } from "../../chat/tool-calls/types.ts";
import type { GrammarConstraint } from "../../engine/types.ts";
import { SchemaBudgetError, SchemaGrammarError } from "../../grammar/json-schema-grammar.ts";
import { badRequest } from "../errors.ts";
import type { ChatRequest, ReasoningOptions } from "./request.ts";

export interface ToolPlan {
  /** Tools for the template (none when the choice is "none"). */
  templateTools?: ToolDefinition[];
  /** Forces a call (required / named), or constrains calls once one opens (auto, lazy). */
  grammar?: GrammarConstraint;
  tools: AnswerSetup["tools"];
  /** Control tokens the parser must see as text. */
  preserve: string[];
}

type Renderer = Pick<ChatRenderer, "templateText" | "family">;

export function toolPlan(request: Pick<ChatRequest, "tools" | "toolChoice" | "parallelToolCalls">, renderer: Renderer, hasOutputConstraint: boolean): ToolPlan {
  const tools = request.tools;
  const choice = request.toolChoice;
  const named = typeof choice === "object" ? choice.name : null;
  if (tools.length === 0) {
    if (choice === "required" || named) throw badRequest("tool_choice requires tools", { param: "tool_choice" });
    return { tools: null, preserve: [] };
  }
  if (choice === "none") return { tools: null, preserve: [] };
  const selected = named ? tools.filter(t => t.function.name === named) : tools;
  if (selected.length === 0) throw badRequest(`tool_choice names "${named}", which is not in tools`, { param: "tool_choice" });
  const formats = detectToolFormats(renderer.templateText, renderer.family);
  const plan: ToolPlan = { templateTools: tools, tools: { formats, definitions: selected }, preserve: [...new Set(formats.flatMap(f => f.preserve))] };
  const forced = choice === "required" || named !== null;
  if (forced && hasOutputConstraint) throw badRequest("a forced tool call cannot be combined with response_format / grammar", { param: "tool_choice" });
  if (hasOutputConstraint) return plan;
  const format = formats[0]!;
  let gbnf: string;
  try {
    gbnf = format.grammar(selected, request.parallelToolCalls, forced);
  } catch (err) {
    if (!(err instanceof SchemaGrammarError)) throw err;
    // Without a grammar a forced call could not be guaranteed; an optional one is still parsed.
    // Schemas past the conversion budget are refused either way (their grammar would be too big
    // for the runner too).
    if (forced || err instanceof SchemaBudgetError) throw badRequest(`unsupported tool parameters schema: ${err.message}`, { param: "tools", code: "invalid_json_schema" });
    return plan;
  }
  if (forced) plan.grammar = { gbnf };
  else if (format.triggers.length > 0) plan.grammar = { gbnf, lazy: { words: format.triggers, tokens: [] } };
  return plan;
}

/** What the template is given beyond messages and tools: the client's own kwargs, then the thinking switches. */
export function templateKwargs(request: Pick<ChatRequest, "templateKwargs" | "reasoning">): Record<string, unknown> {
  const extra: Record<string, unknown> = { ...request.templateKwargs };
  if (request.reasoning.enable !== undefined) extra.enable_thinking = request.reasoning.enable;
  if (request.reasoning.effort !== undefined) extra.reasoning_effort = request.reasoning.effort;
  return extra;
}

/** How thinking is split from the answer, given the rendered prompt. */
export function reasoningSetup(reasoning: Pick<ReasoningOptions, "parse">, renderer: Renderer, prompt: string): { setup: AnswerSetup["reasoning"]; preserve: string[] } {
  if (!reasoning.parse) return { setup: null, preserve: [] };
  const format = detectReasoningFormat(renderer.templateText);
  if (!format) return { setup: null, preserve: [] };
  return {
    setup: { format, startsInReasoning: format === "think" && promptOpensThinking(prompt), thinkingClosed: format === "think" && promptClosesThinking(prompt) },
    preserve: format === "harmony" ? harmonyTokens : [],
  };
}
