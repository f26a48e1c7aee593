// The chat core's answers in Ollama's shapes: the assistant message (thinking, content, tool calls
// with their arguments as an object) for /api/chat, the response text for /api/generate.
import type { ToolCall } from "../../chat/tool-calls/types.ts";

export interface OllamaToolCall {
  id: string;
  function: { index: number; name: string; arguments: Record<string, unknown> };
}

/** Arguments as an object: the parser's JSON text, parsed (a call whose arguments are not an object gets them as `{}`). */
function argumentsObject(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text || "{}");
    return value !== null && typeof value === "object" && !Array.isArray(value) ? value : {};
  } catch {
    return {};
  }
}

export function toolCallsJson(calls: ToolCall[], first = 0): OllamaToolCall[] {
  return calls.map((c, i) => ({ id: c.id, function: { index: first + i, name: c.name, arguments: argumentsObject(c.arguments) } }));
}

/** An assistant message; `thinking` and `tool_calls` only when there are some, as Ollama sends them. */
export function assistantMessage(content: string, thinking: string, calls: OllamaToolCall[]) {
  return { role: "assistant", content, ...(thinking ? { thinking } : {}), ...(calls.length > 0 ? { tool_calls: calls } : {}) };
}
