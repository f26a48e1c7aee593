// fast-check generators for llama-server's native bodies (/completion, /infill, /rerank,
// /embedding: valid, near-valid, hostile per field, from the shared helpers in arbitraries.ts), and
// the judge of its answers: 200, or 4xx in its envelope {"error":{"code","message","type"}}; a
// native stream is data-only JSON chunks ending with a `stop: true` chunk, never an error event but
// a grammar found too ambiguous on the way (stream-errors.ts).
import fc from "fast-check";
import { bodyOf, f, jsonSchema, modelField, shortString } from "./arbitraries.ts";
import { tooAmbiguous } from "./stream-errors.ts";

const ids = (max: number) => fc.array(fc.integer({ min: 0, max }), { minLength: 1, maxLength: 20 });
const badIds = fc.array(fc.integer({ min: -10, max: 1_000_000 }), { minLength: 1, maxLength: 5 });

/** A prompt in each of llama-server's forms: text, ids, text and ids mixed, {prompt_string}, a list of those. */
const prompt = f(
  fc.oneof(
    shortString,
    ids(511),
    fc.array(fc.oneof(shortString, fc.integer({ min: 0, max: 511 })), { minLength: 1, maxLength: 6 }),
    fc.record({ prompt_string: shortString }),
    fc.array(fc.oneof(shortString, ids(511), fc.record({ prompt_string: shortString })), { minLength: 1, maxLength: 3 }),
  ),
  fc.oneof(
    badIds,
    fc.constant([]),
    fc.constant([[]]),
    fc.constant({ prompt_string: "x", multimodal_data: ["AAAA"] }),
    fc.constant({ multimodal_data: [] }),
    fc.array(fc.constant({}), { minLength: 1, maxLength: 2 }),
  ),
);

const native = {
  n_predict: f(fc.integer({ min: -1, max: 16 }), fc.constantFrom(-2, 0, 10_000_000, 1.5)),
  temperature: f(fc.double({ min: 0, max: 2, noNaN: true }), fc.constantFrom(-1, 101, 1e9)),
  top_k: f(fc.integer({ min: 0, max: 100 })),
  top_p: f(fc.double({ min: 0, max: 1, noNaN: true })),
  min_p: f(fc.double({ min: 0, max: 1, noNaN: true })),
  repeat_penalty: f(fc.double({ min: 0.5, max: 2, noNaN: true }), fc.constantFrom(0, -1)),
  repeat_last_n: f(fc.integer({ min: -1, max: 128 }), fc.constantFrom(-2, 10_000_000)),
  seed: f(fc.oneof(fc.integer({ min: -1, max: 1000 }), fc.constant(4294967295)), fc.constantFrom(-2, 2 ** 40)),
  stop: f(fc.array(fc.string({ maxLength: 8 }), { maxLength: 4 }), fc.constantFrom("x", Array(20).fill("x"))),
  stream: f(fc.boolean()),
  n_probs: f(fc.integer({ min: 0, max: 20 }), fc.constantFrom(-1, 21, 1.5)),
  post_sampling_probs: f(fc.boolean()),
  return_tokens: f(fc.boolean()),
  cache_prompt: f(fc.boolean()),
  id_slot: f(fc.integer({ min: -1, max: 8 })),
  ignore_eos: f(fc.boolean()),
  samplers: f(
    fc.oneof(fc.subarray(["penalties", "dry", "top_n_sigma", "top_k", "typ_p", "top_p", "min_p", "xtc", "temperature"]), fc.constantFrom("kpmt", "edkypmxt")),
    fc.constantFrom(["temperature", "top_k"], ["nope"], "z", [1]),
  ),
  logit_bias: f(
    fc.oneof(
      fc.array(fc.tuple(fc.oneof(fc.integer({ min: 0, max: 511 }), fc.constantFrom(" the ", "Once")), fc.oneof(fc.double({ min: -100, max: 100, noNaN: true }), fc.constant(false))), { maxLength: 4 }),
      fc.dictionary(fc.oneof(fc.integer({ min: 0, max: 511 }).map(String), fc.constantFrom(" a ", "Tom")), fc.double({ min: -100, max: 100, noNaN: true }), { maxKeys: 4 }),
    ),
    fc.constantFrom([[1]], [[1, 2, 3]], { "999999": 1 }, [[999999, 1]], [["x", "y"]]),
  ),
  response_fields: f(fc.array(fc.constantFrom("content", "tokens", "generation_settings/n_predict", "timings/prompt_n", "nope/x"), { maxLength: 3 })),
  typical_p: f(fc.constant(1), fc.constantFrom(0.5)),
  mirostat: f(fc.constant(0), fc.constantFrom(1, 2)),
  grammar: f(fc.constantFrom('root ::= "yes" | "no"', 'root ::= [a-z]+'), fc.constantFrom("root ::=", "x ::= y", "")),
  json_schema: f(jsonSchema),
};

