// fast-check generators for request bodies: valid, near-valid and hostile values per field, so a
// run explores real requests, boundaries, wrong types and attacks in the same bodies.
import fc from "fast-check";
import * as schemas from "../grammar/hostile-schemas.ts";

/** Strings that break naive code: control characters, lone surrogates, RTL, huge, special-token text. */
const nastyString = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary", maxLength: 64 }),
  fc.constantFrom("", "\u0000", "\ud800", "\udfff", "\u202e", "\ufeff", "<|im_end|>", "</s>", "<s>", "{{ raise_exception('x') }}", "{% for %}", "\\u0000", "🦙".repeat(50), "\r\n\r\n"),
  fc.string({ minLength: 5_000, maxLength: 20_000 }),
);

/** What real messages look like, with the odd special-token text and non-ASCII. */
export const shortString = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 10 }) },
  { weight: 1, arbitrary: fc.constantFrom("", "<|im_end|>", "</s>", "<s>", "{{ x }}", "\u0000", "Once upon a time") },
);

/** Numbers at and past every boundary a field may have. */
const nastyNumber = fc.oneof(
  fc.integer({ min: -5, max: 300 }),
  fc.double({ noNaN: true }),
  fc.constantFrom(0, -1, 1e308, -1e308, 2 ** 53, 2 ** 31, 2 ** 32 + 1, 0.5, 1e-320, Number.MAX_SAFE_INTEGER + 2),
);

/** Deep nesting (below the parser's limit and past it). */
const deep = fc.integer({ min: 1, max: 120 }).map(depth => {
  let v: unknown = "x";
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
});

/** Anything at all where a field is expected. */
export const hostile: fc.Arbitrary<unknown> = fc.oneof(
  nastyString,
  nastyNumber,
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(nastyString, nastyNumber), { maxLength: 8 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(nastyString, nastyNumber), { maxKeys: 4 }),
  deep,
);

/** A field: its valid values, and the near-valid ones at its boundaries. */
interface FieldSpec {
  valid: fc.Arbitrary<unknown>;
  edge?: fc.Arbitrary<unknown>;
}
export const f = (valid: fc.Arbitrary<unknown>, edge?: fc.Arbitrary<unknown>): FieldSpec => ({ valid, edge });

/**
 * Bodies in three kinds: fully valid (optional fields present or not), valid but for one or two
 * fields set to a boundary or hostile value, and any field hostile. Valid bodies must exist in
 * numbers, or the fuzz would only ever test the validator.
 */
export function bodyOf(spec: Record<string, FieldSpec>, required: string[]): fc.Arbitrary<unknown> {
  const keys = Object.keys(spec);
  const valid = fc.record(Object.fromEntries(keys.map(k => [k, spec[k]!.valid])), { requiredKeys: required as never[] }) as fc.Arbitrary<Record<string, unknown>>;
  const wrong = (k: string) => fc.oneof(spec[k]!.edge ?? hostile, hostile);
  const mutated = fc
    .tuple(valid, fc.subarray(keys, { minLength: 1, maxLength: Math.min(2, keys.length) }))
    .chain(([body, picked]) => fc.tuple(...picked.map(k => wrong(k).map(v => [k, v] as const))).map(pairs => ({ ...body, ...Object.fromEntries(pairs) })));
  const wild = fc.record(Object.fromEntries(keys.map(k => [k, fc.oneof(spec[k]!.valid, wrong(k))])), { requiredKeys: [] });
  return fc.oneof({ weight: 4, arbitrary: valid }, { weight: 4, arbitrary: mutated }, { weight: 1, arbitrary: wild }, { weight: 1, arbitrary: hostile });
}

export const modelField = (model: string) => f(fc.constant(model), fc.constantFrom("", "no-such-model", "../../etc/passwd", model.toUpperCase(), model + "\u0000"));

