// Wire schema of POST /v1/chat/completions: the only definition of the request type.
import { t } from "elysia";
import { samplingFields } from "../sampling-schema.ts";

const textPart = t.Object({ type: t.Literal("text"), text: t.String() });
const otherPart = t.Object({ type: t.String() }, { additionalProperties: true });
const content = t.Union([t.String(), t.Array(t.Union([textPart, otherPart]), { maxItems: 1024 }), t.Null()]);

const toolCall = t.Object({
  id: t.Optional(t.String()),
  type: t.Optional(t.Literal("function")),
  function: t.Object({ name: t.String(), arguments: t.String() }),
});

export const chatMessage = t.Object({
  // t.Union of literals (not t.UnionEnum): a missing role must fail validation.
  role: t.Union([t.Literal("system"), t.Literal("developer"), t.Literal("user"), t.Literal("assistant"), t.Literal("tool")]),
  content: t.Optional(content),
  name: t.Optional(t.String({ maxLength: 256 })),
  tool_calls: t.Optional(t.Array(toolCall)),
  tool_call_id: t.Optional(t.String()),
  reasoning_content: t.Optional(t.Union([t.String(), t.Null()])),
  reasoning: t.Optional(t.Union([t.String(), t.Null()])),
});

export const chatCompletionBody = t.Object({
  ...samplingFields,
  messages: t.Array(chatMessage, { minItems: 1, maxItems: 4096 }),
  // Passed to the chat template (tool-call parsing of the answer is a separate feature).
  tools: t.Optional(t.Array(t.Any(), { maxItems: 512 })),
  logprobs: t.Optional(t.Union([t.Boolean(), t.Null()])),
  top_logprobs: t.Optional(t.Union([t.Integer({ minimum: 0, maximum: 20 }), t.Null()])),
});

export type ChatCompletionBody = typeof chatCompletionBody.static;
