// Ollama's native API (/api/...): the TypeBox schemas that are the only definition of its wire
// types. Lenient where Ollama is: unknown fields (and unknown `options` keys) are dropped, not refused.
import { t, type Static } from "elysia";

const anySchema = t.Record(t.String(), t.Unknown());

/** `format`: "json" (any JSON value), a JSON Schema, or "" / null (free text). */
const format = t.Optional(t.Union([t.String({ maxLength: 16 }), anySchema, t.Null()]));

/** `think`: on/off, or an effort level for models that read one (gpt-oss). */
const think = t.Optional(t.Union([t.Boolean(), t.Literal("low"), t.Literal("medium"), t.Literal("high"), t.Null()]));

/** Seconds (a number) or a Go-style duration ("5m", "1h30m", "-1", "0"). */
export const keepAlive = t.Optional(t.Union([t.Number(), t.String({ maxLength: 64 }), t.Null()]));

const int = (extra = {}) => t.Optional(t.Integer(extra));
const num = () => t.Optional(t.Number());

/** The options Hearth honours; every other key Ollama knows (num_gpu, mirostat, …) is ignored, as Ollama ignores unknown ones. */
export const ollamaOptions = t.Optional(
  t.Object({
    num_ctx: int({ minimum: 1 }),
    num_predict: int(),
    temperature: num(),
    top_k: int(),
    top_p: num(),
    min_p: num(),
    repeat_penalty: num(),
    repeat_last_n: int({ minimum: -1 }),
    presence_penalty: num(),
    frequency_penalty: num(),
    seed: int(),
    stop: t.Optional(t.Union([t.Array(t.String(), { maxItems: 16 }), t.String()])),
  }),
);

const toolCall = t.Object({
  id: t.Optional(t.String()),
  function: t.Object({
    index: t.Optional(t.Integer()),
    name: t.String({ minLength: 1, maxLength: 256 }),
    arguments: t.Optional(t.Union([anySchema, t.String()])),
  }),
});

const message = t.Object({
  role: t.Union([t.Literal("system"), t.Literal("user"), t.Literal("assistant"), t.Literal("tool")]),
  content: t.Optional(t.Union([t.String(), t.Null()])),
  thinking: t.Optional(t.String()),
  images: t.Optional(t.Union([t.Array(t.String()), t.Null()])),
  tool_calls: t.Optional(t.Union([t.Array(toolCall), t.Null()])),
  /** A tool result's tool (Ollama's name for it). */
  tool_name: t.Optional(t.String()),
  tool_call_id: t.Optional(t.String()),
});
export type OllamaMessage = Static<typeof message>;

const tool = t.Object({
  type: t.Optional(t.String()),
  function: t.Object({
    name: t.String({ minLength: 1, maxLength: 128 }),
    description: t.Optional(t.String()),
    parameters: t.Optional(anySchema),
  }),
});

const common = {
  model: t.Optional(t.String({ maxLength: 512 })),
  format,
  options: ollamaOptions,
  // The AI SDK's Ollama provider sends its standard settings here, beside `options` (Ollama ignores
  // them): honoured where `options` does not set the same thing.
  temperature: t.Optional(t.Number()),
  top_p: t.Optional(t.Number()),
  max_output_tokens: t.Optional(t.Integer()),
  stream: t.Optional(t.Union([t.Boolean(), t.Null()])),
  keep_alive: keepAlive,
  think,
};

export const chatBody = t.Object({ ...common, messages: t.Optional(t.Array(message)), tools: t.Optional(t.Union([t.Array(tool), t.Null()])) });
export type ChatBody = Static<typeof chatBody>;

export const generateBody = t.Object({
  ...common,
  prompt: t.Optional(t.String()),
  suffix: t.Optional(t.String()),
  system: t.Optional(t.String()),
  template: t.Optional(t.String()),
  raw: t.Optional(t.Boolean()),
  images: t.Optional(t.Union([t.Array(t.String()), t.Null()])),
  context: t.Optional(t.Array(t.Integer())),
});
export type GenerateBody = Static<typeof generateBody>;

export const embedBody = t.Object({
  model: t.Optional(t.String({ maxLength: 512 })),
  input: t.Union([t.String(), t.Array(t.String(), { maxItems: 2048 })]),
  truncate: t.Optional(t.Boolean()),
  dimensions: t.Optional(t.Integer({ minimum: 1 })),
  options: ollamaOptions,
  keep_alive: keepAlive,
});
export type EmbedBody = Static<typeof embedBody>;

/** The older single-vector route. */
export const embeddingsBody = t.Object({
  model: t.Optional(t.String({ maxLength: 512 })),
  prompt: t.String(),
  options: ollamaOptions,
  keep_alive: keepAlive,
});
export type EmbeddingsBody = Static<typeof embeddingsBody>;

/** show, pull and delete name the model as `model` (newer clients) or `name` (older ones). */
const named = { model: t.Optional(t.String({ maxLength: 512 })), name: t.Optional(t.String({ maxLength: 512 })) };

export const showBody = t.Object({ ...named, verbose: t.Optional(t.Boolean()) });
export type ShowBody = Static<typeof showBody>;

export const pullBody = t.Object({ ...named, insecure: t.Optional(t.Boolean()), stream: t.Optional(t.Union([t.Boolean(), t.Null()])) });
export type PullBody = Static<typeof pullBody>;

export const deleteBody = t.Object(named);
export type DeleteBody = Static<typeof deleteBody>;

export const copyBody = t.Object({ source: t.String({ minLength: 1, maxLength: 512 }), destination: t.String({ minLength: 1, maxLength: 512 }) });
export type CopyBody = Static<typeof copyBody>;

/** /api/create and /api/push: accepted as anything, answered with what to do instead. */
export const anyBody = t.Optional(t.Unknown());