const samplingFields = {
  max_tokens: f(fc.integer({ min: 1, max: 16 }), fc.constantFrom(0, -1, 10_000_000, 129, 127, 1.5)),
  temperature: f(fc.double({ min: 0, max: 2, noNaN: true }), fc.constantFrom(-0.1, 2.01, 1e9)),
  top_p: f(fc.double({ min: 0, max: 1, noNaN: true })),
  top_k: f(fc.integer({ min: 0, max: 100 })),
  min_p: f(fc.double({ min: 0, max: 1, noNaN: true })),
  n: f(fc.integer({ min: 1, max: 3 }), fc.constantFrom(0, 129, 128, -1)),
  seed: f(fc.integer(), fc.constantFrom(2 ** 64, -(2 ** 63), 1.5)),
  stream: f(fc.boolean()),
  stream_options: f(fc.record({ include_usage: fc.boolean() })),
  stop: f(fc.oneof(fc.string({ maxLength: 8 }), fc.array(fc.string({ maxLength: 8 }), { maxLength: 4 })), fc.array(fc.string(), { minLength: 5, maxLength: 6 })),
  presence_penalty: f(fc.double({ min: -2, max: 2, noNaN: true })),
  frequency_penalty: f(fc.double({ min: -2, max: 2, noNaN: true })),
  repeat_penalty: f(fc.double({ min: 0.5, max: 2, noNaN: true }), fc.constantFrom(0, 0.01, 0.009, 1e-40, 10, 10.5)),
  logit_bias: f(fc.dictionary(fc.integer({ min: 0, max: 600 }).map(String), fc.double({ min: -100, max: 100, noNaN: true }), { maxKeys: 3 }), fc.constantFrom({ "-1": 5 }, { "99999999": 1 }, { abc: 1 })),
  ignore_eos: f(fc.boolean()),
  post_sampling_probs: f(fc.boolean()),
  user: f(fc.string({ maxLength: 20 })),
};

const messageSpec: Record<string, FieldSpec> = {
    role: f(fc.constantFrom("system", "developer", "user", "assistant", "tool"), fc.constantFrom("root", "", "USER")),
    // Short text mostly: stories260K's context holds 128 tokens.
    content: f(
      fc.oneof(shortString, fc.array(fc.record({ type: fc.constant("text"), text: shortString }), { maxLength: 3 })),
      fc.oneof(nastyString, fc.constantFrom([{ type: "image_url", image_url: { url: "http://x/y.png" } }], [{ type: "text" }], [{}])),
    ),
    name: f(fc.string({ maxLength: 10 })),
    tool_call_id: f(fc.string({ maxLength: 10 })),
};
// Mostly valid messages: one bad message in four would make nearly every conversation a 400.
const message = fc.oneof(
  { weight: 8, arbitrary: fc.record(Object.fromEntries(Object.entries(messageSpec).map(([k, v]) => [k, v.valid])), { requiredKeys: ["role", "content"] }) },
  { weight: 1, arbitrary: bodyOf(messageSpec, ["role", "content"]) },
);
const messages = f(fc.array(message, { minLength: 1, maxLength: 4 }), fc.constantFrom([], {}, "hi", [null]));

/** JSON Schemas as clients write them: objects, arrays, enums, anyOf, bounds, $defs and $ref. */
const ordinarySchema: fc.Arbitrary<unknown> = fc.letrec<{ node: unknown; object: unknown; array: unknown; anyOf: unknown }>(tie => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom({ type: "string" }, { type: "integer" }, { type: "number" }, { type: "boolean" }, { type: "null" }, { type: "string", format: "date" }, {}, true),
    fc.record({ type: fc.constant("string"), minLength: fc.integer({ min: 0, max: 3 }), maxLength: fc.integer({ min: 3, max: 12 }) }),
    fc.record({ type: fc.constant("integer"), minimum: fc.integer({ min: -1000, max: 0 }), maximum: fc.integer({ min: 0, max: 100_000 }) }),
    fc.record({ enum: fc.array(fc.oneof(fc.string({ maxLength: 6 }), fc.integer(), fc.constant(null)), { minLength: 1, maxLength: 5 }) }),
    tie("object"),
    tie("array"),
    tie("anyOf"),
  ),
  object: fc
    .tuple(fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), tie("node"), { maxKeys: 4 }), fc.boolean(), fc.constantFrom(undefined, false, true))
    .map(([properties, allRequired, additionalProperties]) => ({ type: "object", properties, ...(allRequired ? { required: Object.keys(properties) } : {}), ...(additionalProperties === undefined ? {} : { additionalProperties }) })),
  array: fc.record({ type: fc.constant("array"), items: tie("node"), maxItems: fc.integer({ min: 0, max: 4 }) }, { requiredKeys: ["type", "items"] }),
  anyOf: fc.record({ anyOf: fc.array(tie("node"), { minLength: 1, maxLength: 3 }) }),
})).node;

