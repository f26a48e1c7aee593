// Anthropic's Messages request → the chat core's request (src/api/chat-core/request.ts).
import type { ToolDefinition } from "../../chat/tool-calls/types.ts";
import { imageFromUrl } from "../chat-core/images.ts";
import type { ChatRequest, ContentPart, RequestMessage, ToolChoice } from "../chat-core/request.ts";
import { ApiError, badRequest } from "../errors.ts";
import type { CountTokensBody, MessagesBody, WireBlock, WireMessage } from "./schema.ts";

const refuse = (message: string, param: string) => badRequest(message, { param });

const BILLING = "x-anthropic-billing-header:";

/**
 * Claude Code's billing line (`x-anthropic-billing-header: cc_version=…; cc_entrypoint=…; cch=…;`)
 * is metadata, not model input, and some versions put a per-request value in it: left out, so
 * the prompt's prefix stays the same from one request to the next.
 */
export function withoutBillingHeader(text: string): string {
  if (!text.startsWith(BILLING)) return text;
  let rest = text.slice(BILLING.length);
  // `key=value;` pairs, then the real text (on the same line or the next).
  const pairs = /^(\s*[\w.-]+=[^;\n]*;)*/.exec(rest)![0];
  rest = rest.slice(pairs.length);
  const newline = rest.indexOf("\n");
  if (/^[ \t]*$/.test(newline < 0 ? rest : rest.slice(0, newline))) rest = newline < 0 ? "" : rest.slice(newline + 1);
  return rest;
}

/** Text blocks of one turn, one after another on their own lines. */
const joined = (texts: string[]): ContentPart[] => (texts.length > 0 ? [{ type: "text", text: texts.join("\n") }] : []);

function unsupported(block: { type: string }, param: string): ApiError {
  if (block.type === "document") return refuse("document content is not supported: send the document's text as a text block", param);
  return refuse(`content block type "${block.type}" is not supported here`, param);
}

/** An image block's source: base64 data (any image media type), or a URL (--allow-image-urls). */
function imageBlock(b: Record<string, unknown>, param: string): ContentPart {
  const source = b.source as { type?: string; data?: unknown; url?: unknown } | undefined;
  if (source?.type === "base64" && typeof source.data === "string") return { type: "image", source: { base64: source.data }, param };
  if (source?.type === "url" && typeof source.url === "string") return imageFromUrl(source.url, param);
  throw refuse(`${param}.source must be {"type":"base64","media_type","data"} or {"type":"url","url"}`, param);
}

/** A tool_result's content: its text blocks joined by lines, its images where they stand. */
function resultParts(content: Extract<WireBlock, { type: "tool_result" }>["content"], param: string): ContentPart[] {
  if (content === undefined) return [{ type: "text", text: "" }];
  if (typeof content === "string") return [{ type: "text", text: content }];
  const parts: ContentPart[] = [];
  let texts: string[] = [];
  content.forEach((b, i) => {
    if (b.type === "text") texts.push((b as { text: string }).text);
    else if (b.type === "image") {
      parts.push(...joined(texts), imageBlock(b as Record<string, unknown>, `${param}.content[${i}]`));
      texts = [];
    } else throw unsupported(b, `${param}.content[${i}]`);
  });
  parts.push(...joined(texts));
  return parts.length > 0 ? parts : [{ type: "text", text: "" }];
}

/**
 * One wire message → core messages: a user turn's tool_result blocks become tool turns (in the
 * order given, around its text), an assistant turn's thinking, text and tool_use blocks one turn.
 */
function toMessages(m: WireMessage, i: number): RequestMessage[] {
  if (typeof m.content === "string") return [{ role: m.role, content: [{ type: "text", text: m.content }] }];
  const out: RequestMessage[] = [];
  let texts: string[] = [];
  // A user turn's text blocks (joined by lines) and images, in order.
  let parts: ContentPart[] = [];
  const flush = () => {
    parts.push(...joined(texts));
    if (parts.length > 0) out.push({ role: m.role, content: parts });
    texts = [];
    parts = [];
  };
  const reasoning: string[] = [];
  const calls: NonNullable<RequestMessage["toolCalls"]> = [];
  m.content.forEach((block, j) => {
    const param = `messages[${i}].content[${j}]`;
    const b = block as WireBlock & Record<string, unknown>;
    if (b.type === "text") texts.push(b.text as string);
    else if (b.type === "image" && m.role === "user") {
      parts.push(...joined(texts), imageBlock(b, param));
      texts = [];
    }
    else if (b.type === "thinking" && m.role === "assistant") reasoning.push(b.thinking as string);
    else if (b.type === "redacted_thinking" && m.role === "assistant") return; // encrypted: nothing to render
    else if (b.type === "tool_use" && m.role === "assistant") calls.push({ id: b.id as string, name: b.name as string, arguments: JSON.stringify(b.input ?? {}) });
    else if (b.type === "tool_result" && m.role === "user") {
      flush();
      out.push({ role: "tool", toolCallId: b.tool_use_id as string, content: resultParts(b.content as never, param) });
    } else if (["thinking", "redacted_thinking", "tool_use", "tool_result"].includes(b.type)) {
      throw refuse(`a ${b.type} block belongs in ${b.type === "tool_result" ? "a user" : "an assistant"} message`, param);
    } else throw unsupported(b, param);
  });
  if (m.role !== "assistant") {
    flush();
    return out;
  }
  // The assistant's turn, whole: its thinking, its text and its calls.
  const turn: RequestMessage = { role: "assistant", content: joined(texts) };
  if (reasoning.length > 0) turn.reasoning = reasoning.join("");
  if (calls.length > 0) turn.toolCalls = calls;
  return [turn];
}

