// POST /v1/responses, GET and DELETE /v1/responses/{id}, GET /v1/responses/{id}/input_items,
// POST /v1/responses/{id}/cancel, POST /v1/responses/input_tokens: the Responses body → the chat
// core → the response object or its event stream, kept in the store so previous_response_id can
// continue it.
import type { ImageFetchPolicy } from "../chat-core/image-fetch.ts";
import { fitToContext, promptIds } from "../chat-core/fit.ts";
import { prepareChat, type PreparedChat } from "../chat-core/prepare.ts";
import { answerPieces, collectAnswers, startChat } from "../chat-core/run.ts";
import { ApiError, badRequest, notFound } from "../errors.ts";
import type { GenerationContext } from "../generation.ts";
import type { AcquiredModel, ModelSource } from "../model-source.ts";
import { log } from "../../util/log.ts";
import { openReasoning } from "./encrypted.ts";
import { inputItemsPage, listedInputItems } from "./input-items.ts";
import { newId, outputItems, responseObject, responseStatus, usageJson, type ResponseHead } from "./output.ts";
import type { InputItem, InputItemsQuery, InputTokensBody, ResponsesBody } from "./schema.ts";
import type { ResponseStore } from "./store.ts";
import { responseStream } from "./stream.ts";
import { inputItems, toChatRequest, type Lookups } from "./translate.ts";
import { truncateToFit } from "./truncation.ts";

export interface ResponsesOptions {
  /** Keep message text from acting as control tokens (off: --parse-special-in-chat). */
  protect: boolean;
  store: ResponseStore;
  /** Signs reasoning text in encrypted_content (default: the thinking-signature key in $HEARTH_HOME). */
  sign?: (text: string) => string;
  /** Whether input_image may name http(s) URLs (--allow-image-urls). */
  images?: ImageFetchPolicy;
}

const missing = (id: string, param: string | null = null) => notFound(`Response with id '${id}' not found.`, { param, code: "response_not_found" });

/** The request prepared for `model`: a stored conversation it continues first, hosted tools it leaves out named in the log. */
async function prepare(body: ResponsesBody | InputTokensBody, models: ModelSource, options: ResponsesOptions, traceId: string) {
  let previous: InputItem[] = [];
  if (body.previous_response_id) {
    const stored = options.store.get(body.previous_response_id);
    if (!stored) throw missing(body.previous_response_id, "previous_response_id");
    previous = stored.conversation;
  }
  const model = await models.acquire(body.model);
  const open = options.sign ? (text: string) => openReasoning(text, options.sign) : openReasoning;
  const lookups: Lookups = { open, item: id => options.store.item(id) };
  const translated = toChatRequest(body, previous, lookups);
  if (translated.leftOut.length > 0) log("info", `hosted tools a local model cannot run were left out: ${translated.leftOut.join(", ")}`, { id: traceId });
  const prepareFor = async (request: typeof translated.request) => {
    const prepared = await prepareChat(request, model, options.protect, options.images);
    prepared.errorParams = { ...prepared.errorParams, prompt: "input" };
    return prepared;
  };
  let prepared = await prepareFor(translated.request);
  if (body.truncation === "auto") {
    // The stored conversation and this input as one list of items, cut from the front.
    const all = [...previous, ...inputItems(body.input)];
    const most = model.info.nCtx - 1;
    const fits = async (kept: InputItem[]): Promise<PreparedChat | null> => {
      const candidate = await prepareFor(toChatRequest({ ...body, input: kept }, [], lookups).request);
      return (await promptIds(candidate, model)).length <= most ? candidate : null;
    };
    if ((await promptIds(prepared, model)).length > most) {
      const cut = await truncateToFit(all, fits);
      if (cut) {
        log("info", `truncation auto: the ${all.length - cut.kept.length} oldest input items were left out to fit the context`, { id: traceId });
        prepared = cut.result;
      }
    }
  }
  return { model, translated, prepared, previous };
}

/** fitToContext, with the prompt named as this dialect names it. */
async function fit(prepared: Awaited<ReturnType<typeof prepare>>["prepared"], model: AcquiredModel): Promise<number> {
  try {
    return await fitToContext(prepared, model);
  } catch (err) {
    if (err instanceof ApiError && err.param === "messages") throw badRequest(err.message, { param: "input", code: err.code });
    throw err;
  }
}

/** Tokens a reasoning text takes (usage.output_tokens_details.reasoning_tokens). */
const tokensOf = (model: AcquiredModel) => async (text: string) => (await model.engine.tokenize(text, false, false)).length;

export async function createResponse(body: ResponsesBody, models: ModelSource, ctx: GenerationContext, options: ResponsesOptions): Promise<Response | object> {
  const { model, translated, prepared, previous } = await prepare(body, models, options, ctx.trace.id);
  ctx.trace.model = model.id;
  await fit(prepared, model);
  const started = await startChat(model, prepared, ctx);
  const head: ResponseHead = {
    id: newId("resp"),
    createdAt: Math.floor(Date.now() / 1000),
    model: body.model || model.id,
    body,
    namespaced: translated.namespaced,
    custom: translated.custom,
    encrypted: body.include?.includes("reasoning.encrypted_content") ?? false,
    summarize: body.reasoning?.summary != null,
    sign: options.sign,
  };
  const keep = (response: Record<string, unknown>, output: Array<Record<string, unknown>>) => {
    if (body.store === false) return;
    const conversation = [...previous, ...translated.input, ...(output as InputItem[])];
    if (!options.store.put(head.id, { response, conversation, input: listedInputItems(translated.input) })) log("warn", `response ${head.id} is larger than --responses-store-size: not stored`, { id: ctx.trace.id });
  };
  if (!body.stream) {
    const [answer] = await collectAnswers(started, prepared);
    const output = outputItems(answer!, head);
    const usage = usageJson(answer!.usage, answer!.reasoning ? await tokensOf(model)(answer!.reasoning) : 0);
    const response = responseObject(head, responseStatus(answer!.finishReason, body), output, usage);
    keep(response, output);
    return response;
  }
  return responseStream(answerPieces(started, prepared), ctx, head, { reasoningTokens: tokensOf(model), onEnd: keep });
}

export function retrieveResponse(id: string, store: ResponseStore): object {
  const stored = store.get(id);
  if (!stored) throw missing(id);
  return stored.response;
}

export function listInputItems(id: string, query: InputItemsQuery, store: ResponseStore): object {
  const stored = store.get(id);
  if (!stored) throw missing(id);
  return inputItemsPage(stored.input, query);
}

/** Only background responses can be cancelled, and this server makes none: a stored one is already finished. */
export function cancelResponse(id: string, store: ResponseStore): object {
  if (!store.get(id)) throw missing(id);
  throw badRequest(`response '${id}' was not created with background: true (this server makes no background responses): it has already finished and cannot be cancelled`, { param: "response_id", code: "response_not_cancellable" });
}

export function deleteResponse(id: string, store: ResponseStore): object {
  if (!store.delete(id)) throw missing(id);
  return { id, object: "response.deleted", deleted: true };
}

/** The prompt's exact token count: the tokens the same /v1/responses request would decode. */
export async function inputTokens(body: InputTokensBody, models: ModelSource, options: ResponsesOptions, traceId: string) {
  const { model, prepared } = await prepare(body, models, options, traceId);
  return { object: "response.input_tokens", input_tokens: (await promptIds(prepared, model)).length };
}