/**
 * Schemas small as text but expensive to convert naively (issue 23, finding 1), wide ones, and
 * broken references: a 400 or a grammar within the converter's budget, promptly.
 */
const costlySchema: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ min: 1, max: 28 }).map(schemas.anyOfBesideProperties),
  fc.integer({ min: 1, max: 28 }).map(schemas.typeArrayOfObjects),
  // Not deeper: overlapping alternatives nested n deep give llama.cpp's grammar sampler 2^n stacks
  // (12 levels: 2.8 s for 120 tokens; 14: the runner stuck) — open, see test/server/schema-budget.test.ts.
  fc.integer({ min: 1, max: 8 }).map(schemas.anyOfMergingProperties),
  fc.integer({ min: 100, max: 12_000 }).map(schemas.wideAnyOf),
  fc.integer({ min: 100, max: 8_000 }).map(schemas.wideProperties),
  fc.integer({ min: 10, max: 6_000 }).map(schemas.allOfOfReferences),
  fc.constantFrom(...schemas.brokenReferences),
);

/** A schema where one is expected: mostly ordinary, sometimes costly. */
export const jsonSchema: fc.Arbitrary<unknown> = fc.oneof({ weight: 5, arbitrary: ordinarySchema }, { weight: 1, arbitrary: costlySchema });

const responseFormat = f(
  fc.oneof(
    fc.constantFrom({ type: "text" }, { type: "json_object" }, null),
    jsonSchema.map(schema => ({ type: "json_object", schema })),
    fc.tuple(fc.string({ minLength: 1, maxLength: 10 }), jsonSchema, fc.boolean()).map(([name, schema, strict]) => ({ type: "json_schema", json_schema: { name, schema, strict } })),
  ),
  fc.constantFrom({ type: "json_schema" }, { type: "json_schema", json_schema: { name: "" } }, { type: "xml" }, { type: "json_object", schema: 5 }),
);

const tool = fc.record({
  type: fc.constant("function"),
  function: fc.record({ name: fc.constantFrom("get_weather", "f", "lookup"), description: fc.string({ maxLength: 20 }), parameters: jsonSchema }, { requiredKeys: ["name"] }),
});
const tools = f(fc.array(tool, { minLength: 1, maxLength: 3 }), fc.constantFrom([], [{ type: "function" }], [{ type: "function", function: { name: "" } }]));
// Forcing choices are near-valid here (they need tools and no response_format); schemaRequest sends them validly.
const toolChoice = f(fc.constantFrom("auto", "none"), fc.constantFrom("required", { type: "function", function: { name: "f" } }, "always", { type: "function", function: { name: "missing" } }));

export function chatBody(model: string) {
  const logprobs = { logprobs: f(fc.boolean()), top_logprobs: f(fc.integer({ min: 0, max: 20 }), fc.constantFrom(-1, 21, 1.5)) };
  return bodyOf({ model: modelField(model), messages, ...samplingFields, ...logprobs, response_format: responseFormat, tools, tool_choice: toolChoice }, ["model", "messages"]);
}

export function completionBody(model: string) {
  const prompt = f(
    fc.oneof(shortString, fc.array(shortString, { minLength: 1, maxLength: 3 }), fc.array(fc.integer({ min: 0, max: 511 }), { minLength: 1, maxLength: 20 })),
    fc.oneof(nastyString, fc.constant([]), fc.constant([[]]), fc.array(fc.integer({ min: -10, max: 1_000_000 }), { minLength: 1, maxLength: 5 })),
  );
  const logprobs = f(fc.integer({ min: 0, max: 20 }), fc.constantFrom(-1, 21, true));
  return bodyOf({ model: modelField(model), prompt, echo: f(fc.boolean()), suffix: f(fc.constant(null), fc.constantFrom("x", "")), logprobs, ...samplingFields, json_schema: f(jsonSchema) }, ["model", "prompt"]);
}

