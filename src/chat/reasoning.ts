// Separates a reasoning model's thinking from its answer as the text streams: `<think>…</think>`
// (Qwen3, QwQ, DeepSeek-R1 distills, GLM-4.5+) and gpt-oss's channels (`<|channel|>analysis
// <|message|>…<|end|>` is thinking, `<|channel|>final<|message|>…` the answer). Markers split
// across pieces are held back until they are whole, as stop strings are.

export type ReasoningFormat = "think" | "harmony";

export interface ReasoningDelta {
  content: string;
  reasoning: string;
}

/** The reasoning format a chat template uses, or null. */
export function detectReasoningFormat(template: string | null): ReasoningFormat | null {
  if (!template) return null;
  if (template.includes("<|channel|>")) return "harmony";
  if (template.includes("</think>") || template.includes("<think>")) return "think";
  return null;
}

/** A generation prompt that ends inside `<think>` (DeepSeek-R1's template opens it): the answer starts as reasoning. */
export function promptOpensThinking(prompt: string): boolean {
  const tail = prompt.trimEnd();
  return tail.endsWith("<think>");
}

/**
 * A generation prompt that already closed `<think></think>` (thinking switched off, GLM-4.5+ and
 * Qwen3 templates): llama-server reads the whole answer as content, its leading blanks included.
 */
export function promptClosesThinking(prompt: string): boolean {
  return prompt.trimEnd().endsWith("</think>");
}

/** gpt-oss control tokens the splitter reads (rendered as text instead of dropped). */
export const harmonyTokens = ["<|channel|>", "<|message|>", "<|end|>", "<|start|>", "<|constrain|>"];

/** What C's isspace() matches (llama.cpp's p.space()): not Unicode spaces such as U+00A0. */
const LEADING_SPACE = /^[ \t\n\v\f\r]+/;

/** Length of the longest tail of `text` that is a proper prefix of one of `markers`. */
function partialTail(text: string, markers: string[]): number {
  let keep = 0;
  for (const m of markers) {
    for (let n = Math.min(m.length - 1, text.length); n > keep; n--) {
      if (text.endsWith(m.slice(0, n))) {
        keep = n;
        break;
      }
    }
  }
  return keep;
}

export interface ReasoningSplitter {
  push(text: string): ReasoningDelta;
  end(): ReasoningDelta;
}

/**
 * `startsInReasoning`: the prompt opened `<think>`; `thinkingClosed`: the prompt closed it (see the
 * functions above). `toolCalls` (harmony): a message to `functions.NAME` is passed on as a call
 * (see HarmonySplitter) for the tool-call parser, instead of its body as content.
 */
export function reasoningSplitter(format: ReasoningFormat, startsInReasoning: boolean, thinkingClosed = false, toolCalls = false): ReasoningSplitter {
  return format === "think" ? new ThinkSplitter(startsInReasoning, thinkingClosed) : new HarmonySplitter(toolCalls);
}

/** Buffers streamed pieces; `advance` emits what is decided and keeps what may still change. */
abstract class BufferedSplitter implements ReasoningSplitter {
  protected buffer = "";

  push(text: string): ReasoningDelta {
    this.buffer += text;
    return this.advance(false);
  }

  end(): ReasoningDelta {
    return this.advance(true);
  }

  protected abstract advance(final: boolean): ReasoningDelta;
}

/**
 * `<think>` at the start (or opened by the prompt) up to `</think>` is reasoning; blanks at the
 * seams are dropped. After a prompt that closed thinking, everything is content, as written.
 */
class ThinkSplitter extends BufferedSplitter {
  private state: "start" | "reasoning" | "content";
  /** Leading blanks of the current part are dropped. */
  private skipBlank: boolean;

  constructor(startsInReasoning: boolean, thinkingClosed: boolean) {
    super();
    this.state = startsInReasoning ? "reasoning" : thinkingClosed ? "content" : "start";
    this.skipBlank = this.state !== "content";
  }

