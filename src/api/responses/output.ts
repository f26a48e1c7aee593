// The chat core's answer in the Responses API's shapes: output items (reasoning, message,
// function_call), usage, and the response object that echoes the request's parameters.
import type { ToolCall } from "../../chat/tool-calls/types.ts";
import type { Usage } from "../../engine/types.ts";
import type { ChatAnswer, ChatFinishReason } from "../chat-core/request.ts";
import { sealReasoning } from "./encrypted.ts";
import type { ResponsesBody } from "./schema.ts";
import { customInput, type NamespacedName } from "./translate.ts";

/** A fresh id: the prefix OpenAI uses for the kind (resp, msg, rs, fc) and 32 hex digits. */
export const newId = (prefix: string) => `${prefix}_${crypto.randomUUID().replaceAll("-", "")}`;

/** What every output of one response needs to know besides the answer. */
export interface ResponseHead {
  id: string;
  createdAt: number;
  /** The model name the client asked for (else the model's id). */
  model: string;
  body: ResponsesBody;
  namespaced: Map<string, NamespacedName>;
  /** Custom (freeform) tools' names. */
  custom: Set<string>;
  /** include: ["reasoning.encrypted_content"]: reasoning items carry their text sealed. */
  encrypted: boolean;
  /** reasoning.summary asked for: reasoning items carry their text as the summary too (a local model has no summarizer). */
  summarize: boolean;
  sign?: (text: string) => string;
}

export type ItemStatus = "in_progress" | "completed" | "incomplete";

export function reasoningItem(head: ResponseHead, id: string, text: string) {
  return {
    id,
    type: "reasoning",
    summary: head.summarize ? [summaryText(text)] : [],
    content: [{ type: "reasoning_text", text }],
    ...(head.encrypted ? { encrypted_content: sealReasoning(text, head.sign) } : {}),
  };
}

export const summaryText = (text: string) => ({ type: "summary_text", text });

export const outputText = (text: string) => ({ type: "output_text", text, annotations: [], logprobs: [] });

export function messageItem(id: string, text: string, status: ItemStatus) {
  return { id, type: "message", status, role: "assistant", content: [outputText(text)] };
}

/** The id prefix of a call's item: fc for function calls, ctc for custom tool calls. */
export const callPrefix = (head: ResponseHead, name: string) => (head.custom.has(name) ? "ctc" : "fc");

/**
 * A call as the client knows it: a namespace function's call names its namespace and its own
 * name; a custom tool's call is a custom_tool_call with its free-text input.
 */
export function callItem(head: ResponseHead, id: string, call: Pick<ToolCall, "id" | "name" | "arguments">, status: ItemStatus): Record<string, unknown> {
  if (head.custom.has(call.name)) return { id, type: "custom_tool_call", status, call_id: call.id, name: call.name, input: call.arguments ? customInput(call.arguments) : "" };
  const ns = head.namespaced.get(call.name);
  return { id, type: "function_call", status, call_id: call.id, name: ns ? ns.name : call.name, arguments: call.arguments, ...(ns ? { namespace: ns.namespace } : {}) };
}

/** The answer's output items, in the order the model wrote them: reasoning, text, calls. */
export function outputItems(a: ChatAnswer, head: ResponseHead): Array<Record<string, unknown>> {
  const status = itemStatus(a.finishReason);
  const out: Array<Record<string, unknown>> = [];
  if (a.reasoning) out.push(reasoningItem(head, newId("rs"), a.reasoning));
  if (a.content || a.toolCalls.length === 0) out.push(messageItem(newId("msg"), a.content, status));
  out.push(...a.toolCalls.map(c => callItem(head, newId(callPrefix(head, c.name)), c, status)));
  return out;
}

export function usageJson(u: Usage, reasoningTokens: number) {
  return {
    input_tokens: u.promptTokens,
    input_tokens_details: { cached_tokens: u.cachedTokens, cache_write_tokens: 0 },
    output_tokens: u.completionTokens,
    // The engine's count where it followed the thinking; else the reasoning text's tokens.
    output_tokens_details: { reasoning_tokens: u.reasoningTokens ?? Math.min(reasoningTokens, u.completionTokens) },
    total_tokens: u.promptTokens + u.completionTokens,
  };
}

/** An item the answer's end cut off is incomplete, whatever the response's status says. */
export const itemStatus = (finish: ChatFinishReason): ItemStatus => (finish === "length" ? "incomplete" : "completed");

/**
 * A response is incomplete when the client's own max_output_tokens cut it. One the server's limit
 * ended (`-n`, or the context, for a request that set none) is completed, as llama-server answers:
 * Codex and the Agents SDK take `incomplete` for a failed turn, and that limit is the operator's
 * end of a turn, not one the client asked for.
 */
export const responseStatus = (finish: ChatFinishReason, body: Pick<ResponsesBody, "max_output_tokens">) =>
  finish === "length" && body.max_output_tokens != null ? "incomplete" : "completed";

/** The response object; `output` and `usage` empty while in progress. */
export function responseObject(head: ResponseHead, status: "in_progress" | "completed" | "incomplete", output: object[], usage: ReturnType<typeof usageJson> | null) {
  const b = head.body;
  return {
    id: head.id,
    object: "response",
    created_at: head.createdAt,
    status,
    background: false,
    error: null,
    incomplete_details: status === "incomplete" ? { reason: "max_output_tokens" } : null,
    instructions: b.instructions ?? null,
    max_output_tokens: b.max_output_tokens ?? null,
    model: head.model,
    output,
    parallel_tool_calls: b.parallel_tool_calls ?? true,
    previous_response_id: b.previous_response_id ?? null,
    reasoning: { effort: b.reasoning?.effort ?? null, summary: b.reasoning?.summary ?? null },
    service_tier: "default",
    store: b.store ?? true,
    temperature: b.temperature ?? null,
    text: { format: b.text?.format ?? { type: "text" } },
    tool_choice: b.tool_choice ?? "auto",
    tools: b.tools ?? [],
    top_p: b.top_p ?? null,
    truncation: b.truncation ?? "disabled",
    usage,
    user: b.user ?? null,
    metadata: b.metadata ?? {},
  };
}