const png = { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" };
/** Anthropic content blocks: text mostly, and every other kind a client may send, valid or not. */
const anthropicBlock = fc.oneof(
  { weight: 6, arbitrary: fc.record({ type: fc.constant("text"), text: shortString, cache_control: fc.constant({ type: "ephemeral" }) }, { requiredKeys: ["type", "text"] }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      { type: "image", source: png }, { type: "document", source: { type: "text", data: "x" } }, { type: "thinking", thinking: "hmm", signature: "x" },
      { type: "redacted_thinking", data: "x" }, { type: "search_result" }, { type: "text" }, {}, { type: "tool_use", id: "t1", name: "f", input: { a: 1 } },
      { type: "tool_result", tool_use_id: "t1", content: "ok", is_error: true }, { type: "tool_result", tool_use_id: "t1", content: [{ type: "text", text: "ok" }, { type: "image", source: png }] },
    ),
  },
);
const anthropicMessageSpec: Record<string, FieldSpec> = {
  role: f(fc.constantFrom("user", "assistant", "system"), fc.constantFrom("tool", "developer", "", "USER")),
  content: f(fc.oneof(shortString, fc.array(anthropicBlock, { maxLength: 3 })), fc.oneof(nastyString, fc.constantFrom(null, [null], {}))),
};
const anthropicMessage = fc.oneof(
  { weight: 8, arbitrary: fc.record({ role: anthropicMessageSpec.role!.valid, content: anthropicMessageSpec.content!.valid }) },
  { weight: 1, arbitrary: bodyOf(anthropicMessageSpec, ["role", "content"]) },
);
const anthropicTool = fc.oneof(
  { weight: 4, arbitrary: fc.record({ name: fc.constantFrom("get_weather", "f", "lookup"), description: fc.string({ maxLength: 20 }), input_schema: jsonSchema, cache_control: fc.constant({ type: "ephemeral" }) }, { requiredKeys: ["name", "input_schema"] }) },
  { weight: 1, arbitrary: fc.constantFrom({ type: "web_search_20250305", name: "web_search", max_uses: 3 }, { type: "bash_20250124", name: "bash" }, { type: "custom", name: "f" }, { name: "bad name!", input_schema: {} }) },
);

/** Anthropic's /v1/messages fields (count_tokens takes them without max_tokens and sampling). */
function anthropicFields(model: string) {
  return {
    model: modelField(model),
    messages: f(fc.array(anthropicMessage, { minLength: 1, maxLength: 4 }), fc.constantFrom([], {}, "hi", [null])),
    system: f(
      fc.oneof(shortString, fc.array(fc.record({ type: fc.constant("text"), text: shortString }), { maxLength: 2 }), fc.constant("x-anthropic-billing-header: cc_version=1; cch=abcde;")),
      fc.constantFrom([{ type: "image" }], 5, [{}]),
    ),
    tools: f(fc.array(anthropicTool, { minLength: 1, maxLength: 3 }), fc.constantFrom([], [{}], [{ name: "" }])),
    tool_choice: f(fc.constantFrom({ type: "auto" }, { type: "none" }, { type: "auto", disable_parallel_tool_use: true }), fc.constantFrom({ type: "any" }, { type: "tool", name: "f" }, { type: "tool", name: "missing" }, { type: "always" }, "auto")),
    thinking: f(fc.constantFrom({ type: "enabled", budget_tokens: 1024 }, { type: "disabled" }, { type: "adaptive", display: "omitted" }), fc.constantFrom({ type: "enabled", budget_tokens: -1 }, { type: "on" }, true)),
    metadata: f(fc.record({ user_id: fc.string({ maxLength: 20 }) })),
    context_management: f(fc.constant({ edits: [{ type: "clear_thinking_20251015", keep: "all" }] })),
    output_config: f(fc.constantFrom({ effort: "high" }, { effort: "max" }), fc.constantFrom({ effort: 5 })),
  };
}

export function anthropicMessagesBody(model: string) {
  const sampling = {
    max_tokens: f(fc.integer({ min: 1, max: 16 }), fc.constantFrom(0, -1, 10_000_000, 129, 1.5)),
    stop_sequences: f(fc.array(fc.string({ maxLength: 8 }), { maxLength: 4 }), fc.array(fc.string(), { minLength: 17, maxLength: 18 })),
    temperature: f(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(-0.1, 1.01, 2)),
    top_p: f(fc.double({ min: 0, max: 1, noNaN: true })),
    top_k: f(fc.integer({ min: 0, max: 100 })),
    stream: f(fc.boolean()),
  };
  return bodyOf({ ...anthropicFields(model), ...sampling }, ["model", "messages", "max_tokens"]);
}

export function anthropicCountTokensBody(model: string) {
  return bodyOf(anthropicFields(model), ["model", "messages"]);
}

/** Responses input items: messages with text parts mostly, and every other kind a client may send, valid or not. */
const responsesPart = fc.oneof(
  { weight: 6, arbitrary: fc.record({ type: fc.constantFrom("input_text", "output_text"), text: shortString }) },
  { weight: 1, arbitrary: fc.constantFrom({ type: "input_image", image_url: "data:image/png;base64,iVBORw0KGgo=" }, { type: "input_file", file_id: "f" }, { type: "refusal", refusal: "no" }, { type: "input_text" }, {}) },
);
const responsesItem = fc.oneof(
  { weight: 6, arbitrary: fc.record({ type: fc.constantFrom("message", undefined), role: fc.constantFrom("user", "assistant", "system", "developer"), content: fc.oneof(shortString, fc.array(responsesPart, { maxLength: 3 })) }, { requiredKeys: ["role", "content"] }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      { type: "function_call", call_id: "c1", name: "f", arguments: '{"a":1}' },
      { type: "function_call", call_id: "c2", name: "spawn_agent", namespace: "multi_agent_v1", arguments: "{}" },
      { type: "function_call_output", call_id: "c1", output: "ok" },
      { type: "function_call_output", call_id: "c1", output: [{ type: "input_text", text: "ok" }] },
      { type: "reasoning", summary: [], content: [{ type: "reasoning_text", text: "hmm" }] },
      { type: "reasoning", summary: [{ type: "summary_text", text: "s" }], encrypted_content: "hearth1.aG1t.AAAA" },
      { type: "item_reference", id: "msg_1" },
      { type: "custom_tool_call", call_id: "c3", name: "apply_patch", input: "x" },
      { type: "custom_tool_call_output", call_id: "c3", output: "done" },
      { type: "message", role: "tool", content: "x" },
      { type: "function_call", name: "f" },
    ),
  },
);
const responsesTool = fc.oneof(
  { weight: 4, arbitrary: fc.record({ type: fc.constant("function"), name: fc.constantFrom("get_weather", "f", "lookup"), description: fc.string({ maxLength: 20 }), parameters: jsonSchema, strict: fc.boolean() }, { requiredKeys: ["type", "name"] }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      { type: "web_search", external_web_access: false },
      { type: "namespace", name: "multi_agent_v1", tools: [{ type: "function", name: "spawn_agent", parameters: { type: "object" } }] },
      { type: "namespace", name: "ns", tools: [{ type: "web_search" }] },
      { type: "custom", name: "apply_patch", format: { type: "grammar", syntax: "lark", definition: "start: /x/" } },
      { type: "custom", name: "digits", format: { type: "grammar", syntax: "regex", definition: "\\d+" } },
      { type: "custom", name: "free" },
      { type: "file_search", vector_store_ids: [] },
      { type: "function", name: "bad name!" },
    ),
  },
);

/** OpenAI Responses fields that shape the prompt (input_tokens takes them without sampling). */
function responsesFields(model: string) {
  return {
    model: modelField(model),
    input: f(fc.oneof(shortString, fc.array(responsesItem, { minLength: 1, maxLength: 4 })), fc.constantFrom([], {}, [null], [{}])),
    instructions: f(shortString, fc.constantFrom(5, [{}])),
    tools: f(fc.array(responsesTool, { minLength: 1, maxLength: 3 }), fc.constantFrom([], [{}], [{ type: "function" }])),
    tool_choice: f(fc.constantFrom("auto", "none"), fc.constantFrom("required", { type: "function", name: "f" }, { type: "custom", name: "free" }, { type: "function", name: "missing" }, { type: "web_search" }, { type: "allowed_tools", mode: "auto", tools: [] }, "always")),
    parallel_tool_calls: f(fc.boolean()),
    text: f(
      fc.oneof(fc.constantFrom({ format: { type: "text" } }, { format: { type: "json_object" } }, { verbosity: "low" }), jsonSchema.map(schema => ({ format: { type: "json_schema", name: "s", schema, strict: true } }))),
      fc.constantFrom({ format: { type: "xml" } }, { format: { type: "json_schema" } }, { format: 5 }),
    ),
    reasoning: f(fc.constantFrom({ effort: "low" }, { effort: "none" }, { summary: "auto" }, { effort: "high", summary: "detailed" }), fc.constantFrom({ effort: "max" }, { effort: 5 })),
    previous_response_id: f(fc.constant(null), fc.constantFrom("resp_nope", "", "../x")),
    truncation: f(fc.constantFrom("auto", "disabled"), fc.constantFrom("middle")),
  };
}

export function responsesBody(model: string) {
  const rest = {
    max_output_tokens: f(fc.integer({ min: 1, max: 16 }), fc.constantFrom(0, -1, 10_000_000, 1.5)),
    temperature: f(fc.double({ min: 0, max: 2, noNaN: true }), fc.constantFrom(-0.1, 2.01)),
    top_p: f(fc.double({ min: 0, max: 1, noNaN: true })),
    stream: f(fc.boolean()),
    store: f(fc.boolean()),
    include: f(fc.constantFrom(["reasoning.encrypted_content"], ["message.output_text.logprobs"], []), fc.constantFrom("reasoning", [5])),
    metadata: f(fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 })),
    prompt_cache_key: f(fc.string({ maxLength: 20 })),
    background: f(fc.constant(false), fc.constant(true)),
    client_metadata: f(fc.constant({ x: "y" })),
  };
  return bodyOf({ ...responsesFields(model), ...rest }, ["model", "input"]);
}