  protected advance(final: boolean): ReasoningDelta {
    const out = { content: "", reasoning: "" };
    for (;;) {
      if (this.state === "start") {
        // llama-server parses such answers as `generation prompt`, blanks, optional reasoning, content
        // (common/chat-auto-parser-generator.cpp: `prefix << parser`, where `<<` puts p.space() in
        // between): the answer's leading ASCII whitespace is dropped whether or not a <think> follows.
        const t = this.buffer.replace(LEADING_SPACE, "");
        if (t.startsWith("<think>")) {
          this.buffer = t.slice("<think>".length);
          this.state = "reasoning";
          this.skipBlank = true;
          continue;
        }
        if (!final && "<think>".startsWith(t)) return out;
        // An answer of blanks alone parses to nothing, and llama-server then answers its raw text.
        if (t) this.buffer = t;
        this.state = "content";
        this.skipBlank = false;
        continue;
      }
      if (this.skipBlank) {
        this.buffer = this.buffer.trimStart();
        if (!this.buffer) return out;
        this.skipBlank = false;
      }
      if (this.state === "content") {
        out.content += this.buffer;
        this.buffer = "";
        return out;
      }
      const close = this.buffer.indexOf("</think>");
      if (close >= 0) {
        out.reasoning += this.buffer.slice(0, close).trimEnd();
        this.buffer = this.buffer.slice(close + "</think>".length);
        this.state = "content";
        this.skipBlank = true;
        continue;
      }
      // Hold back a partial `</think>` and trailing blanks (they may precede it).
      let keep = final ? 0 : partialTail(this.buffer, ["</think>"]);
      const body = this.buffer.slice(0, this.buffer.length - keep);
      const trimmed = final ? body : body.trimEnd();
      keep += body.length - trimmed.length;
      out.reasoning += trimmed;
      this.buffer = this.buffer.slice(this.buffer.length - keep);
      return out;
    }
  }
}

const bodyEnds = ["<|end|>", "<|start|>", "<|channel|>", "<|return|>", "<|call|>"];

/** A message's recipient as the header names it (`to=functions.get_weather`). */
const RECIPIENT = /(?:^|\s)to=([^\s<]+)/;
/** The recipient written in the role header, just before `<|channel|>`: `<|start|>assistant to=functions.NAME`. */
const ROLE_RECIPIENT = /\s*to=([^\s<]+)\s*$/;

/**
 * gpt-oss: analysis messages are reasoning, everything else the answer; markup is dropped. With
 * `toolCalls`, a message addressed to `functions.NAME` (in its channel header, `<|channel|>commentary
 * to=functions.NAME <|constrain|>json<|message|>{…}<|call|>`, or in its role header, `<|start|>assistant
 * to=functions.NAME<|channel|>commentary json<|message|>{…}`) is passed on as content in one plain
 * form, ` to=functions.NAME<|message|>{…}<|call|>`, which the harmony tool-call format parses.
 */
class HarmonySplitter extends BufferedSplitter {
  private state: "outside" | "header" | "body" = "outside";
  private channel = "";
  /** The current message's recipient (`functions.get_weather`), or "". */
  private recipient = "";

  constructor(private readonly toolCalls: boolean) {
    super();
  }

  protected advance(final: boolean): ReasoningDelta {
    const out = { content: "", reasoning: "" };
    for (;;) {
      if (this.state === "outside") {
        const at = this.buffer.indexOf("<|channel|>");
        // Between messages only markup is expected (`<|end|><|start|>assistant`, perhaps with a
        // recipient); other text is answer, decided once the next channel opens or the answer ends.
        const upTo = at >= 0 ? at : final ? this.buffer.length : 0;
        let stray = this.buffer.slice(0, upTo).replace(/<\|end\|>|<\|start\|>(assistant)?|<\|return\|>|<\|call\|>/g, "");
        this.recipient = "";
        const role = at >= 0 ? ROLE_RECIPIENT.exec(stray) : null;
        if (role) {
          this.recipient = role[1]!;
          stray = stray.slice(0, role.index);
        }
        out.content += stray;
        this.buffer = this.buffer.slice(at >= 0 ? at + "<|channel|>".length : upTo);
        if (at < 0) return out;
        this.state = "header";
        continue;
      }
      if (this.state === "header") {
        const at = this.buffer.indexOf("<|message|>");
        if (at < 0) {
          if (final) this.buffer = "";
          return out;
        }
        const header = this.buffer.slice(0, at);
        this.channel = header.trim().split(/[\s<]/)[0] ?? "";
        this.recipient = RECIPIENT.exec(header)?.[1] ?? this.recipient;
        this.buffer = this.buffer.slice(at + "<|message|>".length);
        this.state = "body";
        if (this.isCall()) out.content += ` to=${this.recipient}<|message|>`;
        continue;
      }
      let at = -1;
      for (const m of bodyEnds) {
        const i = this.buffer.indexOf(m);
        if (i >= 0 && (at < 0 || i < at)) at = i;
      }
      const upTo = at >= 0 ? at : this.buffer.length - (final ? 0 : partialTail(this.buffer, bodyEnds));
      const text = this.buffer.slice(0, upTo);
      if (this.channel === "analysis" && !this.isCall()) out.reasoning += text;
      else out.content += text;
      this.buffer = this.buffer.slice(upTo);
      if (at < 0) return out;
      if (this.isCall()) out.content += "<|call|>";
      this.state = "outside";
    }
  }

  private isCall(): boolean {
    return this.toolCalls && this.recipient.startsWith("functions.");
  }
}
