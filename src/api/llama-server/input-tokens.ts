// POST /chat/completions/input_tokens (and under /v1): the prompt tokens the same chat request
// would decode, as llama-server counts them ({"input_tokens": N}); rendered through the chat core
// like the request itself, so the count is exact.
import { promptIds } from "../chat-core/fit.ts";
import { prepareChat } from "../chat-core/prepare.ts";
import type { ChatCompletionBody } from "../chat-completions/schema.ts";
import { toChatRequest } from "../chat-completions/translate.ts";
import type { ModelSource } from "../model-source.ts";

export async function chatInputTokens(body: ChatCompletionBody, models: ModelSource, protect: boolean) {
  const model = await models.acquire(body.model);
  const prepared = await prepareChat(toChatRequest(body), model, protect);
  return { input_tokens: (await promptIds(prepared, model)).length };
}