export function responsesInputTokensBody(model: string) {
  return bodyOf(responsesFields(model), ["model", "input"]);
}

/** Long token-id arrays (around the limits; the largest bodies are in `hugeBodies`). */
const longIds = fc.integer({ min: 60_000, max: 70_000 }).map(n => Array.from({ length: n }, (_, i) => (i * 7) % 512));

export function tokenizeBody(model: string) {
  const content = f(
    fc.oneof(nastyString, fc.array(fc.oneof(shortString, fc.integer({ min: 0, max: 511 })), { maxLength: 5 })),
    fc.oneof(fc.array(fc.oneof(nastyString, fc.integer({ min: -5, max: 10_000_000 })), { maxLength: 5 }), longIds),
  );
  return bodyOf({ model: modelField(model), content, add_special: f(fc.boolean()), parse_special: f(fc.boolean()), with_pieces: f(fc.boolean()) }, ["content"]);
}

export function detokenizeBody(model: string) {
  const tokens = f(fc.array(fc.integer({ min: 0, max: 511 }), { maxLength: 30 }), fc.oneof(fc.array(fc.integer({ min: -5, max: 10_000_000 }), { maxLength: 5 }), longIds));
  return bodyOf({ model: modelField(model), tokens }, ["tokens"]);
}

/** Bodies for an embedding model, and sometimes for a model that cannot embed. */
export function embeddingsBody([embedding, generative]: [string, string]) {
  const input = f(
    fc.oneof(shortString, fc.array(shortString, { minLength: 1, maxLength: 3 }), fc.array(fc.integer({ min: 0, max: 511 }), { minLength: 1, maxLength: 20 })),
    fc.oneof(nastyString, fc.constant([]), fc.constant([[]]), fc.array(fc.integer({ min: -10, max: 1_000_000 }), { minLength: 1, maxLength: 5 })),
  );
  const format = f(fc.constantFrom("float", "base64"), fc.constantFrom("", "FLOAT", "binary"));
  const model = f(fc.constant(embedding), fc.constantFrom(generative, "", "no-such-model"));
  return bodyOf({ model, input, encoding_format: format, dimensions: f(fc.constantFrom(64, 32), fc.constantFrom(0, -1, 1.5)) }, ["model", "input"]);
}

