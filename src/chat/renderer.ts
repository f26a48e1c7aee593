// Renders a conversation in this order: a --chat-template override (family name or .jinja file),
// else the model's own Jinja template (@huggingface/jinja), else its family's built-in template
// when the GGUF has none or it cannot be rendered (logged once, not per request).
import { Template } from "@huggingface/jinja";
import { readFileSync } from "node:fs";
import { log } from "../util/log.ts";
import { families, type Family } from "./families.ts";
import { messageSpans, scrubDelimiters, withPlaceholders, type PromptSpan } from "./message-spans.ts";
import type { ChatMessage, RenderedChat } from "./types.ts";

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
  private own: Template | null = null;
  private ownText: string | null = null;
  private ownLabel = "gguf";
  readonly family: Family;
  /** Whether the model's template accepts a system turn (Gemma 2's raises on one). */
  private supportsSystem = true;
  private readonly fallback: Template;

  constructor(private readonly source: TemplateSource) {
    const override = source.override ? overrideTemplate(source.override) : null;
    this.family = override?.family ?? source.family ?? "generic";
    this.fallback = new Template(families[this.family].template);
    const own = override?.source ?? source.chatTemplate;
    if (override) this.ownLabel = override.label;
    if (own) {
      try {
        const own = new Template(override?.source ?? source.chatTemplate!);
        own.render(this.context([{ role: "user", content: "Hello" }], true));
        this.own = own;
        this.ownText = override?.source ?? source.chatTemplate!;
        this.supportsSystem = probeSystemRole(own, this.context([], true));
      } catch (err) {
        this.warnOnce(`its chat template cannot be rendered (${(err as Error).message})`);
      }
    } else {
      this.warnOnce("it has no chat template");
    }
  }

  /** How this model's prompts are rendered: "gguf", "file:<path>" or "builtin:<family>". */
  get templateSource(): string {
    return this.own ? this.ownLabel : `builtin:${this.family}`;
  }

  /** The Jinja text prompts are rendered with (tool-call and reasoning formats are read from it). */
  get templateText(): string {
    return this.ownText ?? families[this.family].template;
  }

  /**
   * What a template sees, as llama.cpp's chat code gives it (common/chat.cpp); raise_exception and
   * strftime_now come with @huggingface/jinja. `extra` (enable_thinking, reasoning_effort,
   * chat_template_kwargs) overrides the defaults.
   */
  private context(messages: ChatMessage[], addGenerationPrompt: boolean, tools?: unknown[], extra: Record<string, unknown> = {}) {
    const now = new Date();
    return {
      messages,
      add_generation_prompt: addGenerationPrompt,
      bos_token: this.source.bosText,
      eos_token: this.source.eosText,
      // Reasoning models think unless asked not to (llama-server's default).
      enable_thinking: true,
      date_string: strftime(now, "%d %b %Y"),
      datetime: strftime(now, "%b %d %Y"),
      ...(tools && tools.length > 0 ? { tools } : {}),
      ...extra,
    };
  }

  /** Role fix-ups llama.cpp applies before rendering: developer → system; a system turn the template cannot take is folded into the next message. */
  private adapt(messages: ChatMessage[]): ChatMessage[] {
    let out = messages.map(m => (m.role === "developer" ? { ...m, role: "system" as const } : m)).map(withObjectArguments);
    if (!this.supportsSystem && out[0]?.role === "system") {
      const [system, next, ...rest] = out;
      out = next ? [{ ...next, content: `${system!.content}\n${next.content}` }, ...rest] : [];
    }
    return out;
  }

  render(messages: ChatMessage[], addGenerationPrompt = true, tools?: unknown[], extra?: Record<string, unknown>): RenderedChat {
    const adapted = this.adapt(scrubDelimiters(messages));
    const context = this.context(adapted, addGenerationPrompt, tools, extra);
    const template = this.own ?? this.fallback;
    const label = this.own ? this.ownLabel : `builtin:${this.family}`;
    let text: string;
    try {
      text = template.render(context);
    } catch (err) {
      if (this.own) {
        // The template itself refused the conversation (e.g. roles must alternate): the user's fault.
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
    if (!spans) this.warnOnce(`its template transforms message text in a way that cannot be traced; special-token text in messages is not neutralized`, "alignment");
    return this.finish(text, label, spans);
  }

  private finish(text: string, source: string, spans: PromptSpan[] | null): RenderedChat {
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
    return { prompt, spans, stopTokens: stops, stopStrings: families[this.family].stopTokens, source };
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

/** Renders a system turn with a marker: the template supports the role if it neither raises nor drops it. */
function probeSystemRole(template: Template, base: object): boolean {
  const marker = "HEARTH_SYSTEM_PROBE";
  try {
    return template.render({ ...base, messages: [{ role: "system", content: marker }, { role: "user", content: "Hi" }] }).includes(marker);
  } catch {
    return false;
  }
}

export class TemplateError extends Error {
  override name = "TemplateError";
}

/** The strftime codes chat templates use for dates (llama.cpp passes date_string and datetime). */
function strftime(d: Date, format: string): string {
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const pad = (n: number) => String(n).padStart(2, "0");
  return format.replace(/%([dmYbH%])/g, (_, c: string) =>
    c === "d" ? pad(d.getDate()) : c === "m" ? pad(d.getMonth() + 1) : c === "Y" ? String(d.getFullYear()) : c === "b" ? months[d.getMonth()]! : c === "H" ? pad(d.getHours()) : "%",
  );
}
