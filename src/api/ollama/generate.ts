// POST /api/generate: a prompt through the model's chat template (with `system`), `raw` as the
// model reads it (as /v1/completions: special-token text in it is parsed), or with `suffix` a
// fill-in-the-middle prompt. An empty prompt loads
// the model (done_reason "load"; "unload" with keep_alive 0), as Ollama does.
import type { GenerateRequest } from "../../engine/types.ts";
import { fitToContext } from "../chat-core/fit.ts";
import { infillTokens, requireFim } from "../chat-core/infill.ts";
import { prepareChat } from "../chat-core/prepare.ts";
import type { AnswerPiece, ChatRequest } from "../chat-core/request.ts";
import { answerPieces, collectAnswers, startChat } from "../chat-core/run.ts";
import { resolveGeneration } from "../chat-core/sampling.ts";
import { badRequest } from "../errors.ts";
import { checkGenerative, collect, startAll, textPieces, type GenerationContext } from "../generation.ts";
import type { AcquiredModel, ModelSource } from "../model-source.ts";
import type { DialectOptions } from "./chat.ts";
import { requestModel, settling } from "./lifecycle.ts";
import { ollamaName } from "./names.ts";
import { generationOptions, requestContext } from "./options.ts";
import type { GenerateBody } from "./schema.ts";
import { answerStream } from "./stream.ts";
import { createdAt, doneFields, lifecycleDone, RequestClock } from "./timing.ts";
import { generateRequest, outputConstraint } from "./translate.ts";

function refuseUnsupported(body: GenerateBody): void {
  if (body.images?.length && (body.raw || body.suffix)) {
    throw badRequest("images go through the model's chat template: send them without raw and suffix", { param: "images" });
  }
  if (body.template) throw badRequest("template overrides are not supported: send raw: true with the prompt already formatted", { param: "template" });
  if (body.context?.length) throw badRequest("context (Ollama's deprecated token history) is not supported: send the conversation to /api/chat", { param: "context" });
}

/**
 * The untemplated prompt the engine decodes: `raw` as written (BOS as the vocabulary wants), or with
 * `suffix` the model's fill-in-the-middle prompt (chat-core/infill.ts, the same tokens as
 * llama-server's /infill; 400 for a model without FIM tokens). The context is checked either way.
 */
async function rawRequest(body: GenerateBody, model: AcquiredModel): Promise<GenerateRequest> {
  checkGenerative(model.info, 1);
  const output = outputConstraint(body.format);
  const prompt = body.suffix ? await fimPrompt(body.prompt ?? "", body.suffix, model) : [{ text: body.prompt ?? "", parseSpecial: true }];
  const generate: GenerateRequest = {
    ...resolveGeneration(generationOptions(body.options, body), model.info.nVocab, model.defaults),
    prompt,
    addSpecial: !body.suffix,
    ...(output ? { grammar: output.grammar } : {}),
  };
  const fit = { generate };
  await fitToContext(fit, { engine: model.engine, info: { ...model.info, nCtx: requestContext(body.options, model.info.nCtx) } });
  return fit.generate;
}

async function fimPrompt(prefix: string, suffix: string, model: AcquiredModel): Promise<number[]> {
  const fim = requireFim(model.info, model.id);
  const budget = { nBatch: model.info.nBatch ?? 512, nCtx: model.info.nCtx, nPredict: model.info.nPredict ?? -1 };
  return infillTokens({ prefix, suffix }, fim, budget, (text, addSpecial, parseSpecial) => model.engine.tokenize(text, addSpecial, parseSpecial));
}

/** Raw text pieces as the chat core's answer pieces (all of it content). */
async function* rawPieces(pieces: ReturnType<typeof textPieces>): AsyncGenerator<AnswerPiece> {
  for await (const p of pieces) {
    yield { index: p.index, delta: { content: p.text, reasoning: "", toolCalls: [] }, ...(p.done ? { done: { ...p.done, stopSequence: null } } : {}) };
  }
}

/** One request's model and how its answer is written and ended. */
interface Run {
  model: AcquiredModel;
  ctx: GenerationContext;
  /** The model's name as the request gave it (echoed in every line). */
  name: string;
  clock: RequestClock;
  after: () => Promise<void>;
}

export async function generate(body: GenerateBody, models: ModelSource, ctx: GenerationContext, options: DialectOptions): Promise<object | Response> {
  const clock = new RequestClock();
  refuseUnsupported(body);
  const request = body.raw || body.suffix ? null : generateRequest(body);
  const { model, after, unloads } = await requestModel(models, body.model, body.keep_alive, clock);
  ctx.trace.model = model.id;
  const run: Run = { model, ctx, name: body.model || ollamaName(model.id), clock, after };
  if (!body.prompt && !body.suffix) {
    await after();
    return { model: run.name, created_at: createdAt(), response: "", ...lifecycleDone(unloads ? "unload" : "load", clock) };
  }
  return settling(after, () => (request === null ? rawGenerate(body, run) : templatedGenerate(body, request, run, options)));
}

async function rawGenerate(body: GenerateBody, run: Run): Promise<object | Response> {
  const generate = await rawRequest(body, run.model);
  const started = await startAll(run.model.engine, [generate], run.ctx, { prompt: "prompt", grammar: generate.grammar ? "format" : null });
  run.ctx.trace.promptTokens = started[0]!.promptTokens;
  if (body.stream !== false) return answerStream(rawPieces(textPieces(started)), run.ctx, { model: run.name, clock: run.clock, shape: "generate", after: run.after });
  const r = await collect(started[0]!, { prompt: "prompt" });
  await run.after();
  return { model: run.name, created_at: createdAt(), response: r.text, ...doneFields(r.finishReason, r.usage, r.timings, run.clock) };
}

async function templatedGenerate(body: GenerateBody, request: ChatRequest, run: Run, options: DialectOptions): Promise<object | Response> {
  const { model } = run;
  const prepared = await prepareChat(request, model, options.protect);
  await fitToContext(prepared, { engine: model.engine, info: { ...model.info, nCtx: requestContext(body.options, model.info.nCtx) } });
  const started = await startChat(model, prepared, run.ctx);
  if (body.stream !== false) return answerStream(answerPieces(started, prepared), run.ctx, { model: run.name, clock: run.clock, shape: "generate", after: run.after });
  const [a] = await collectAnswers(started, prepared);
  await run.after();
  return { model: run.name, created_at: createdAt(), response: a!.content, ...(a!.reasoning ? { thinking: a!.reasoning } : {}), ...doneFields(a!.finishReason, a!.usage, a!.timings, run.clock) };
}
