// OpenAI's chat request → the chat core's request (src/api/chat-core/request.ts). Field aliases
// and llama-server's extensions are resolved here, once.
import type { ToolDefinition } from "../../chat/tool-calls/types.ts";
import { imageFromUrl } from "../chat-core/images.ts";
import type { ChatRequest, RequestMessage, ToolChoice } from "../chat-core/request.ts";
import { badRequest } from "../errors.ts";
import { chatLogprobsRequest } from "../logprobs.ts";
import { grammarField, requestGrammar } from "../response-format.ts";
import { generationOptions } from "../sampling-schema.ts";
import type { ChatCompletionBody } from "./schema.ts";

type WireMessage = ChatCompletionBody["messages"][number];

/** Wire messages → the core's (text parts only; other parts are a 400 naming the message). */
export function toRequestMessages(messages: WireMessage[]): RequestMessage[] {
  return messages.map((m, i) => {
    const content: RequestMessage["content"] = [];
    if (typeof m.content === "string") content.push({ type: "text", text: m.content });
    else if (Array.isArray(m.content)) {
      for (const [j, part] of m.content.entries()) {
        if (part.type === "image_url") {
          const url = (part as { image_url?: { url?: unknown } | string }).image_url;
          const href = typeof url === "string" ? url : url?.url;
          const param = `messages[${i}].content[${j}]`;
          if (typeof href !== "string") throw badRequest(`${param}.image_url.url must be a string`, { param });
          content.push(imageFromUrl(href, param));
          continue;
        }
        if (part.type !== "text") {
          throw badRequest(`content part type "${part.type}" is not supported by this model`, { param: `messages[${i}].content` });
        }
        content.push({ type: "text", text: (part as { text: string }).text });
      }
    }
    const message: RequestMessage = { role: m.role, content };
    if (m.name) message.name = m.name;
    if (m.tool_call_id) message.toolCallId = m.tool_call_id;
    if (m.tool_calls?.length) message.toolCalls = m.tool_calls.map(c => ({ ...(c.id ? { id: c.id } : {}), name: c.function.name, arguments: c.function.arguments }));
    const reasoning = m.reasoning_content ?? m.reasoning;
    if (reasoning) message.reasoning = reasoning;
    return message;
  });
}

function toolChoice(choice: ChatCompletionBody["tool_choice"]): ToolChoice {
  if (choice == null) return "auto";
  return typeof choice === "object" ? { name: choice.function.name } : choice;
}

type ReasoningBody = Pick<ChatCompletionBody, "reasoning_format" | "enable_thinking" | "reasoning_effort" | "chat_template_kwargs"> &
  Partial<Pick<ChatCompletionBody, "thinking_budget_tokens" | "reasoning_budget_tokens">>;

/** The thinking switches, the thinking budget and the client's template variables. */
export function reasoningFields(body: ReasoningBody) {
  // As llama-server: reasoning_budget_tokens, else thinking_budget_tokens; -1 (or neither) leaves the default.
  const budget = body.reasoning_budget_tokens ?? body.thinking_budget_tokens ?? -1;
  return {
    reasoning: {
      parse: body.reasoning_format !== "none",
      ...(body.enable_thinking != null ? { enable: body.enable_thinking } : {}),
      // "none" is a budget of 0 (no thinking) only: no template reads it as an effort.
      ...(body.reasoning_effort != null && body.reasoning_effort !== "none" ? { effort: body.reasoning_effort } : {}),
      ...(body.reasoning_effort === "none" ? { budgetTokens: 0 } : {}),
      ...(budget !== -1 ? { budgetTokens: budget } : {}),
    },
    templateKwargs: { ...(body.chat_template_kwargs ?? {}) },
  };
}

/** A request for the prompt to end anywhere but at a new assistant turn: a 400, not silently ignored. */
function checkPromptSwitches(body: ChatCompletionBody): void {
  if (body.add_generation_prompt === true && body.continue_final_message === true) {
    throw badRequest("add_generation_prompt and continue_final_message cannot both be true", { param: "continue_final_message" });
  }
  if (body.continue_final_message === true || body.add_generation_prompt === false) {
    const param = body.continue_final_message === true ? "continue_final_message" : "add_generation_prompt";
    throw badRequest(`${param}: continuing the final message (assistant prefill) is not supported; the answer always starts a new assistant turn`, { param });
  }
}

export function toChatRequest(body: ChatCompletionBody): ChatRequest {
  checkPromptSwitches(body);
  const grammar = requestGrammar(body);
  const logprobs = chatLogprobsRequest(body);
  return {
    messages: toRequestMessages(body.messages),
    // Extra keys (OpenAI adds some now and then) pass through to the template untouched.
    tools: (body.tools ?? []) as ToolDefinition[],
    toolChoice: toolChoice(body.tool_choice),
    parallelToolCalls: body.parallel_tool_calls ?? true,
    generation: generationOptions(body),
    output: grammar ? { grammar, param: grammarField(body)! } : null,
    ...reasoningFields(body),
    n: body.n ?? 1,
    ...(logprobs !== undefined ? { logprobs } : {}),
  };
}