export function applyTemplateBody(model: string) {
  return bodyOf({ model: modelField(model), messages, add_generation_prompt: f(fc.boolean()), tokens: f(fc.boolean()) }, ["messages"]);
}

export function modelAdminBody(model: string) {
  return bodyOf({ model: modelField(model) }, ["model"]);
}

/**
 * Otherwise valid requests whose only variable is a schema and where it comes from (response_format,
 * json_object's schema, llama-server's json_schema, tools[].parameters with each tool_choice), so
 * that generated schemas reach the converter rather than an earlier 400.
 */
export function schemaRequest(model: string): fc.Arbitrary<{ path: string; body: unknown }> {
  const messages = [{ role: "user", content: "Answer in JSON." }];
  const chat = (extra: object) => ({ path: "/v1/chat/completions", body: { model, messages, max_tokens: 12, temperature: 0, ...extra } });
  return fc.oneof(
    jsonSchema.map(schema => chat({ response_format: { type: "json_schema", json_schema: { name: "s", schema } } })),
    jsonSchema.map(schema => chat({ response_format: { type: "json_object", schema } })),
    jsonSchema.map(schema => ({ path: "/v1/completions", body: { model, prompt: "Once upon a time", max_tokens: 12, json_schema: schema } })),
    fc.tuple(jsonSchema, fc.constantFrom("auto", "required", { type: "function", function: { name: "f" } })).map(([parameters, tool_choice]) =>
      chat({ tools: [{ type: "function", function: { name: "f", parameters } }, { type: "function", function: { name: "g", parameters: { type: "object" } } }], tool_choice }),
    ),
  );
}