export function completionBody(model: string) {
  return bodyOf({ model: modelField(model), prompt, ...native }, ["prompt"]);
}

const fimText = f(fc.oneof(shortString, fc.array(fc.oneof(shortString, fc.integer({ min: 0, max: 49151 })), { maxLength: 5 })), fc.oneof(badIds, fc.constant(null)));
const extra = f(
  fc.array(fc.record({ text: shortString, filename: shortString }, { requiredKeys: ["text"] }), { maxLength: 3 }),
  fc.constantFrom([{}], [{ filename: "ok" }], [{ filename: 123, text: "x" }], [{ text: 456 }], "x", {}),
);

/** Bodies for a FIM model, and sometimes for one without FIM tokens. */
export function infillBody([fim, other]: [string, string]) {
  const model = f(fc.constant(fim), fc.constantFrom(other, "", "no-such-model"));
  return bodyOf({ model, input_prefix: fimText, input_suffix: fimText, input_extra: extra, prompt: f(shortString, fc.constant(5)), ...native }, ["input_prefix", "input_suffix"]);
}

const documents = f(
  fc.array(fc.oneof(shortString, fc.record({ text: shortString })), { minLength: 1, maxLength: 4 }),
  fc.constantFrom([], null, 123, [1, 2, 3], [{}], [null]),
);

/** Bodies for a reranker, and sometimes for a model that is not one. */
export function rerankBody([reranker, other]: [string, string]) {
  const model = f(fc.constant(reranker), fc.constantFrom(other, "", "no-such-model"));
  return bodyOf(
    { model, query: f(shortString, fc.constantFrom(null, 5)), documents, texts: documents, top_n: f(fc.integer({ min: 0, max: 5 }), fc.constantFrom(-1, 1.5)), return_documents: f(fc.boolean()), return_text: f(fc.boolean()) },
    ["query"],
  );
}

/** Native embedding bodies for an embedding model, and sometimes for one that cannot embed. */
export function embeddingBody([embedding, other]: [string, string]) {
  const model = f(fc.constant(embedding), fc.constantFrom(other, "", "no-such-model"));
  const input = f(
    fc.oneof(shortString, ids(30000), fc.array(fc.oneof(shortString, fc.integer({ min: 0, max: 30000 })), { minLength: 1, maxLength: 4 }), fc.array(shortString, { minLength: 1, maxLength: 3 })),
    fc.oneof(badIds, fc.constant([]), fc.constant([[]])),
  );
  return bodyOf({ model, content: input, input, embd_normalize: f(fc.integer({ min: -1, max: 4 }), fc.constantFrom(-2, 65, 1.5)) }, []);
}

/** GET /props and /slots queries. */
export function nativeQuery(model: string): fc.Arbitrary<Record<string, string>> {
  const value = fc.oneof(fc.constantFrom(model, "", "no-such-model", "1", "0"), fc.string({ maxLength: 12 }));
  return fc.dictionary(fc.constantFrom("model", "fail_on_no_slot", "x"), value, { maxKeys: 3 });
}

/** What is wrong with a native answer, or null when it is acceptable. */
export function judgeNative(status: number, type: string, text: string): string | null {
  if (type.startsWith("text/event-stream")) {
    const frames = text.split("\n\n").filter(f => f.trim());
    let last: any = null;
    for (const [i, frame] of frames.entries()) {
      if (!frame.startsWith("data: {")) return `a frame that is not a JSON data event: ${frame.slice(0, 200)}`;
      last = JSON.parse(frame.slice(6));
      // Only a grammar found too ambiguous on the way may end a stream that began (stream-errors.ts).
      if (last.error) return i === frames.length - 1 && last.error.code === 400 && tooAmbiguous(last.error.message) ? null : `stream error event: ${JSON.stringify(last.error)}`;
    }
    return last?.stop === true ? null : "stream did not end with a stop: true chunk";
  }
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    return `body is not JSON: ${text.slice(0, 200)}`;
  }
  if (status === 200) return null;
  const e = json?.error;
  if (typeof e?.message !== "string" || e.code !== status || typeof e.type !== "string") return `not llama-server's error envelope: ${text.slice(0, 300)}`;
  if (/\n\s+at |node_modules|\.ts:\d+/.test(e.message)) return `internal detail leaked: ${e.message.slice(0, 300)}`;
  return null;
}
