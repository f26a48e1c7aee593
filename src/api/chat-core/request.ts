// The one dialect-neutral chat request every wire format translates into, and the answers it
// comes back as. Dialects (src/api/chat-completions, src/api/anthropic, …) own their schemas and
// translate; everything between these types and the engine (rendering, special-token protection,
// tool grammars, reasoning, stop rules, usage) happens once, in this folder.
import type { AnswerDelta } from "../../chat/answer-parser.ts";
import type { ToolCall, ToolDefinition } from "../../chat/tool-calls/types.ts";
import type { GrammarConstraint, TokenLogprob, Timings, Usage } from "../../engine/types.ts";
import type { GenerationOptions } from "./sampling.ts";

/** One part of a message's content: text, or an image (vision models; chat-core/images.ts). */
export type ContentPart = { type: "text"; text: string } | ImagePart;

/**
 * An image in a message: the file's bytes (base64) or an http(s) URL to fetch them from (only with
 * --allow-image-urls). `param` is where the request put it (e.g. `messages[0].content[1]`), for errors.
 */
export interface ImagePart {
  type: "image";
  source: { base64: string } | { url: string };
  param: string;
}

/** A call an assistant turn made, as it comes back in history; `arguments` is JSON text. */
export interface HistoryToolCall {
  id?: string;
  name: string;
  arguments: string;
}

export interface RequestMessage {
  role: "system" | "developer" | "user" | "assistant" | "tool";
  content: ContentPart[];
  name?: string;
  /** A tool result's call id. */
  toolCallId?: string;
  /** An assistant turn's calls. */
  toolCalls?: HistoryToolCall[];
  /** An assistant turn's reasoning, rendered as the template renders reasoning. */
  reasoning?: string;
}

/** auto: the model decides; none: tools are not offered; required: some call; {name}: that call. */
export type ToolChoice = "auto" | "none" | "required" | { name: string };

export interface ReasoningOptions {
  /** Split reasoning from the answer (false: leave it in the content as the model wrote it). */
  parse: boolean;
  /** The template's thinking switch (enable_thinking); undefined: the template's default. */
  enable?: boolean;
  /** reasoning_effort for templates that read it (gpt-oss). */
  effort?: string;
  /** Most tokens to think (-1: no limit); unset: the effort's budget, else the model's default (chat-core/thinking.ts). */
  budgetTokens?: number;
}

export interface ChatRequest {
  messages: RequestMessage[];
  /** Function tools, as the template and the call parser see them. */
  tools: ToolDefinition[];
  toolChoice: ToolChoice;
  parallelToolCalls: boolean;
  generation: GenerationOptions;
  /** A constraint on the whole output (structured output), and the request field it came from. */
  output: { grammar: GrammarConstraint; param: string } | null;
  reasoning: ReasoningOptions;
  /** The client's own template variables (reserved names never win; see chat/renderer.ts). */
  templateKwargs: Record<string, unknown>;
  /** Choices decoded from one prefill. */
  n: number;
  /** Log-probabilities with this many alternatives per token. */
  logprobs?: number;
}

/** "tool_calls": the turn ended with calls to make. */
export type ChatFinishReason = "stop" | "length" | "tool_calls";

/** One choice's whole answer. */
export interface ChatAnswer {
  index: number;
  content: string;
  reasoning: string;
  toolCalls: ToolCall[];
  finishReason: ChatFinishReason;
  /** The request's own stop sequence that ended the answer, if one did. */
  stopSequence: string | null;
  logprobs?: TokenLogprob[];
  usage: Usage;
  timings: Timings;
}

/**
 * What one piece of a streamed answer adds to its choice: reasoning text, answer text, tool-call
 * starts (a call's first delta carries id and name) and argument text. The choice's last piece
 * carries `done`.
 */
export interface AnswerPiece {
  index: number;
  delta: AnswerDelta;
  logprobs?: TokenLogprob[];
  done?: { finishReason: ChatFinishReason; stopSequence: string | null; usage: Usage; timings: Timings };
}
