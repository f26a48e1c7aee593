// Ollama's /api/chat and templated /api/generate bodies → the chat core's request
// (src/api/chat-core/request.ts). Raw /api/generate skips the template (see generate.ts).
import type { ToolDefinition } from "../../chat/tool-calls/types.ts";
import type { ChatRequest, ContentPart, ReasoningOptions, RequestMessage } from "../chat-core/request.ts";
import { badRequest } from "../errors.ts";
import { requestGrammar } from "../response-format.ts";
import { generationOptions } from "./options.ts";
import type { ChatBody, GenerateBody, OllamaMessage } from "./schema.ts";

/**
 * A message's `images` (base64 file bytes, as Ollama takes them) as image parts, put before its
 * text as Ollama does; the chat core checks them and refuses them for a model without a projector.
 */
export function imageParts(images: string[] | null | undefined, param: string): ContentPart[] {
  return (images ?? []).map((base64, j) => ({ type: "image", source: { base64 }, param: `${param}[${j}]` }));
}

/** `format` → the grammar on the answer: "json" any JSON object, a schema its JSON; "" or null none. */
export function outputConstraint(format: ChatBody["format"]): ChatRequest["output"] {
  if (format === undefined || format === null || format === "") return null;
  if (typeof format === "string") {
    if (format !== "json") throw badRequest(`format must be "json" or a JSON schema, not "${format}"`, { param: "format" });
    return { grammar: requestGrammar({ response_format: { type: "json_object" } })!, param: "format" };
  }
  return { grammar: requestGrammar({ json_schema: format })!, param: "format" };
}

/**
 * `think` → the template's thinking switch and effort. Thinking is always split from the answer
 * (Ollama's `thinking` field), so `content` holds only the answer whatever `think` says.
 */
export function reasoningOptions(think: ChatBody["think"]): ReasoningOptions {
  if (think === undefined || think === null) return { parse: true };
  if (typeof think === "boolean") return { parse: true, enable: think };
  return { parse: true, enable: true, effort: think };
}

/** Arguments in history as JSON text (Ollama sends an object; some clients a string). */
const argumentText = (args: unknown) => (typeof args === "string" ? args : JSON.stringify(args ?? {}));

function toMessage(m: OllamaMessage, i: number): RequestMessage {
  const out: RequestMessage = { role: m.role, content: [...imageParts(m.images, `messages[${i}].images`), { type: "text", text: m.content ?? "" }] };
  if (m.role === "assistant") {
    if (m.thinking) out.reasoning = m.thinking;
    if (m.tool_calls?.length) out.toolCalls = m.tool_calls.map(c => ({ ...(c.id ? { id: c.id } : {}), name: c.function.name, arguments: argumentText(c.function.arguments) }));
  }
  if (m.role === "tool") {
    if (m.tool_name) out.name = m.tool_name;
    if (m.tool_call_id) out.toolCallId = m.tool_call_id;
  }
  return out;
}

function tools(body: ChatBody): ToolDefinition[] {
  return (body.tools ?? []).map((tool, i) => {
    if (tool.type !== undefined && tool.type !== "function") throw badRequest(`tool type "${tool.type}" is not supported; use "function"`, { param: `tools[${i}].type` });
    const f = tool.function;
    return { type: "function", function: { name: f.name, ...(f.description !== undefined ? { description: f.description } : {}), ...(f.parameters ? { parameters: f.parameters } : {}) } };
  });
}

function request(messages: RequestMessage[], body: ChatBody | GenerateBody, defined: ToolDefinition[]): ChatRequest {
  return {
    messages,
    tools: defined,
    toolChoice: "auto",
    parallelToolCalls: true,
    generation: generationOptions(body.options, body),
    output: outputConstraint(body.format),
    reasoning: reasoningOptions(body.think),
    templateKwargs: {},
    n: 1,
  };
}

export function chatRequest(body: ChatBody): ChatRequest {
  return request((body.messages ?? []).map(toMessage), body, tools(body));
}

/** A templated /api/generate: its system and prompt as one exchange. */
export function generateRequest(body: GenerateBody): ChatRequest {
  const messages: RequestMessage[] = [];
  if (body.system) messages.push({ role: "system", content: [{ type: "text", text: body.system }] });
  messages.push({ role: "user", content: [...imageParts(body.images, "images"), { type: "text", text: body.prompt ?? "" }] });
  return request(messages, body, []);
}
