// Renders a conversation in this order: a --chat-template override (family name or .jinja file),
// else the model's own Jinja template (@huggingface/jinja), else its family's built-in template
// when the GGUF has none or it cannot be rendered (logged once, not per request). Every template
// renders under limits (bounded-template.ts); a model whose own template cannot render a one-line
// conversation within them gets no fallback: its chat requests are refused with the reason.
import { readFileSync } from "node:fs";
import { log } from "../util/log.ts";
import { BoundedTemplate, strftime } from "./bounded-template.ts";
import { families, type Family } from "./families.ts";
import { messageSpans, scrubDelimiters, withPlaceholders, type PromptSpan } from "./message-spans.ts";
import { TemplateError, TemplateLimitError } from "./template-errors.ts";
import type { ChatMessage, RenderedChat } from "./types.ts";

export { TemplateError, TemplateLimitError };

/**
 * Template variables a request cannot set through chat_template_kwargs: the conversation and its
 * framing come only from the request's own fields, and the template's functions and constants
 * stay what they are. (enable_thinking, reasoning_effort, date_string … remain settable.)
 */
export const RESERVED_TEMPLATE_VARIABLES = new Set([
  "messages", "tools", "add_generation_prompt", "bos_token", "eos_token",
  "raise_exception", "strftime_now", "range", "namespace", "true", "false", "none", "True", "False", "None",
]);

export interface TemplateSource {
  /** tokenizer.chat_template from the GGUF, if any. */
  chatTemplate: string | null;
  bosText: string;
  eosText: string;
  /** Used in logs. */
  modelId: string;
  /** The detected family (decides the fallback template and the stop tokens). */
  family?: Family;
  /** --chat-template: a family name or a path to a .jinja file; wins over everything. */
  override?: string;
}

/** Resolves --chat-template NAME|FILE into a template and how to report it. */
function overrideTemplate(value: string): { source: string; label: string; family?: Family } {
  if (value in families) return { source: families[value as Family].template, label: `builtin:${value}`, family: value as Family };
  return { source: readFileSync(value, "utf8"), label: `file:${value}` };
}

export class ChatRenderer {
  private own: BoundedTemplate | null = null;
  private ownText: string | null = null;
  private ownLabel = "gguf";
  readonly family: Family;
  /** Whether the model's template accepts a system turn (Gemma 2's raises on one). */
  private supportsSystem = true;
  private readonly fallback: BoundedTemplate;
  /** Why the model's own template cannot be used and no request is rendered (it broke a limit). */
  private unusable: string | null = null;

  constructor(private readonly source: TemplateSource) {
    const override = source.override ? overrideTemplate(source.override) : null;
    this.family = override?.family ?? source.family ?? "generic";
    this.fallback = new BoundedTemplate(families[this.family].template);
    const text = override?.source ?? source.chatTemplate;
    if (override) this.ownLabel = override.label;
    if (text) {
      try {
        const own = new BoundedTemplate(text);
        own.render(this.context([{ role: "user", content: "Hello" }], true));
        this.own = own;
        this.ownText = text;
        this.supportsSystem = probeSystemRole(own, this.context([], true));
      } catch (err) {
        if (err instanceof TemplateLimitError) {
          // Not a template this engine cannot read, but one that does not stop: no fallback hides it.
          this.own = null;
          this.ownText = text;
          this.unusable = `the chat template of model ${source.modelId} cannot be rendered within Hearth's limits: ${err.message}`;
          log("warn", `model ${source.modelId}: ${this.unusable}; its chat requests are refused (fix the template or replace it with --chat-template)`);
        } else {
          this.warnOnce(`its chat template cannot be rendered (${(err as Error).message})`);
        }
      }
    } else {
      this.warnOnce("it has no chat template");
    }
  }

  /** How this model's prompts are rendered: "gguf", "file:<path>" or "builtin:<family>". */
  get templateSource(): string {
    return this.own || this.unusable ? this.ownLabel : `builtin:${this.family}`;
  }

  /**
   * Whether a system turn after the conversation has begun is rendered where it stands (the
   * template neither raises on it nor drops it). Probed once, on first use.
   */
  get acceptsInnerSystem(): boolean {
    if (this.innerSystem === null) {
      const template = this.own ?? (this.unusable ? null : this.fallback);
      const turns = [{ role: "user", content: "Hi" }, { role: "assistant", content: "Hello" }, { role: "system", content: SYSTEM_PROBE }, { role: "user", content: "Hi" }];
      this.innerSystem = template !== null && rendersMarker(template, { ...this.context([], true), messages: turns });
    }
    return this.innerSystem;
  }
  private innerSystem: boolean | null = null;

  /** The Jinja text prompts are rendered with (tool-call and reasoning formats are read from it). */
  get templateText(): string {
    return this.ownText ?? families[this.family].template;
  }

  /**
   * What a template sees, as llama.cpp's chat code gives it (common/chat.cpp); raise_exception,
   * strftime_now and range come with the template (bounded-template.ts). `extra` (enable_thinking,
   * reasoning_effort, chat_template_kwargs) overrides the defaults but never a reserved name.
   */
  private context(messages: ChatMessage[], addGenerationPrompt: boolean, tools?: unknown[], extra: Record<string, unknown> = {}) {
    const now = new Date();
    const settable = Object.fromEntries(Object.entries(extra).filter(([name]) => !RESERVED_TEMPLATE_VARIABLES.has(name)));
    return {
      // Reasoning models think unless asked not to (llama-server's default).
      enable_thinking: true,
      date_string: strftime(now, "%d %b %Y"),
      datetime: strftime(now, "%b %d %Y"),
      ...settable,
      messages,
      add_generation_prompt: addGenerationPrompt,
      bos_token: this.source.bosText,
      eos_token: this.source.eosText,
      ...(tools && tools.length > 0 ? { tools } : {}),
    };
  }

