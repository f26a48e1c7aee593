// A request's messages → the chat template's messages → the engine prompt, with message text kept
// from acting as control tokens (STYLE.md, "special tokens are a type").
import { TemplateError, TemplateLimitError } from "../../chat/renderer.ts";
import type { ChatMessage, RenderedChat } from "../../chat/types.ts";
import type { Engine, PromptSegment } from "../../engine/types.ts";
import { badRequest } from "../errors.ts";
import { contentText } from "./images.ts";
import type { ImagePart, RequestMessage } from "./request.ts";

/**
 * The template's view of the messages: text parts joined (images as markers, appended to `images`;
 * chat-core/images.ts), calls and reasoning in llama.cpp's names.
 */
export function templateMessages(messages: RequestMessage[], images: ImagePart[] = []): ChatMessage[] {
  return messages.map(m => {
    const message: ChatMessage = { role: m.role, content: contentText(m.content, images) };
    if (m.name) message.name = m.name;
    if (m.toolCallId) message.tool_call_id = m.toolCallId;
    if (m.toolCalls?.length) {
      message.tool_calls = m.toolCalls.map(c => ({ ...(c.id ? { id: c.id } : {}), type: "function" as const, function: { name: c.name, arguments: c.arguments } }));
    }
    if (m.reasoning) message.reasoning_content = m.reasoning;
    return message;
  });
}

/**
 * A template failure → what the client sees: a template refusing the conversation is about the
 * request (400, `messages`); a template past Hearth's limits is about the model (400, `model`).
 */
export function templateFailure(err: unknown): unknown {
  if (err instanceof TemplateLimitError) return badRequest(err.message, { param: "model", code: "chat_template_unusable" });
  if (err instanceof TemplateError) return badRequest(`the chat template rejected the conversation: ${err.message}`, { param: "messages" });
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
  throw badRequest(
    "this model's chat template rewrites message text in a way Hearth cannot trace, so control-token text in a message (such as <|im_end|>) could not be kept as plain text; " +
      "remove it from the messages, or start Hearth with --parse-special-in-chat to let such text act as control tokens",
    { param: "messages", code: "control_token_in_message" },
  );
}
