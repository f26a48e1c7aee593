// POST /apply-template (llama-server's debug endpoint): the prompt a chat request would be
// rendered to, and with "tokens": true the token ids the engine would decode.
import { t } from "elysia";
import { imagesAsMarkerText } from "../chat-core/images.ts";
import { checkedChatPrompt, templateFailure, templateMessages } from "../chat-core/prompt.ts";
import { templateKwargs } from "../chat-core/tools.ts";
import { chatCompletionBody, chatMessage } from "../chat-completions/schema.ts";
import { reasoningFields, toRequestMessages } from "../chat-completions/translate.ts";
import { ApiError } from "../errors.ts";
import type { ModelSource } from "../model-source.ts";

export const applyTemplateBody = t.Object({
  model: t.Optional(t.String()),
  messages: t.Array(chatMessage, { minItems: 1, maxItems: 4096 }),
  tools: t.Optional(t.Array(t.Any(), { maxItems: 512 })),
  enable_thinking: chatCompletionBody.properties.enable_thinking,
  reasoning_effort: chatCompletionBody.properties.reasoning_effort,
  chat_template_kwargs: chatCompletionBody.properties.chat_template_kwargs,
  add_generation_prompt: t.Optional(t.Boolean()),
  tokens: t.Optional(t.Boolean()),
});

export async function applyTemplate(body: typeof applyTemplateBody.static, models: ModelSource, protect = true) {
  const model = await models.acquire(body.model);
  let rendered;
  try {
    const messages = templateMessages(toRequestMessages(body.messages).map(imagesAsMarkerText));
    rendered = model.chat.render(messages, body.add_generation_prompt ?? true, body.tools, templateKwargs(reasoningFields(body)));
  } catch (err) {
    throw templateFailure(err);
  }
  const out: Record<string, unknown> = { prompt: rendered.prompt, template: rendered.source, family: model.chat.family };
  if (body.tokens) out.tokens = await model.engine.tokenizePrompt(await checkedChatPrompt(rendered, protect, model.engine), true);
  return out;
}
