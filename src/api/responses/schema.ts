// Wire schema of OpenAI's Responses API (POST /v1/responses, /v1/responses/input_tokens): the only
// definition of its request types. Lenient as its clients need: fields Hearth does not know are
// accepted and ignored (Codex adds some every release); known fields with values Hearth cannot
// serve pass the schema and are refused in translate.ts with a message that says why.
import { t } from "elysia";

const nullable = <T extends Parameters<typeof t.Optional>[0]>(schema: T) => t.Optional(t.Union([schema, t.Null()]));
const open = { additionalProperties: true } as const;

/** Any part of a message's content: input_text / output_text are read, others refused in translate.ts. */
const contentPart = t.Object({ type: t.String({ maxLength: 64 }), text: t.Optional(t.String()) }, open);
const content = t.Union([t.String(), t.Array(contentPart, { maxItems: 1024 })]);

export const messageItem = t.Object(
  {
    type: t.Optional(t.Literal("message")),
    // t.Union of literals (not t.UnionEnum): a missing role must fail validation.
    role: t.Union([t.Literal("user"), t.Literal("assistant"), t.Literal("system"), t.Literal("developer")]),
    content,
  },
  open,
);

const functionCallItem = t.Object(
  {
    type: t.Literal("function_call"),
    call_id: t.String({ maxLength: 256 }),
    name: t.String({ maxLength: 256 }),
    arguments: t.String(),
    // Codex: a call to one of a namespace tool's functions names the namespace here.
    namespace: nullable(t.String({ maxLength: 256 })),
  },
  open,
);

const functionCallOutputItem = t.Object(
  { type: t.Literal("function_call_output"), call_id: t.String({ maxLength: 256 }), output: t.Union([t.String(), t.Array(contentPart, { maxItems: 1024 })]) },
  open,
);

/** A freeform (custom) tool's call and its output: `input` is the tool's free text. */
const customToolCallItem = t.Object({ type: t.Literal("custom_tool_call"), call_id: t.String({ maxLength: 256 }), name: t.String({ maxLength: 256 }), input: t.String() }, open);
const customToolCallOutputItem = t.Object(
  { type: t.Literal("custom_tool_call_output"), call_id: t.String({ maxLength: 256 }), output: t.Union([t.String(), t.Array(contentPart, { maxItems: 1024 })]) },
  open,
);

const textPiece = t.Object({ type: t.Optional(t.String({ maxLength: 64 })), text: t.String() }, open);
const reasoningItem = t.Object(
  {
    type: t.Literal("reasoning"),
    summary: t.Optional(t.Array(textPiece, { maxItems: 1024 })),
    content: nullable(t.Array(textPiece, { maxItems: 1024 })),
    encrypted_content: nullable(t.String()),
  },
  open,
);

const KNOWN_ITEMS = "message|function_call|function_call_output|reasoning|custom_tool_call|custom_tool_call_output";
/** Any other item type gets translate.ts's clear 400 instead of a schema error about the known ones. */
const otherItem = t.Object({ type: t.String({ pattern: `^(?!(${KNOWN_ITEMS})$)`, maxLength: 64 }) }, open);

export const inputItem = t.Union([messageItem, functionCallItem, functionCallOutputItem, reasoningItem, customToolCallItem, customToolCallOutputItem, otherItem]);

const functionTool = t.Object(
  {
    type: t.Literal("function"),
    name: t.String({ pattern: "^[a-zA-Z0-9_.-]{1,64}$" }),
    description: nullable(t.String()),
    parameters: nullable(t.Record(t.String(), t.Unknown())),
    strict: nullable(t.Boolean()),
  },
  open,
);

/** Codex's namespace tool: functions offered to the model as `NAMESPACE__NAME` (see translate.ts). */
const namespaceTool = t.Object(
  {
    type: t.Literal("namespace"),
    name: t.String({ pattern: "^[a-zA-Z0-9_.-]{1,64}$" }),
    description: nullable(t.String()),
    tools: t.Array(functionTool, { maxItems: 512 }),
  },
  open,
);

/** A freeform tool: the model writes its input as free text (a lark grammar is taken as free text; regex is refused in translate.ts). */
const customTool = t.Object(
  {
    type: t.Literal("custom"),
    name: t.String({ pattern: "^[a-zA-Z0-9_.-]{1,64}$" }),
    description: nullable(t.String()),
    format: nullable(
      t.Union([
        t.Object({ type: t.Literal("text") }, open),
        t.Object({ type: t.Literal("grammar"), syntax: t.Union([t.Literal("lark"), t.Literal("regex")]), definition: t.String() }, open),
      ]),
    ),
  },
  open,
);

