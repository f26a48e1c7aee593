// POST /v1/messages and /v1/messages/count_tokens: Anthropic's body → the chat core → Anthropic's
// message, event stream or token count.
import type { ImageFetchPolicy } from "../chat-core/image-fetch.ts";
import { fitToContext, promptIds } from "../chat-core/fit.ts";
import { prepareChat } from "../chat-core/prepare.ts";
import { answerPieces, collectAnswers, startChat } from "../chat-core/run.ts";
import type { GenerationContext } from "../generation.ts";
import type { AcquiredModel, ModelSource } from "../model-source.ts";
import { log } from "../../util/log.ts";
import { messageId, messageJson } from "./message.ts";
import type { CountTokensBody, MessagesBody } from "./schema.ts";
import { signThinking } from "./signature.ts";
import { messageStream } from "./stream.ts";
import { toChatRequest } from "./translate.ts";

export interface AnthropicOptions {
  /** Keep message text from acting as control tokens (off: --parse-special-in-chat). */
  protect: boolean;
  /** Milliseconds between pings while a stream waits (a long prefill). */
  pingMs: number;
  sign?: (thinking: string) => string;
  /** Whether image blocks may name http(s) URLs (--allow-image-urls). */
  images?: ImageFetchPolicy;
}

/** The request prepared for `model`, with server tools it leaves out named in the log. */
async function prepare(body: MessagesBody | CountTokensBody, model: AcquiredModel, options: AnthropicOptions, traceId: string) {
  const { request, leftOut } = toChatRequest(body);
  if (leftOut.length > 0) log("info", `server tools a local model cannot run were left out: ${leftOut.join(", ")}`, { id: traceId });
  return prepareChat(request, model, options.protect, options.images);
}

export async function messages(body: MessagesBody, models: ModelSource, ctx: GenerationContext, options: AnthropicOptions): Promise<Response | object> {
  const model = await models.acquire(body.model);
  ctx.trace.model = model.id;
  const prepared = await prepare(body, model, options, ctx.trace.id);
  const promptTokens = await fitToContext(prepared, model);
  const started = await startChat(model, prepared, ctx);
  const id = messageId();
  const name = body.model || model.id;
  const sign = options.sign ?? signThinking;
  if (!body.stream) {
    const [answer] = await collectAnswers(started, prepared);
    return messageJson(answer!, id, name, sign);
  }
  return messageStream(answerPieces(started, prepared), ctx, { id, model: name, promptTokens, pingMs: options.pingMs, sign });
}

/** The prompt tokens the same request would use (the tokens a messages request decodes). */
export async function countTokens(body: CountTokensBody, models: ModelSource, options: AnthropicOptions, traceId: string) {
  const model = await models.acquire(body.model);
  const prepared = await prepare(body, model, options, traceId);
  return { input_tokens: (await promptIds(prepared, model)).length };
}
