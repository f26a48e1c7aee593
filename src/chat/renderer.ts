// Renders a conversation with the model's own Jinja template (@huggingface/jinja), falling back
// to ChatML when the GGUF has none or its template cannot be rendered (logged once).
import { Template } from "@huggingface/jinja";
import { log } from "../util/log.ts";
import { chatmlStops, chatmlTemplate } from "./chatml.ts";
import type { ChatMessage, RenderedChat } from "./types.ts";

export interface TemplateSource {
  /** tokenizer.chat_template from the GGUF, if any. */
  chatTemplate: string | null;
  bosText: string;
  eosText: string;
  /** Used in logs. */
  modelId: string;
}

export class ChatRenderer {
  private own: Template | null = null;
  private readonly fallback = new Template(chatmlTemplate);
  private warned = false;

  constructor(private readonly source: TemplateSource) {
    if (source.chatTemplate) {
      try {
        const own = new Template(source.chatTemplate);
        own.render(this.context([{ role: "user", content: "Hello" }], true));
        this.own = own;
      } catch (err) {
        this.warnOnce(`its chat template cannot be rendered (${(err as Error).message})`);
      }
    } else {
      this.warnOnce("it has no chat template");
    }
  }

  /** Variables a template sees (raise_exception and strftime_now come with @huggingface/jinja). */
  private context(messages: ChatMessage[], addGenerationPrompt: boolean) {
    return { messages, add_generation_prompt: addGenerationPrompt, bos_token: this.source.bosText, eos_token: this.source.eosText };
  }

  render(messages: ChatMessage[], addGenerationPrompt = true): RenderedChat {
    const context = this.context(messages, addGenerationPrompt);
    if (this.own) {
      try {
        return this.finish(this.own.render(context), "gguf", [this.source.eosText]);
      } catch (err) {
        // The template itself refused the conversation (e.g. roles must alternate): the user's fault.
        // The template renders a plain conversation (checked at start), so a failure here is the
        // template refusing this conversation (raise_exception: roles must alternate, …).
        throw new TemplateError((err as Error).message);
      }
    }
    return this.finish(this.fallback.render(context), "builtin:chatml", chatmlStops);
  }

  private finish(text: string, source: string, stops: string[]): RenderedChat {
    // The engine adds BOS itself when the vocabulary asks for it: drop the template's copy.
    const bos = this.source.bosText;
    const prompt = bos && text.startsWith(bos) ? text.slice(bos.length) : text;
    const stopTokens = [...new Set(stops.filter(Boolean))];
    return { prompt, stopTokens, stopStrings: source === "gguf" ? [] : ["<|im_end|>"], source };
  }

  private warnOnce(why: string): void {
    if (this.warned) return;
    this.warned = true;
    log("warn", `model ${this.source.modelId}: ${why}; chatting through ChatML`);
  }
}

export class TemplateError extends Error {
  override name = "TemplateError";
}
