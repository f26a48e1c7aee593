// POST /api/chat: Ollama's chat body → the chat core → one JSON answer or an NDJSON stream (the
// default). No messages: the model is loaded (or, with keep_alive 0, unloaded) and nothing generated.
import { fitToContext } from "../chat-core/fit.ts";
import { prepareChat } from "../chat-core/prepare.ts";
import { answerPieces, collectAnswers, startChat } from "../chat-core/run.ts";
import type { GenerationContext } from "../generation.ts";
import type { ModelSource } from "../model-source.ts";
import { requestModel, settling } from "./lifecycle.ts";
import { ollamaName } from "./names.ts";
import { assistantMessage, toolCallsJson } from "./message.ts";
import { requestContext } from "./options.ts";
import type { ChatBody } from "./schema.ts";
import { answerStream } from "./stream.ts";
import { createdAt, doneFields, lifecycleDone, RequestClock } from "./timing.ts";
import { chatRequest } from "./translate.ts";

export interface DialectOptions {
  /** Keep message text from acting as control tokens (off: --parse-special-in-chat). */
  protect: boolean;
}

export async function chat(body: ChatBody, models: ModelSource, ctx: GenerationContext, options: DialectOptions): Promise<object | Response> {
  const clock = new RequestClock();
  const request = chatRequest(body); // bad input is refused before a model loads
  const { model, after, unloads } = await requestModel(models, body.model, body.keep_alive, clock);
  ctx.trace.model = model.id;
  const name = body.model || ollamaName(model.id);
  if (request.messages.length === 0) {
    await after();
    return { model: name, created_at: createdAt(), message: { role: "assistant", content: "" }, ...lifecycleDone(unloads ? "unload" : "load", clock) };
  }
  return settling(after, async () => {
    const prepared = await prepareChat(request, model, options.protect);
    await fitToContext(prepared, { engine: model.engine, info: { ...model.info, nCtx: requestContext(body.options, model.info.nCtx) } });
    const started = await startChat(model, prepared, ctx);
    if (body.stream !== false) return answerStream(answerPieces(started, prepared), ctx, { model: name, clock, shape: "chat", after });
    const [a] = await collectAnswers(started, prepared);
    await after();
    return { model: name, created_at: createdAt(), message: assistantMessage(a!.content, a!.reasoning, toolCallsJson(a!.toolCalls)), ...doneFields(a!.finishReason, a!.usage, a!.timings, clock) };
  });
}
