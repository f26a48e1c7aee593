// POST /v1/chat/completions: OpenAI's body → the chat core → OpenAI's chat shapes.
import type { ImageFetchPolicy } from "../chat-core/image-fetch.ts";
import { prepareChat } from "../chat-core/prepare.ts";
import { answerPieces, collectAnswers, startChat } from "../chat-core/run.ts";
import { completionBody, responseHeader, type GenerationContext } from "../generation.ts";
import type { ModelSource } from "../model-source.ts";
import { streamChoices } from "../stream-choices.ts";
import { answerChoice, answerStreamShape } from "./answer.ts";
import type { ChatCompletionBody } from "./schema.ts";
import { toChatRequest } from "./translate.ts";

export async function chatCompletions(body: ChatCompletionBody, models: ModelSource, ctx: GenerationContext, protect = true, images?: ImageFetchPolicy): Promise<Response | object> {
  const model = await models.acquire(body.model);
  ctx.trace.model = model.id;
  const prepared = await prepareChat(toChatRequest(body), model, protect, images);
  const started = await startChat(model, prepared, ctx);
  const promptTokens = started[0]!.promptTokens;
  const name = body.model || model.id;
  if (!body.stream) {
    const answers = await collectAnswers(started, prepared);
    const answer = completionBody(responseHeader("chatcmpl", "chat.completion", name, model.fingerprint), answers, promptTokens, answerChoice);
    // What llama-server's `verbose` shows that the answer does not: the prompt as the template rendered it.
    return body.verbose ? { ...answer, __verbose: { prompt: prepared.rendered.prompt } } : answer;
  }
  const header = responseHeader("chatcmpl", "chat.completion.chunk", name, model.fingerprint);
  const usage = { include: body.stream_options?.include_usage === true, promptTokens };
  return streamChoices(answerPieces(started, prepared), started.length, ctx, header, answerStreamShape(prepared.plain), usage);
}
