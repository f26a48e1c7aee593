// Which parts of a rendered prompt came from messages (untrusted text) and which from the
// template (markup that may hold control tokens). Used so that a user who types `<|im_end|>`
// writes text, never a control token.
//
// How: the template is rendered twice — once with the real messages, once with each message's
// text replaced by a placeholder. The second rendering is the template's own text with holes; the
// first is matched against it hole by hole, taking for each hole the message text as the
// template wrote it (as is, or trimmed, as templates often do).
import type { ChatMessage } from "./types.ts";

export interface PromptSpan {
  text: string;
  /** True for text that came from a message: it is tokenized as plain text. */
  fromMessage: boolean;
}

const OPEN = "\u{F8F0}";
const CLOSE = "\u{F8F1}";
/** Pads a placeholder to its text's length, for templates that check lengths (Mistral's 9-character call ids). */
const FILL = "\u{F8F2}";
const PLACEHOLDER = new RegExp(`${OPEN}(\\d+)${FILL}*${CLOSE}`, "g");

/** Message fields whose text is untrusted. */
const FIELDS = ["content", "reasoning_content", "thinking", "name", "tool_call_id"] as const;

/** The messages with every text field replaced by a numbered placeholder, and the texts by number. */
export function withPlaceholders(messages: ChatMessage[]): { messages: ChatMessage[]; texts: string[] } {
  const texts: string[] = [];
  const hole = (value: string) => {
    const id = `${OPEN}${texts.length}`;
    texts.push(value);
    return id + FILL.repeat(Math.max(0, value.length - id.length - 1)) + CLOSE;
  };
  // Tool-call arguments (an object by now): every key and string value is message text; numbers,
  // booleans and JSON punctuation cannot hold special-token text and stay as they are.
  const deep = (value: unknown): unknown => {
    if (typeof value === "string") return value.length > 0 ? hole(value) : value;
    if (Array.isArray(value)) return value.map(deep);
    if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k ? hole(k) : k, deep(v)]));
    return value;
  };
  const replaced = messages.map(m => {
    const copy: Record<string, unknown> = { ...m };
    for (const f of FIELDS) {
      const value = m[f];
      if (typeof value === "string" && value.length > 0) copy[f] = hole(value);
    }
    if (m.tool_calls) {
      copy.tool_calls = m.tool_calls.map(c => ({
        ...c,
        ...(c.id ? { id: hole(c.id) } : {}),
        function: { ...c.function, name: hole(c.function.name), arguments: deep(c.function.arguments) },
      }));
    }
    return copy as unknown as ChatMessage;
  });
  return { messages: replaced, texts };
}

/** Removes the placeholder delimiters from user text so no one can forge a placeholder. */
export function scrubDelimiters(messages: ChatMessage[]): ChatMessage[] {
  const clean = (s: string) => s.replaceAll(OPEN, "").replaceAll(CLOSE, "").replaceAll(FILL, "");
  const deep = (value: unknown): unknown => {
    if (typeof value === "string") return clean(value);
    if (Array.isArray(value)) return value.map(deep);
    if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [clean(k), deep(v)]));
    return value;
  };
  return messages.map(m => {
    const copy: Record<string, unknown> = { ...m };
    for (const f of FIELDS) if (typeof m[f] === "string") copy[f] = clean(m[f] as string);
    if (m.tool_calls) copy.tool_calls = deep(m.tool_calls);
    return copy as unknown as ChatMessage;
  });
}

/**
 * Splits `rendered` (real messages) into template and message spans using `skeleton` (the same
 * template rendered with placeholders). Returns null when the two cannot be aligned, or could be
 * aligned in more than one way; the caller must then fail closed (see RenderedChat.spans).
 */
export function messageSpans(rendered: string, skeleton: string, texts: string[]): PromptSpan[] | null {
  const pieces = skeleton.split(PLACEHOLDER); // [template, index, template, index, …, template]
  const spans: PromptSpan[] = [];
  let pos = 0;
  const template = (text: string) => {
    if (text) spans.push({ text, fromMessage: false });
  };
  if (!rendered.startsWith(pieces[0]!, pos)) return null;
  template(pieces[0]!);
  pos += pieces[0]!.length;
  for (let i = 1; i < pieces.length; i += 2) {
    const original = texts[Number(pieces[i])] ?? "";
    const next = pieces[i + 1]!;
    // The message text as the template wrote it: as is, trimmed, or inside a JSON string (tojson).
    const written = [original, original.trim(), original.trimStart(), original.trimEnd(), JSON.stringify(original).slice(1, -1)].find(
      c => rendered.startsWith(c, pos) && rendered.startsWith(next, pos + c.length),
    );
    let end: number;
    if (written !== undefined) end = pos + written.length;
    else {
      // Transformed some other way (e.g. reasoning split off): the text up to the next template
      // piece. If the message itself holds that piece, its copy could be taken for the template's
      // (and its control tokens parsed): that cannot be told apart, so nothing is aligned.
      if (next && original.includes(next)) return null;
      end = next ? rendered.indexOf(next, pos) : rendered.length;
      if (end < 0) return null;
    }
    if (end > pos) spans.push({ text: rendered.slice(pos, end), fromMessage: true });
    template(next);
    pos = end + next.length;
  }
  return pos === rendered.length ? spans : null;
}
