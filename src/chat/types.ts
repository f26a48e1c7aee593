// Chat messages as the chat module sees them: already parsed from the wire, text only.
export interface ChatMessage {
  role: "system" | "developer" | "user" | "assistant" | "tool";
  content: string;
  name?: string;
  tool_call_id?: string;
  reasoning_content?: string;
  /** The same reasoning under gpt-oss's name for it (its template reads `thinking`; the renderer fills it in). */
  thinking?: string;
  /** An assistant turn's calls; `arguments` is the JSON text from the wire (the renderer gives templates the object). */
  tool_calls?: ChatToolCall[];
}

export interface ChatToolCall {
  id?: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** What the engine needs from a rendered conversation. */
export interface RenderedChat {
  /** The prompt text, starting after any BOS (the engine adds BOS as the vocabulary wants). */
  prompt: string;
  /**
   * The prompt split into template markup and message text (same characters as `prompt`), or
   * null when the template's handling of message text could not be traced. Then nothing tells
   * which control-token text is the template's, and the prompt must not be tokenized with special
   * tokens parsed unless no message text holds any (see `messageTexts`).
   */
  spans: Array<{ text: string; fromMessage: boolean }> | null;
  /** Every text the messages gave the template (contents, names, ids, call arguments), when `spans` is null. */
  messageTexts?: string[];
  /** Control-token texts that end the assistant's turn for this template. */
  stopTokens: string[];
  /** Plain-text stops, for templates whose end marker is not a token of this vocabulary. */
  stopStrings: string[];
  /** Which template rendered it: "gguf" or "builtin:<name>". */
  source: string;
}
