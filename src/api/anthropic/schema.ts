// Wire schema of Anthropic's Messages API (POST /v1/messages, /v1/messages/count_tokens): the
// only definition of its request types. Lenient as clients need: fields Hearth does not know are
// accepted and ignored (Claude Code adds some every month); known fields with values Hearth cannot
// serve are refused in translate.ts with a message that says why.
import { t } from "elysia";

const nullable = <T extends Parameters<typeof t.Optional>[0]>(schema: T) => t.Optional(t.Union([schema, t.Null()]));

/** Accepted anywhere and ignored: Hearth reuses prompt prefixes by itself. */
const cacheControl = t.Optional(t.Unknown());

const open = { additionalProperties: true } as const;

export const textBlock = t.Object({ type: t.Literal("text"), text: t.String(), cache_control: cacheControl }, open);

const imageBlock = t.Object({ type: t.Literal("image"), source: t.Object({ type: t.String() }, open), cache_control: cacheControl }, open);
const documentBlock = t.Object({ type: t.Literal("document"), source: t.Unknown(), cache_control: cacheControl }, open);

const toolUseBlock = t.Object(
  { type: t.Literal("tool_use"), id: t.String({ maxLength: 256 }), name: t.String({ maxLength: 256 }), input: t.Unknown(), cache_control: cacheControl },
  open,
);

const toolResultBlock = t.Object(
  {
    type: t.Literal("tool_result"),
    tool_use_id: t.String({ maxLength: 256 }),
    content: t.Optional(t.Union([t.String(), t.Array(t.Union([textBlock, imageBlock, documentBlock, t.Object({ type: t.String() }, open)]), { maxItems: 1024 })])),
    is_error: t.Optional(t.Boolean()),
    cache_control: cacheControl,
  },
  open,
);

// Thinking in history is accepted whatever its signature (signed, unsigned or not Hearth's own).
const thinkingBlock = t.Object({ type: t.Literal("thinking"), thinking: t.String(), signature: t.Optional(t.Unknown()) }, open);
const redactedThinkingBlock = t.Object({ type: t.Literal("redacted_thinking"), data: t.Optional(t.Unknown()) }, open);

const KNOWN_BLOCKS = "text|image|document|tool_use|tool_result|thinking|redacted_thinking";
/** Any other block type gets translate.ts's clear 400 instead of a schema error about the known ones. */
const otherBlock = t.Object({ type: t.String({ pattern: `^(?!(${KNOWN_BLOCKS})$)` }) }, open);

export const contentBlock = t.Union([textBlock, imageBlock, documentBlock, toolUseBlock, toolResultBlock, thinkingBlock, redactedThinkingBlock, otherBlock]);

export const message = t.Object({
  // "system" is not in Anthropic's documented schema, but Claude Code sends one between user turns.
  role: t.Union([t.Literal("user"), t.Literal("assistant"), t.Literal("system")]),
  content: t.Union([t.String(), t.Array(contentBlock, { maxItems: 4096 })]),
});

// A tool with a `type` other than "custom" is a server tool (web_search_…, code_execution_…):
// left out of the prompt, since a local server cannot run it.
const tool = t.Object(
  {
    type: t.Optional(t.String()),
    name: t.String({ minLength: 1, maxLength: 256 }),
    description: t.Optional(t.String()),
    input_schema: t.Optional(t.Record(t.String(), t.Unknown())),
    cache_control: cacheControl,
  },
  open,
);

const parallel = { disable_parallel_tool_use: t.Optional(t.Boolean()) };
const toolChoice = t.Union([
  t.Object({ type: t.Literal("auto"), ...parallel }),
  t.Object({ type: t.Literal("any"), ...parallel }),
  t.Object({ type: t.Literal("tool"), name: t.String(), ...parallel }),
  t.Object({ type: t.Literal("none") }),
]);

const thinking = t.Union([
  // budget_tokens: the most tokens the model may think (chat-core/thinking.ts); the thinking is closed when it is spent.
  t.Object({ type: t.Literal("enabled"), budget_tokens: t.Optional(t.Integer({ minimum: 0 })) }),
  t.Object({ type: t.Literal("disabled") }),
  t.Object({ type: t.Literal("adaptive") }),
]);

const requestFields = {
  // Omitted, null or empty: the default model (src/models/model-names.ts); `claude-*` names reach a local model through aliases.
  model: nullable(t.String({ maxLength: 512 })),
  messages: t.Array(message, { maxItems: 16384 }),
  system: t.Optional(t.Union([t.String(), t.Array(textBlock, { maxItems: 1024 })])),
  tools: t.Optional(t.Array(tool, { maxItems: 512 })),
  tool_choice: t.Optional(toolChoice),
  thinking: t.Optional(thinking),
  // Claude Code's `effort`: passed to templates that read reasoning_effort.
  output_config: t.Optional(t.Object({ effort: t.Optional(t.String({ maxLength: 32 })) }, open)),
  metadata: t.Optional(t.Object({ user_id: nullable(t.String()) }, open)),
  service_tier: t.Optional(t.String({ maxLength: 64 })),
};

export const messagesBody = t.Object({
  ...requestFields,
  max_tokens: t.Integer({ minimum: 1 }),
  stop_sequences: t.Optional(t.Array(t.String({ maxLength: 256 }), { maxItems: 16 })),
  temperature: t.Optional(t.Number({ minimum: 0, maximum: 1 })),
  top_p: t.Optional(t.Number({ minimum: 0, maximum: 1 })),
  top_k: t.Optional(t.Integer({ minimum: 0 })),
  stream: t.Optional(t.Boolean()),
});

export const countTokensBody = t.Object(requestFields);

export type MessagesBody = typeof messagesBody.static;
export type CountTokensBody = typeof countTokensBody.static;
export type WireMessage = typeof message.static;
export type WireBlock = typeof contentBlock.static;
