// POST /v1/chat/completions: messages → rendered prompt → engine → OpenAI's chat shapes.
import { TemplateError, TemplateLimitError } from "../../chat/renderer.ts";
import type { ChatMessage, RenderedChat } from "../../chat/types.ts";
import type { Engine, GenerateRequest, PromptSegment } from "../../engine/types.ts";
import { ApiError } from "../errors.ts";
import { checkGenerative, collect, completionBody, responseHeader, startAll, type GenerationContext } from "../generation.ts";
import { streamChoices, type StreamShape } from "../stream-choices.ts";
import { chatLogprobs, chatLogprobsRequest } from "../logprobs.ts";
import type { ModelSource } from "../model-source.ts";
import { grammarField } from "../response-format.ts";
import { toGenerateParams } from "../sampling-schema.ts";
import { answerChoice, answerStreamShape } from "./answer.ts";
import type { ChatCompletionBody } from "./schema.ts";
import { reasoningSetup, templateKwargs, toolPlan } from "./tools.ts";

/** Wire messages → the chat module's messages (text only; unsupported parts are a 400). */
export function toChatMessages(body: Pick<ChatCompletionBody, "messages">): ChatMessage[] {
  return body.messages.map((m, i) => {
    let text = "";
    if (typeof m.content === "string") text = m.content;
    else if (Array.isArray(m.content)) {
      for (const part of m.content) {
        if (part.type !== "text") {
          throw new ApiError(400, `content part type "${part.type}" is not supported by this model`, "invalid_request_error", `messages[${i}].content`);
        }
        text += (part as { text: string }).text;
      }
    }
    const message: ChatMessage = { role: m.role, content: text };
    if (m.name) message.name = m.name;
    if (m.tool_call_id) message.tool_call_id = m.tool_call_id;
    if (m.tool_calls?.length) {
      message.tool_calls = m.tool_calls.map(c => ({ ...(c.id ? { id: c.id } : {}), type: "function" as const, function: { name: c.function.name, arguments: c.function.arguments } }));
    }
    const reasoning = m.reasoning_content ?? m.reasoning;
    if (reasoning) message.reasoning_content = reasoning;
    return message;
  });
}

/**
 * A template failure → what the client sees: a template refusing the conversation is about the
 * request (400, `messages`); a template past Hearth's limits is about the model (400, `model`).
 */
export function templateFailure(err: unknown): unknown {
  if (err instanceof TemplateLimitError) return new ApiError(400, err.message, "invalid_request_error", "model", "chat_template_unusable");
  if (err instanceof TemplateError) return new ApiError(400, `the chat template rejected the conversation: ${err.message}`, "invalid_request_error", "messages");
  return err;
}

/**
 * The engine prompt for a rendered chat. Protected (the default): message text is tokenized as
 * text, so typing `<|im_end|>` cannot end a turn; only the template's markup holds control tokens.
 * Unprotected: the whole prompt parses special tokens, as llama-server does. Protected, but the
 * template's handling of message text could not be traced (no spans): all of it as text, the safe
 * answer without a tokenizer at hand (checkedChatPrompt does better).
 */
export function chatPrompt(rendered: RenderedChat, protect: boolean): PromptSegment[] {
  if (!protect) return [{ text: rendered.prompt, parseSpecial: true }];
  if (!rendered.spans) return [{ text: rendered.prompt, parseSpecial: false }];
  return rendered.spans.map(s => ({ text: s.text, parseSpecial: !s.fromMessage }));
}

/**
 * chatPrompt, failing closed where the template's handling of message text could not be traced:
 * the model's tokenizer tells whether any message text holds control-token text (it tokenizes
 * differently with special tokens parsed). None: the whole prompt parses special tokens, which
 * can then only be the template's. Some: the request is refused, since nothing tells the
 * template's control tokens from the message's.
 */
