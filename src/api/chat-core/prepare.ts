// A chat request → what the engine decodes and how its answer is read: the template rendered
// with the request's tools and thinking switches, message text protected from becoming control
// tokens, the tool grammar chosen, reasoning split set up. No dialect's names past this point.
import type { AnswerSetup } from "../../chat/answer-parser.ts";
import type { RenderedChat } from "../../chat/types.ts";
import type { GenerateRequest } from "../../engine/types.ts";
import type { ErrorParams } from "../errors.ts";
import { checkGenerative } from "../generation.ts";
import type { AcquiredModel } from "../model-source.ts";
import { checkedChatPrompt, templateFailure, templateMessages } from "./prompt.ts";
import type { ImageFetchPolicy } from "./image-fetch.ts";
import { checkVision, promptWithImages } from "./images.ts";
import type { ChatRequest, ImagePart } from "./request.ts";
import { resolveGeneration } from "./sampling.ts";
import { placeSystemTurns } from "./system-turns.ts";
import { afterThinking, harmonyAfterThinking, harmonyThinkingControl, thinkingBudget, thinkingControl, thinkMarkers, withBudgetSwitch, type PromptThinking } from "./thinking.ts";
import { reasoningSetup, templateKwargs, toolPlan } from "./tools.ts";

export interface PreparedChat {
  /** What the engine is asked to decode. */
  generate: GenerateRequest;
  /** How the raw answer splits into reasoning, content and calls. */
  setup: AnswerSetup;
  /** True when there is nothing to split: the answer is the text as generated. */
  plain: boolean;
  /** The request's own stop sequences (the template's stop strings come after them in `generate.stop`). */
  stop: string[];
  /** Request fields engine failures concern. */
  errorParams: ErrorParams;
  rendered: RenderedChat;
  /** The answer is a JSON value written after thinking: its fence and blanks are the grammar's (chat/json-answer.ts). */
  jsonAfterThinking?: boolean;
}

/** Renders `request` for `model`; 400s for what the model or its template cannot take. */
export async function prepareChat(request: ChatRequest, model: AcquiredModel, protect: boolean, imagePolicy?: ImageFetchPolicy): Promise<PreparedChat> {
  checkGenerative(model.info, request.n);
  checkVision(request.messages, model.info);
  const images: ImagePart[] = [];
  const tools = toolPlan(request, model.chat, request.output !== null);
  const budget = thinkingBudget(request.reasoning, model.reasoningBudget);
  const switches = withBudgetSwitch(request.reasoning, budget);
  let rendered: RenderedChat;
  try {
    const messages = placeSystemTurns(request.messages, () => model.chat.acceptsInnerSystem);
    rendered = model.chat.render(templateMessages(messages, images), true, tools.templateTools, templateKwargs({ ...request, reasoning: switches }));
  } catch (err) {
    throw templateFailure(err);
  }
  const reasoning = reasoningSetup(switches, model.chat, rendered.prompt);
  const setup: AnswerSetup = { reasoning: reasoning.setup, tools: tools.tools };
  const params = resolveGeneration(request.generation, model.info.nVocab, model.defaults);
  let grammar = tools.grammar ?? request.output?.grammar;
  const preserve = [...tools.preserve, ...reasoning.preserve];
  // A thinking template: the thinking is followed (counted, budgeted) and a JSON answer or a forced
  // call is constrained after it. A raw GBNF grammar still describes the whole output, and an
  // optional call's grammar already waits for its trigger (as llama-server's).
  let thinking: GenerateRequest["thinking"];
  let jsonAfterThinking = false;
  const json = !tools.grammar && request.output?.grammar.textOnly === true;
  const forcedCall = tools.grammar !== undefined && !tools.grammar.lazy;
  if (reasoning.setup?.format === "think") {
    const r = reasoning.setup;
    const prompt: PromptThinking = r.startsInReasoning ? "open" : r.thinkingClosed ? "closed" : "optional";
    const markers = thinkMarkers(model.chat);
    if (grammar && (json || forcedCall)) {
      grammar = afterThinking(grammar, json, prompt, markers);
      jsonAfterThinking = json;
    }
    thinking = thinkingControl(prompt, budget, markers, json || forcedCall, rendered.prompt);
  } else if (reasoning.setup?.format === "harmony") {
    if (grammar && (json || forcedCall)) {
      grammar = harmonyAfterThinking(grammar, json);
      jsonAfterThinking = json;
    }
    thinking = harmonyThinkingControl(budget, json || forcedCall);
  }
  const generate: GenerateRequest = {
    ...params,
    // Image parts become image segments and the images' bytes (chat-core/images.ts).
    ...(await promptWithImages(await checkedChatPrompt(rendered, protect, model.engine), images, imagePolicy)),
    addSpecial: true,
    stop: [...params.stop, ...rendered.stopStrings],
    stopTokens: rendered.stopTokens,
    ...(grammar ? { grammar } : {}),
    ...(thinking ? { thinking } : {}),
    ...(preserve.length > 0 ? { preserveTokens: preserve } : {}),
    n: request.n,
    logprobs: request.logprobs,
  };
  return {
    generate,
    setup,
    plain: !setup.reasoning && !setup.tools,
    stop: params.stop,
    errorParams: { prompt: "messages", ...(generate.images ? { images: generate.images.map(i => i.name ?? "") } : {}), grammar: tools.grammar ? "tool_choice" : (request.output?.param ?? null) },
    rendered,
    ...(jsonAfterThinking ? { jsonAfterThinking } : {}),
  };
}