/** The system prompt (string or text blocks) without Claude Code's billing line. */
function systemMessages(system: CountTokensBody["system"]): RequestMessage[] {
  if (system === undefined) return [];
  const texts = (typeof system === "string" ? [system] : system.map(b => b.text)).map(withoutBillingHeader).filter(t => t.length > 0);
  return texts.length > 0 ? [{ role: "system", content: joined(texts) }] : [];
}

/** Custom tools as function tools; server tools (a `type` other than custom) are left out and named. */
function tools(body: CountTokensBody): { tools: ToolDefinition[]; leftOut: string[] } {
  const out: ToolDefinition[] = [];
  const leftOut: string[] = [];
  (body.tools ?? []).forEach((tool, i) => {
    if (tool.type !== undefined && tool.type !== "custom") {
      leftOut.push(`${tool.name} (${tool.type})`);
      return;
    }
    if (!/^[a-zA-Z0-9_.-]{1,128}$/.test(tool.name)) throw refuse(`tool name "${tool.name}" must be 1-128 letters, digits, '_', '.' or '-'`, `tools[${i}].name`);
    if (!tool.input_schema) throw refuse("a custom tool needs an input_schema", `tools[${i}].input_schema`);
    out.push({ type: "function", function: { name: tool.name, ...(tool.description !== undefined ? { description: tool.description } : {}), parameters: tool.input_schema } });
  });
  return { tools: out, leftOut };
}

function toolChoice(choice: CountTokensBody["tool_choice"]): { toolChoice: ToolChoice; parallelToolCalls: boolean } {
  const parallel = !(choice && "disable_parallel_tool_use" in choice && choice.disable_parallel_tool_use);
  if (!choice || choice.type === "auto") return { toolChoice: "auto", parallelToolCalls: parallel };
  if (choice.type === "any") return { toolChoice: "required", parallelToolCalls: parallel };
  if (choice.type === "tool") return { toolChoice: { name: choice.name }, parallelToolCalls: parallel };
  return { toolChoice: "none", parallelToolCalls: parallel };
}

const EFFORTS = new Set(["low", "medium", "high"]);

export interface Translated {
  request: ChatRequest;
  /** Server tools left out of the prompt (for the log). */
  leftOut: string[];
}

/** The request as the chat core takes it; count_tokens bodies have no max_tokens and sampling. */
export function toChatRequest(body: MessagesBody | CountTokensBody): Translated {
  const messages = [...systemMessages(body.system), ...body.messages.flatMap(toMessages)];
  const { tools: defined, leftOut } = tools(body);
  const effort = body.output_config?.effort;
  const thinking = body.thinking?.type;
  const full = "max_tokens" in body ? (body as MessagesBody) : null;
  return {
    request: {
      messages,
      tools: defined,
      ...toolChoice(body.tool_choice),
      generation: {
        maxTokens: full?.max_tokens ?? null,
        stop: full?.stop_sequences ?? [],
        sampling: { temperature: full?.temperature, topP: full?.top_p, topK: full?.top_k },
      },
      output: null,
      reasoning: {
        parse: true,
        // enabled and adaptive let a thinking template think; disabled closes its thinking; absent: the template's default.
        ...(thinking !== undefined ? { enable: thinking !== "disabled" } : {}),
        ...(effort !== undefined && EFFORTS.has(effort) ? { effort } : {}),
        ...(body.thinking?.type === "enabled" && body.thinking.budget_tokens !== undefined ? { budgetTokens: body.thinking.budget_tokens } : {}),
      },
      templateKwargs: {},
      n: 1,
    },
    leftOut,
  };
}