/**
 * Bodies of many megabytes, to be sampled a few at a time (a run's worth at once would not fit in
 * memory): token arrays past every limit, texts around and far past /tokenize's limit, and
 * schemas past the converter's budget, each sent where it is read.
 */
export function hugeBodies(model: string): fc.Arbitrary<{ path: string; body: unknown }> {
  const ids = fc.oneof(fc.constant(3_000_000), fc.integer({ min: 262_145, max: 2_000_000 })).chain(n => fc.integer({ min: -1, max: 600 }).map(id => new Array(n).fill(id)));
  // Around /tokenize's text limit, in the runner's worst cases (special-token text, bytes outside
  // the vocabulary), and far past it.
  const text = fc.oneof(
    fc.integer({ min: 60_000, max: 70_000 }).chain(n => fc.constantFrom("ab ", "🦙", "中", "<s>", "\u0000x").map(unit => unit.repeat(Math.ceil(n / unit.length)))),
    fc.integer({ min: 1_000_000, max: 4_000_000 }).map(n => "a".repeat(n)),
  );
  const schema = fc.oneof(
    fc.integer({ min: 12_000, max: 60_000 }).map(schemas.wideAnyOf),
    fc.integer({ min: 20_000, max: 100_000 }).map(schemas.wideProperties),
    fc.integer({ min: 6_000, max: 60_000 }).map(schemas.allOfOfReferences),
    fc.integer({ min: 200_000, max: 1_000_000 }).map(n => ({ enum: Array.from({ length: n }, (_, i) => i) })),
    fc.integer({ min: 300_000, max: 4_000_000 }).map(n => ({ const: "x".repeat(n) })),
  );
  const chat = (extra: object) => ({ path: "/v1/chat/completions", body: { model, messages: [{ role: "user", content: "Hi" }], max_tokens: 4, ...extra } });
  return fc.oneof(
    ids.map(tokens => ({ path: "/detokenize", body: { model, tokens } })),
    ids.map(content => ({ path: "/tokenize", body: { model, content, with_pieces: true } })),
    text.chain(t => fc.boolean().map(withPieces => ({ path: "/tokenize", body: { model, content: t, with_pieces: withPieces } }))),
    schema.map(s => chat({ response_format: { type: "json_schema", json_schema: { name: "s", schema: s } } })),
    schema.map(s => chat({ tools: [{ type: "function", function: { name: "f", parameters: s } }], tool_choice: "required" })),
    schema.map(s => ({ path: "/v1/completions", body: { model, prompt: "x", max_tokens: 4, json_schema: s } })),
  );
}

/** JSON text for a body, sometimes with prototype-pollution keys spliced in or the text broken. */
export function wireText(body: fc.Arbitrary<unknown>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 8, arbitrary: body.map(b => JSON.stringify(b) ?? "null") },
    {
      weight: 1,
      arbitrary: fc.tuple(body, fc.constantFrom('"__proto__":{"isAdmin":true,"max_tokens":1}', '"constructor":{"prototype":{"x":1}}', '"__proto__":null', '"prototype":[]'))
        .map(([b, evil]) => {
          const text = JSON.stringify(b) ?? "null";
          return text.startsWith("{") && text.length > 2 ? `{${evil},${text.slice(1)}` : `{${evil}}`;
        }),
    },
    { weight: 1, arbitrary: fc.oneof(fc.string(), body.map(b => (JSON.stringify(b) ?? "").slice(0, -1)), fc.constantFrom("", "[]", "null", "1", '"x"', "{", '{"model":')) },
  );
}
