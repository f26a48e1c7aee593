// fast-check generators for Ollama's /api bodies (valid, near-valid, hostile per field), built from
// the shared field helpers in arbitraries.ts. Names stay on the fuzz server's own models or names
// nothing matches; pulls name nothing Hearth can fetch (no network in a fuzz run).
import fc from "fast-check";
import { bodyOf, f, jsonSchema, modelField, shortString } from "./arbitraries.ts";

/** A model name as Ollama clients write it: the id, `ID:latest`, or a name nothing serves. */
const name = (model: string) => f(fc.constantFrom(model, `${model}:latest`), fc.constantFrom("", "no-such-model", `${model}:7b`, ":latest", "../../etc/passwd", `${model}\u0000`));

const options = f(
  fc.record(
    {
      num_ctx: fc.integer({ min: 96, max: 128 }), // stories260K holds 128 (more is a 400: in the edge values)
      num_predict: fc.integer({ min: -2, max: 16 }),
      temperature: fc.double({ min: 0, max: 2, noNaN: true }),
      top_k: fc.integer({ min: 0, max: 100 }),
      top_p: fc.double({ min: 0, max: 1, noNaN: true }),
      min_p: fc.double({ min: 0, max: 1, noNaN: true }),
      repeat_penalty: fc.double({ min: 0.5, max: 2, noNaN: true }),
      repeat_last_n: fc.integer({ min: -1, max: 128 }),
      presence_penalty: fc.double({ min: -2, max: 2, noNaN: true }),
      frequency_penalty: fc.double({ min: -2, max: 2, noNaN: true }),
      seed: fc.integer(),
      stop: fc.array(fc.string({ maxLength: 8 }), { maxLength: 4 }),
      num_gpu: fc.integer(),
      mirostat: fc.integer({ min: 0, max: 2 }),
    },
    { requiredKeys: [] },
  ),
  fc.constantFrom({ num_ctx: 0 }, { num_ctx: 10_000_000 }, { num_predict: 1e12 }, { stop: "x" }, { stop: Array(20).fill("x") }, { repeat_last_n: -2 }, { temperature: "hot" }),
);

const format = f(fc.oneof(fc.constantFrom("json", "", null), jsonSchema), fc.constantFrom("xml", "JSON", [], 1, { type: "nope" }));
const think = f(fc.constantFrom(true, false, "low", "medium", "high", null), fc.constantFrom("max", 1, "HIGH"));
const keepAlive = f(fc.constantFrom("5m", "1h", "30s", -1, "-1", 300), fc.constantFrom("soon", "5 minutes", "1e400", 1e308, "-", "m5"));
const stream = f(fc.boolean());

const toolCall = fc.record({ function: fc.record({ name: fc.constantFrom("get_weather", "f"), arguments: fc.oneof(fc.constant({ city: "Oslo" }), fc.constant("{}"), fc.dictionary(fc.string({ maxLength: 5 }), shortString, { maxKeys: 2 })) }) });
const messageSpec = {
  role: f(fc.constantFrom("system", "user", "assistant", "tool"), fc.constantFrom("developer", "", "root")),
  content: f(shortString, fc.constantFrom(null, 3, [{ type: "text", text: "x" }])),
  thinking: f(shortString),
  images: f(fc.constant([]), fc.constantFrom(["aGk="], [""], "x")),
  tool_calls: f(fc.array(toolCall, { maxLength: 2 }), fc.constantFrom([{}], [{ function: {} }], [{ function: { name: "" } }])),
  tool_name: f(fc.constantFrom("get_weather", "f")),
};
const message = fc.oneof(
  { weight: 8, arbitrary: fc.record({ role: messageSpec.role.valid, content: messageSpec.content.valid, tool_calls: messageSpec.tool_calls.valid, tool_name: messageSpec.tool_name.valid }, { requiredKeys: ["role"] }) },
  { weight: 2, arbitrary: bodyOf(messageSpec, ["role"]) },
);
const tool = fc.record({ type: fc.constant("function"), function: fc.record({ name: fc.constantFrom("get_weather", "lookup"), description: shortString, parameters: fc.oneof(fc.constant({ type: "object", properties: { city: { type: "string" } }, required: ["city"] }), jsonSchema) }) });

export function ollamaChatBody(model: string) {
  return bodyOf(
    {
      model: name(model),
      messages: f(fc.array(message, { maxLength: 4 }), fc.constantFrom({}, "hi", [null])),
      tools: f(fc.array(tool, { minLength: 1, maxLength: 2 }), fc.constantFrom([{ function: {} }], [{ type: "code_interpreter", function: { name: "x" } }])),
      format,
      options,
      stream,
      keep_alive: keepAlive,
      think,
      temperature: f(fc.double({ min: 0, max: 2, noNaN: true })),
      max_output_tokens: f(fc.integer({ min: 1, max: 16 }), fc.constantFrom(0, -1, 1.5)),
    },
    ["model", "messages"],
  );
}

export function ollamaGenerateBody(model: string) {
  return bodyOf(
    {
      model: name(model),
      prompt: f(shortString),
      system: f(shortString),
      suffix: f(fc.constantFrom("", "}\n"), shortString),
      raw: f(fc.boolean()),
      images: f(fc.constant([]), fc.constantFrom(["aGk="], "x")),
      template: f(fc.constant(""), fc.constantFrom("{{ .Prompt }}")),
      context: f(fc.constant([]), fc.constantFrom([1, 2, 3], [-1], ["a"])),
      format,
      options,
      stream,
      keep_alive: keepAlive,
      think,
    },
    ["model", "prompt"],
  );
}

export function ollamaEmbedBody([embedding, generative]: [string, string]) {
  return bodyOf(
    {
      model: f(fc.constantFrom(embedding, `${embedding}:latest`), fc.constantFrom(generative, "", "no-such-model")),
      input: f(fc.oneof(shortString, fc.array(shortString, { minLength: 1, maxLength: 4 })), fc.constantFrom([], [1, 2], "x".repeat(20_000))),
      truncate: f(fc.boolean()),
      dimensions: f(fc.integer({ min: 1, max: 64 }), fc.constantFrom(0, -1, 1e9)),
      keep_alive: keepAlive,
    },
    ["model", "input"],
  );
}

export function ollamaEmbeddingsBody([embedding, generative]: [string, string]) {
  return bodyOf({ model: f(fc.constant(embedding), fc.constantFrom(generative, "nope")), prompt: f(shortString) }, ["model", "prompt"]);
}

/** show, delete: a name (delete may only refuse: the fuzz server serves no file under its HEARTH_HOME). */
export function ollamaNameBody(model: string) {
  return bodyOf({ model: name(model), name: name(model), verbose: f(fc.boolean()) }, []);
}

/** copy: names to and from (aliases land in the fuzz server's own HEARTH_HOME). */
export function ollamaCopyBody(model: string) {
  return bodyOf({ source: name(model), destination: f(fc.string({ minLength: 1, maxLength: 20 }), fc.constantFrom("", "*", model, "a*b")) }, ["source", "destination"]);
}

/** pull: names Hearth refuses before any download (Ollama library names, bad shapes). */
export function ollamaPullBody() {
  return bodyOf({ model: f(fc.constantFrom("llama3.2", "qwen2.5:0.5b", "library/x", "hf.co/x"), fc.string({ maxLength: 30 })), stream: f(fc.boolean()), insecure: f(fc.boolean()) }, ["model"]);
}
