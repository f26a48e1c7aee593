// Structured output: `response_format` (OpenAI), and llama-server's `json_schema` and `grammar`
// (raw GBNF) extensions → the grammar that constrains decoding. Schema conversion errors are 400s
// here; GBNF that llama.cpp cannot parse is refused by the runner before generation starts.
import { t } from "elysia";
import type { GrammarConstraint } from "../engine/types.ts";
import { jsonObjectGrammar } from "../grammar/json-primitives.ts";
import { jsonSchemaToGbnf, SchemaGrammarError } from "../grammar/json-schema-grammar.ts";
import { badRequest } from "./errors.ts";

const anySchema = t.Union([t.Record(t.String(), t.Unknown()), t.Boolean()]);

export const structuredOutputFields = {
  response_format: t.Optional(
    t.Union([
      t.Null(),
      t.Object({ type: t.Literal("text") }),
      // `schema` is llama-server's extension of json_object.
      t.Object({ type: t.Literal("json_object"), schema: t.Optional(anySchema) }),
      t.Object({
        type: t.Literal("json_schema"),
        json_schema: t.Object({
          // Optional: llama-server (and clients written for it) leave it out.
          name: t.Optional(t.String({ minLength: 1, maxLength: 256 })),
          description: t.Optional(t.String()),
          schema: t.Optional(anySchema),
          strict: t.Optional(t.Union([t.Boolean(), t.Null()])),
        }),
      }),
    ]),
  ),
  json_schema: t.Optional(t.Union([anySchema, t.Null()])),
  grammar: t.Optional(t.Union([t.String(), t.Null()])),
};

type Fields = { [K in keyof typeof structuredOutputFields]?: (typeof structuredOutputFields)[K]["static"] };

/** The request field a grammar comes from (for `param` in errors), or null when there is none. */
export function grammarField(body: Fields): string | null {
  if (body.grammar) return "grammar";
  if (body.response_format && body.response_format.type !== "text") return "response_format";
  if (body.json_schema != null) return "json_schema";
  return null;
}

/** The grammar a request asks for, or undefined. */
export function requestGrammar(body: Fields): GrammarConstraint | undefined {
  const format = body.response_format?.type === "text" ? null : body.response_format;
  if (body.grammar && (format || body.json_schema != null)) {
    throw badRequest("use either grammar or a JSON schema (response_format / json_schema), not both", { param: "grammar" });
  }
  if (body.grammar) return { gbnf: body.grammar };
  let schema: unknown;
  let param: string;
  if (format?.type === "json_schema") [schema, param] = [format.json_schema.schema, "response_format.json_schema.schema"];
  else if (format?.type === "json_object") [schema, param] = [format.schema, "response_format.schema"];
  else if (body.json_schema != null) [schema, param] = [body.json_schema, "json_schema"];
  else return undefined;
  // No schema, or an empty one, means any JSON object (as llama-server and OpenAI's json_object).
  if (schema === undefined || (typeof schema === "object" && schema !== null && Object.keys(schema).length === 0)) {
    return { gbnf: jsonObjectGrammar(), textOnly: true };
  }
  try {
    return { gbnf: jsonSchemaToGbnf(schema), textOnly: true };
  } catch (err) {
    if (err instanceof SchemaGrammarError) throw badRequest(`unsupported JSON schema: ${err.message}`, { param, code: "invalid_json_schema" });
    throw err;
  }
}