/** Hosted tools (web_search, file_search, …): left out of the prompt in translate.ts. */
const otherTool = t.Object({ type: t.String({ pattern: "^(?!(function|namespace|custom)$)", maxLength: 64 }) }, open);

export const tool = t.Union([functionTool, namespaceTool, customTool, otherTool]);

const toolChoice = t.Union([
  t.Literal("none"),
  t.Literal("auto"),
  t.Literal("required"),
  t.Object({ type: t.Literal("function"), name: t.String({ maxLength: 256 }), namespace: nullable(t.String({ maxLength: 256 })) }, open),
  t.Object({ type: t.Literal("custom"), name: t.String({ maxLength: 256 }) }, open),
  // Hosted-tool and allowed_tools choices: refused in translate.ts.
  t.Object({ type: t.String({ pattern: "^(?!(function|custom)$)", maxLength: 64 }) }, open),
]);

const anySchema = t.Union([t.Record(t.String(), t.Unknown()), t.Boolean()]);
const textFormat = t.Union([
  t.Object({ type: t.Literal("text") }, open),
  t.Object({ type: t.Literal("json_object") }, open),
  t.Object(
    {
      type: t.Literal("json_schema"),
      name: t.Optional(t.String({ maxLength: 256 })),
      description: nullable(t.String()),
      schema: t.Optional(anySchema),
      strict: nullable(t.Boolean()),
    },
    open,
  ),
]);

const reasoning = t.Object(
  {
    effort: nullable(t.Union([t.Literal("none"), t.Literal("minimal"), t.Literal("low"), t.Literal("medium"), t.Literal("high"), t.Literal("xhigh")])),
    // Any value: the reasoning text itself is the summary too (a local model has no summarizer).
    summary: nullable(t.String({ maxLength: 32 })),
  },
  open,
);

/** What a request puts in the prompt: shared by /v1/responses and /v1/responses/input_tokens. */
const promptFields = {
  // Omitted, null or empty: the default model (src/models/model-names.ts).
  model: nullable(t.String({ maxLength: 512 })),
  input: t.Optional(t.Union([t.String(), t.Array(inputItem, { maxItems: 16384 })])),
  instructions: nullable(t.String()),
  tools: nullable(t.Array(tool, { maxItems: 512 })),
  tool_choice: nullable(toolChoice),
  parallel_tool_calls: nullable(t.Boolean()),
  text: nullable(t.Object({ format: nullable(textFormat), verbosity: nullable(t.String({ maxLength: 32 })) }, open)),
  reasoning: nullable(reasoning),
  previous_response_id: nullable(t.String({ maxLength: 256 })),
  // "auto": the oldest turns are left out until the prompt fits (truncation.ts); "disabled": a 400.
  truncation: nullable(t.Union([t.Literal("auto"), t.Literal("disabled")])),
};

export const responsesBody = t.Object({
  ...promptFields,
  max_output_tokens: nullable(t.Integer({ minimum: 1 })),
  temperature: nullable(t.Number({ minimum: 0, maximum: 2 })),
  top_p: nullable(t.Number({ minimum: 0, maximum: 1 })),
  stream: nullable(t.Boolean()),
  store: nullable(t.Boolean()),
  include: nullable(t.Array(t.String({ maxLength: 128 }), { maxItems: 64 })),
  metadata: nullable(t.Record(t.String({ maxLength: 64 }), t.String({ maxLength: 512 }))),
  user: nullable(t.String({ maxLength: 512 })),
  prompt_cache_key: nullable(t.String({ maxLength: 512 })),
  service_tier: nullable(t.String({ maxLength: 64 })),
  // Background responses (polling) are not served: true is refused in translate.ts.
  background: nullable(t.Boolean()),
});

export const inputTokensBody = t.Object(promptFields);

/** GET /v1/responses/{id}/input_items: a cursor page (`include` is accepted and adds nothing). */
export const inputItemsQuery = t.Object(
  {
    // 1 to 100, as text: a query value (t.Numeric's range errors come without the field's name).
    limit: t.Optional(t.String({ pattern: "^([1-9]|[1-9][0-9]|100)$" })),
    order: t.Optional(t.Union([t.Literal("asc"), t.Literal("desc")])),
    after: t.Optional(t.String({ maxLength: 256 })),
  },
  open,
);

export type ResponsesBody = typeof responsesBody.static;
export type InputTokensBody = typeof inputTokensBody.static;
export type InputItemsQuery = typeof inputItemsQuery.static;
export type InputItem = typeof inputItem.static;
export type WireTool = typeof tool.static;
