// Turns a chat answer's raw text into what the API returns: reasoning, content and tool calls,
// piece by piece (streams) or at once. Reasoning is split off first; tool calls are parsed from
// the rest.
import { reasoningSplitter, type ReasoningFormat, type ReasoningSplitter } from "./reasoning.ts";
import type { ToolFormat } from "./tool-calls/formats.ts";
import { ToolCallStream, type ToolStreamDelta } from "./tool-calls/stream.ts";
import type { ToolCall, ToolDefinition } from "./tool-calls/types.ts";

export interface AnswerDelta {
  content: string;
  reasoning: string;
  toolCalls: ToolStreamDelta["calls"];
}

export interface AnswerSetup {
  /** startsInReasoning / thinkingClosed: the prompt opened / closed `<think>` (reasoning.ts). */
  reasoning: { format: ReasoningFormat; startsInReasoning: boolean; thinkingClosed?: boolean } | null;
  tools: { formats: ToolFormat[]; definitions: ToolDefinition[] } | null;
}

export class AnswerParser {
  private readonly reasoning: ReasoningSplitter | null;
  private readonly tools: ToolCallStream | null;

  constructor(setup: AnswerSetup) {
    const r = setup.reasoning;
    this.reasoning = r ? reasoningSplitter(r.format, r.startsInReasoning, r.thinkingClosed, setup.tools !== null) : null;
    const idLength = setup.tools?.formats[0]?.idLength;
    this.tools = setup.tools ? new ToolCallStream(setup.tools.formats, setup.tools.definitions, () => callId(idLength)) : null;
  }

  push(text: string): AnswerDelta {
    const r = this.reasoning ? this.reasoning.push(text) : { content: text, reasoning: "" };
    return this.afterReasoning(r.reasoning, r.content, false);
  }

  end(): AnswerDelta {
    const r = this.reasoning ? this.reasoning.end() : { content: "", reasoning: "" };
    return this.afterReasoning(r.reasoning, r.content, true);
  }

  get toolCalls(): ToolCall[] {
    return this.tools?.calls ?? [];
  }

  private afterReasoning(reasoning: string, content: string, final: boolean): AnswerDelta {
    if (!this.tools) return { content, reasoning, toolCalls: [] };
    const pushed = this.tools.push(content);
    if (!final) return { content: pushed.content, reasoning, toolCalls: pushed.calls };
    const ended = this.tools.end();
    return { content: pushed.content + ended.content, reasoning, toolCalls: [...pushed.calls, ...ended.calls] };
  }
}

/** The whole answer at once. */
export function parseAnswer(setup: AnswerSetup, text: string): { content: string; reasoning: string; toolCalls: ToolCall[] } {
  const parser = new AnswerParser(setup);
  const a = parser.push(text);
  const b = parser.end();
  return { content: a.content + b.content, reasoning: a.reasoning + b.reasoning, toolCalls: parser.toolCalls };
}

const ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/** A fresh call id: `call_` + 24 alphanumerics, or exactly `length` of them where the template demands it (Mistral: 9). */
export function callId(length?: number): string {
  const n = length ?? 24;
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  const body = Array.from(bytes, b => ALNUM[b % ALNUM.length]).join("");
  return length ? body : `call_${body}`;
}
