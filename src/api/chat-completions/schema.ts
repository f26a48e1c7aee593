// Wire schema of POST /v1/chat/completions: the only definition of the request type.
import { t } from "elysia";
import { samplingFields } from "../sampling-schema.ts";

const textPart = t.Object({ type: t.Literal("text"), text: t.String() });
// An image: a data: URL (base64) or, with --allow-image-urls, an http(s) URL (docs/vision.md).
const imagePart = t.Object({ type: t.Literal("image_url"), image_url: t.Object({ url: t.String(), detail: t.Optional(t.String()) }) });
const otherPart = t.Object({ type: t.String() }, { additionalProperties: true });
const content = t.Union([t.String(), t.Array(t.Union([textPart, imagePart, otherPart]), { maxItems: 1024 }), t.Null()]);

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

// Extra keys (OpenAI adds some now and then) pass through to the template untouched.
const tool = t.Object(
  {
    type: t.Literal("function"),
    function: t.Object(
      {
        name: t.String({ pattern: "^[a-zA-Z0-9_.-]{1,64}$" }),
        description: t.Optional(t.String()),
        parameters: t.Optional(t.Record(t.String(), t.Unknown())),
        strict: t.Optional(t.Union([t.Boolean(), t.Null()])),
      },
      { additionalProperties: true },
    ),
  },
  { additionalProperties: true },
);

export const toolChoice = t.Union([
  t.Literal("none"),
  t.Literal("auto"),
  t.Literal("required"),
  t.Object({ type: t.Literal("function"), function: t.Object({ name: t.String() }) }),
]);

export const chatCompletionBody = t.Object({
  ...samplingFields,
  messages: t.Array(chatMessage, { minItems: 1, maxItems: 4096 }),
  tools: t.Optional(t.Union([t.Array(tool, { maxItems: 512 }), t.Null()])),
  tool_choice: t.Optional(t.Union([toolChoice, t.Null()])),
  parallel_tool_calls: t.Optional(t.Union([t.Boolean(), t.Null()])),
  // Reasoning models: passed to templates that read them (Qwen3's enable_thinking, gpt-oss's reasoning_effort).
  // Each effort is also a thinking budget (chat-core/thinking.ts's EFFORT_BUDGETS); "none": no thinking.
  reasoning_effort: t.Optional(t.Union([t.Literal("none"), t.Literal("minimal"), t.Literal("low"), t.Literal("medium"), t.Literal("high"), t.Null()])),
  // llama-server's thinking budget in tokens (reasoning_budget_tokens wins); -1: the server's default.
  thinking_budget_tokens: t.Optional(t.Union([t.Integer({ minimum: -1, maximum: 2147483647 }), t.Null()])),
  reasoning_budget_tokens: t.Optional(t.Union([t.Integer({ minimum: -1, maximum: 2147483647 }), t.Null()])),
  enable_thinking: t.Optional(t.Union([t.Boolean(), t.Null()])),
  chat_template_kwargs: t.Optional(t.Union([t.Record(t.String(), t.Unknown()), t.Null()])),
  // llama-server's: "none" leaves thinking in `content` as the model wrote it.
  reasoning_format: t.Optional(t.Union([t.Literal("none"), t.Literal("auto"), t.Literal("deepseek"), t.Null()])),
  logprobs: t.Optional(t.Union([t.Boolean(), t.Null()])),
  top_logprobs: t.Optional(t.Union([t.Integer({ minimum: 0, maximum: 20 }), t.Null()])),
  // llama-server's debugging aid: the answer carries `__verbose` with the rendered prompt.
  verbose: t.Optional(t.Union([t.Boolean(), t.Null()])),
  // vLLM's / llama-server's prompt switches: Hearth always opens a new assistant turn (no prefill),
  // so only their default values are taken (translate.ts).
  add_generation_prompt: t.Optional(t.Union([t.Boolean(), t.Null()])),
  continue_final_message: t.Optional(t.Union([t.Boolean(), t.Null()])),
});

export type ChatCompletionBody = typeof chatCompletionBody.static;