  /** Role fix-ups llama.cpp applies before rendering: developer → system; a system turn the template cannot take is folded into the next message. */
  private adapt(messages: ChatMessage[]): ChatMessage[] {
    let out = messages.map(m => (m.role === "developer" ? { ...m, role: "system" as const } : m)).map(withObjectArguments);
    if (this.templateText.includes("<|channel|>")) out = out.map(withHarmonyThinking);
    if (!this.supportsSystem && out[0]?.role === "system") {
      const [system, next, ...rest] = out;
      out = next ? [{ ...next, content: `${system!.content}\n${next.content}` }, ...rest] : [];
    }
    return out;
  }

  render(messages: ChatMessage[], addGenerationPrompt = true, tools?: unknown[], extra?: Record<string, unknown>): RenderedChat {
    if (this.unusable) throw new TemplateLimitError(this.unusable);
    const adapted = this.adapt(scrubDelimiters(messages));
    const context = this.context(adapted, addGenerationPrompt, tools, extra);
    const template = this.own ?? this.fallback;
    const label = this.own ? this.ownLabel : `builtin:${this.family}`;
    let text: string;
    try {
      text = template.render(context);
    } catch (err) {
      if (err instanceof TemplateLimitError) {
        throw new TemplateLimitError(`the chat template of model ${this.source.modelId} cannot render this conversation within Hearth's limits: ${err.message}`);
      }
      if (this.own) {
        // The template renders a plain conversation (checked at start), so a failure here is the
        // template refusing this conversation (raise_exception: roles must alternate, …).
        throw new TemplateError((err as Error).message);
      }
      throw err;
    }
    // The same template with placeholders for message text tells markup from message text.
    const holes = withPlaceholders(adapted);
    let spans: PromptSpan[] | null = null;
    try {
      spans = messageSpans(text, template.render({ ...context, messages: holes.messages }), holes.texts);
    } catch {
      spans = null;
    }
    if (!spans) this.warnOnce(`its template transforms message text in a way that cannot be traced; such prompts are tokenized with special tokens only when no message holds control-token text`, "alignment");
    return this.finish(text, label, spans, holes.texts);
  }

  private finish(text: string, source: string, spans: PromptSpan[] | null, messageTexts: string[]): RenderedChat {
    // The engine adds BOS itself when the vocabulary asks for it: drop the template's copy.
    const bos = this.source.bosText;
    const dropBos = bos !== "" && text.startsWith(bos);
    const prompt = dropBos ? text.slice(bos.length) : text;
    if (dropBos && spans?.[0] && !spans[0].fromMessage && spans[0].text.startsWith(bos)) {
      spans[0] = { ...spans[0], text: spans[0].text.slice(bos.length) };
      if (!spans[0].text) spans.shift();
    } else if (dropBos) spans = null;
    const stops = [...new Set([...families[this.family].stopTokens, this.source.eosText].filter(Boolean))];
    // Stop texts act as tokens where the vocabulary has them, and as plain text where it does not
    // (a fallback template on a vocabulary without its markers); either way they are never shown.
    return { prompt, spans, ...(spans ? {} : { messageTexts }), stopTokens: stops, stopStrings: families[this.family].stopTokens, source };
  }

  private readonly warned = new Set<string>();
  private warnOnce(why: string, kind = "fallback"): void {
    if (this.warned.has(kind)) return;
    this.warned.add(kind);
    const consequence = kind === "fallback" ? `; using the built-in ${this.family} template` : "";
    log("warn", `model ${this.source.modelId}: ${why}${consequence}`);
  }

}

/**
 * gpt-oss's template reads an assistant's reasoning from `thinking` (rendered as the analysis
 * message before a call) and refuses a turn with calls that holds both thinking and content; so,
 * as llama.cpp's gpt-oss handler does, the reasoning is copied there and such a turn's content
 * dropped.
 */
function withHarmonyThinking(m: ChatMessage): ChatMessage {
  if (typeof m.reasoning_content !== "string" || m.thinking !== undefined) return m;
  const out: ChatMessage = { ...m, thinking: m.reasoning_content };
  if (m.tool_calls?.length) out.content = "";
  return out;
}

/**
 * Templates write a call's arguments as an object (`tool_call.arguments | tojson`, GLM's
 * `arguments.items()`), as llama.cpp gives them: JSON text that parses to an object becomes one.
 */
function withObjectArguments(m: ChatMessage): ChatMessage {
  if (!m.tool_calls) return m;
  const tool_calls = m.tool_calls.map(c => {
    let args: unknown = c.function.arguments;
    try {
      const parsed = JSON.parse(c.function.arguments);
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) args = parsed;
    } catch {
      /* kept as text */
    }
    return { ...c, function: { ...c.function, arguments: args } };
  });
  return { ...m, tool_calls } as unknown as ChatMessage;
}

const SYSTEM_PROBE = "HEARTH_SYSTEM_PROBE";

/** Renders a system turn with a marker: the template supports the role if it neither raises nor drops it. */
function probeSystemRole(template: BoundedTemplate, base: object): boolean {
  try {
    return template.render({ ...base, messages: [{ role: "system", content: SYSTEM_PROBE }, { role: "user", content: "Hi" }] }).includes(SYSTEM_PROBE);
  } catch (err) {
    if (err instanceof TemplateLimitError) throw err;
    return false;
  }
}

/** Whether `context` renders with the system probe's marker in it (any failure: no). */
function rendersMarker(template: BoundedTemplate, context: Record<string, unknown>): boolean {
  try {
    return template.render(context).includes(SYSTEM_PROBE);
  } catch {
    return false;
  }
}