export async function checkedChatPrompt(rendered: RenderedChat, protect: boolean, engine: Pick<Engine, "tokenize">): Promise<PromptSegment[]> {
  if (!protect || rendered.spans || !rendered.messageTexts) return chatPrompt(rendered, protect);
  const texts = rendered.messageTexts.join("\n");
  const [special, plain] = await Promise.all([engine.tokenize(texts, false, true), engine.tokenize(texts, false, false)]);
  if (special.length === plain.length && special.every((t, i) => t === plain[i])) return [{ text: rendered.prompt, parseSpecial: true }];
  throw new ApiError(
    400,
    "this model's chat template rewrites message text in a way Hearth cannot trace, so control-token text in a message (such as <|im_end|>) could not be kept as plain text; " +
      "remove it from the messages, or start Hearth with --parse-special-in-chat to let such text act as control tokens",
    "invalid_request_error",
    "messages",
    "control_token_in_message",
  );
}

export async function chatCompletions(body: ChatCompletionBody, models: ModelSource, ctx: GenerationContext, protect = true): Promise<Response | object> {
  const model = await models.acquire(body.model);
  ctx.trace.model = model.id;
  const n = body.n ?? 1;
  checkGenerative(model.info, n);
  const messages = toChatMessages(body);
  const tools = toolPlan(body, model.chat, grammarField(body) !== null);
  let rendered;
  try {
    rendered = model.chat.render(messages, true, tools.templateTools, templateKwargs(body));
  } catch (err) {
    throw templateFailure(err);
  }
  const reasoning = reasoningSetup(body, model.chat, rendered.prompt);
  const setup = { reasoning: reasoning.setup, tools: tools.tools };
  const params = toGenerateParams(body, model.info.nVocab, model.defaults);
  const errorParams = { prompt: "messages", grammar: tools.grammar ? "tool_choice" : grammarField(body) };
  const request: GenerateRequest = {
    ...params,
    prompt: await checkedChatPrompt(rendered, protect, model.engine),
    addSpecial: true,
    stop: [...params.stop, ...rendered.stopStrings],
    stopTokens: rendered.stopTokens,
    ...(tools.grammar ? { grammar: tools.grammar } : {}),
    ...(tools.preserve.length + reasoning.preserve.length > 0 ? { preserveTokens: [...tools.preserve, ...reasoning.preserve] } : {}),
    n,
    logprobs: chatLogprobsRequest(body),
  };
  const plain = !setup.reasoning && !setup.tools;
  // One generation: the prompt is prefilled once and its KV shared by the n choices.
  const started = await startAll(model.engine, [request], ctx, errorParams);
  ctx.trace.promptTokens = started[0]!.promptTokens;
  if (!body.stream) {
    const results = await Promise.all(started.map(s => collect(s, errorParams)));
    const header = responseHeader("chatcmpl", "chat.completion", body.model || model.id, model.fingerprint);
    return completionBody(header, results, started[0]!.promptTokens, (r, index) =>
      plain
        ? { index, message: { role: "assistant", content: r.text }, logprobs: chatLogprobs(r.logprobs), finish_reason: r.finishReason }
        : { ...answerChoice(setup, r.text, r.finishReason, index), logprobs: chatLogprobs(r.logprobs) },
    );
  }
  const header = responseHeader("chatcmpl", "chat.completion.chunk", body.model || model.id, model.fingerprint);
  const usage = { include: body.stream_options?.include_usage === true, promptTokens: started[0]!.promptTokens };
  return streamChoices(started, header, plain ? chatShape : answerStreamShape(setup), usage);
}

const chatShape: StreamShape = {
  opening: index => ({ index, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }),
  // The final text (if any) travels with finish_reason; an empty final delta is {} as OpenAI sends it.
  piece: (index, text, finishReason, logprobs) => ({
    index,
    delta: text || !finishReason ? { content: text } : {},
    logprobs: chatLogprobs(logprobs),
    finish_reason: finishReason,
  }),
};
