// The chat core's answer in Anthropic's shapes: the message of a JSON response (thinking with its
// signature, text, tool_use blocks), its stop reason and its usage.
import type { ToolCall } from "../../chat/tool-calls/types.ts";
import type { Usage } from "../../engine/types.ts";
import type { ChatAnswer, ChatFinishReason } from "../chat-core/request.ts";

const ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/** A fresh message id: `msg_` and 24 letters and digits, as Anthropic's. */
export function messageId(): string {
  return `msg_${Array.from(crypto.getRandomValues(new Uint8Array(24)), b => ALNUM[b % ALNUM.length]).join("")}`;
}

/** A call's id as Anthropic spells it: `toolu_` and the parser's own id (without its `call_`). */
export const toolUseId = (id: string) => `toolu_${id.replace(/^call_/, "")}`;

export type StopReason = "end_turn" | "max_tokens" | "stop_sequence" | "tool_use";

export function stopReason(finish: ChatFinishReason, stopSequence: string | null): StopReason {
  if (finish === "tool_calls") return "tool_use";
  if (finish === "length") return "max_tokens";
  return stopSequence !== null ? "stop_sequence" : "end_turn";
}

/** input_tokens counts the prompt tokens not read from the KV cache; with cache_read_input_tokens they make the prompt. */
export function usageJson(u: Usage) {
  return {
    input_tokens: u.promptTokens - u.cachedTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: u.cachedTokens,
    output_tokens: u.completionTokens,
  };
}

/** A call's arguments as the `input` object (arguments that are not a JSON object: {}). */
export function toolInput(args: string): Record<string, unknown> {
  try {
    const value = JSON.parse(args);
    return value && typeof value === "object" && !Array.isArray(value) ? value : {};
  } catch {
    return {};
  }
}

const toolUse = (c: ToolCall) => ({ type: "tool_use", id: toolUseId(c.id), name: c.name, input: toolInput(c.arguments) });

export function messageJson(a: ChatAnswer, id: string, model: string, sign: (thinking: string) => string) {
  const content: object[] = [];
  if (a.reasoning) content.push({ type: "thinking", thinking: a.reasoning, signature: sign(a.reasoning) });
  if (a.content) content.push({ type: "text", text: a.content });
  content.push(...a.toolCalls.map(toolUse));
  return {
    id,
    type: "message",
    role: "assistant",
    model,
    content,
    stop_reason: stopReason(a.finishReason, a.stopSequence),
    stop_sequence: a.stopSequence,
    usage: usageJson(a.usage),
  };
}
