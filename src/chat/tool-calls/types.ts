// Tool calls as the chat layer sees them: OpenAI's `tools` entries, and the calls parsed out of
// a model's answer.

/** One entry of a request's `tools` (OpenAI's function tool). */
export interface ToolDefinition {
  type: "function";
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean | null };
}

/** A call as parsed so far: `args` is the raw JSON text of the arguments (a prefix while it grows). */
export interface PartialCall {
  name: string | null;
  args: string;
  complete: boolean;
}

/** What a format's parser found in a tool section (text that starts with one of its triggers). */
export interface SectionParse {
  calls: PartialCall[];
  /** Where the section ended; null while it may still continue. */
  end: number | null;
}

/** A finished call, as the API returns it. */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}
