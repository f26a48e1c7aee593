// Fidelity of llama-server's native API: greedy /completion and /infill from Hearth give exactly
// llama-server's tokens (and top alternatives), on the same random-weight FIM model and on
// stories260K, both servers built from the same llama.cpp source and run here.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { fimModel } from "../helpers/native-models.ts";
import { defaultModel } from "../helpers/paths.ts";
import { postJson, readSse, startHearth, startLlamaServer, type Running } from "../helpers/server.ts";

let fim: { hearth: Running; reference: Running };
let stories: { hearth: Running; reference: Running };
// One slot each: llama-server's slot then has the whole context, as Hearth's requests do.
const flags = ["-c", "2048", "-np", "1", "-b", "512", "-t", "1"];

beforeAll(async () => {
  const fimPath = await fimModel();
  const [a, b, c, d] = await Promise.all([
    startHearth(["--model", fimPath, ...flags]),
    startLlamaServer(["-m", fimPath, ...flags]),
    startHearth(["--model", defaultModel, ...flags]),
    startLlamaServer(["-m", defaultModel, ...flags]),
  ]);
  fim = { hearth: a, reference: b };
  stories = { hearth: c, reference: d };
});
afterAll(async () => {
  await Promise.all([fim?.hearth.stop(), fim?.reference.stop(), stories?.hearth.stop(), stories?.reference.stop()]);
});

async function both(pair: { hearth: Running; reference: Running }, path: string, body: object): Promise<[any, any]> {
  const [a, b] = await Promise.all([postJson(`${pair.hearth.url}${path}`, body), postJson(`${pair.reference.url}${path}`, body)]);
  expect(a.status).toBe(200);
  expect(b.status).toBe(200);
  return [await a.json(), await b.json()];
}

/** Same tokens, text, counts and stop; the same top alternatives, log-probabilities within float noise. */
function expectSame(ours: any, theirs: any) {
  expect(ours.tokens.length).toBeGreaterThan(0);
  expect(ours.tokens).toEqual(theirs.tokens);
  expect(ours.content).toBe(theirs.content);
  expect(ours.tokens_evaluated).toBe(theirs.tokens_evaluated);
  expect(ours.tokens_predicted).toBe(theirs.tokens_predicted);
  expect(ours.stop_type).toBe(theirs.stop_type);
  const probs = (r: any) => (r.completion_probabilities ?? []).map((t: any) => t.top_logprobs.map((a: any) => a.id));
  expect(probs(ours)).toEqual(probs(theirs));
  ours.completion_probabilities?.forEach((t: any, i: number) => expect(t.logprob).toBeCloseTo(theirs.completion_probabilities[i].logprob, 3));
}

const greedy = { temperature: 0, return_tokens: true, n_probs: 3 };

test.each([
  ["a string", "def add(a, b):"],
  ["token ids", [589, 1128, 26, 84, 30, 323, 711]],
  ["text and ids mixed", [589, "add(a, b):", 284, " return"]],
])("/completion with %s as the prompt: greedy tokens equal llama-server's", async (_, prompt) => {
  const [ours, theirs] = await both(fim, "/completion", { prompt, n_predict: 16, ...greedy });
  expectSame(ours, theirs);
});

test("/completion on stories260K (SentencePiece, BOS added): same tokens, and the same prompt echo", async () => {
  for (const prompt of ["Once upon a time", ["Tom had", 263, 300]]) {
    const [ours, theirs] = await both(stories, "/completion", { prompt, n_predict: 24, ...greedy });
    expectSame(ours, theirs);
    expect(ours.prompt).toBe(theirs.prompt);
  }
});

test("a streamed /completion sends llama-server's tokens, chunk by chunk, and the same final stop", async () => {
  const body = { prompt: "int main() {", n_predict: 12, temperature: 0, stream: true };
  const [a, b] = await Promise.all([postJson(`${fim.hearth.url}/completion`, body), postJson(`${fim.reference.url}/completion`, body)]);
  const [ours, theirs] = (await Promise.all([readSse(a), readSse(b)])).map(events => events.map(e => JSON.parse(e)));
  const tokens = (chunks: any[]) => chunks.filter(c => !c.stop).flatMap(c => c.tokens);
  expect(tokens(ours!)).toEqual(tokens(theirs!));
  const last = (chunks: any[]) => chunks.at(-1);
  expect(last(ours!).stop).toBe(true);
  expect(last(ours!).stop_type).toBe(last(theirs!).stop_type);
  expect(last(ours!).tokens_predicted).toBe(last(theirs!).tokens_predicted);
});

const prefix = "#include <stdio.h>\n\nint twice(int x) {\n    return ";
const suffix = ";\n}\n\nint main(void) {\n    printf(\"%d\\n\", twice(21));\n}\n";

test.each([
  ["prefix and suffix", { input_prefix: prefix, input_suffix: suffix }],
  ["text typed at the cursor", { input_prefix: prefix, input_suffix: suffix, prompt: "x *" }],
  ["other files as context", {
    input_prefix: prefix,
    input_suffix: suffix,
    input_extra: [{ filename: "twice.h", text: "int twice(int x);\n" }, { text: "/* no name: llama-server calls it tmp */\n" }],
  }],
  // Longer than a batch allows: the prefix keeps its last 3/4 batch, the suffix its first quarter.
  ["a prefix and suffix cut to fit the batch", { input_prefix: "int a;\n".repeat(200) + prefix, input_suffix: suffix + "int b;\n".repeat(200) }],
])("/infill with %s: the same FIM prompt and greedy tokens as llama-server", async (_, fields) => {
  const [ours, theirs] = await both(fim, "/infill", { ...fields, n_predict: 16, ...greedy });
  expectSame(ours, theirs);
  expect(ours.prompt).toBe(theirs.prompt);
});

test("/infill on a model without FIM tokens is a 400 in llama-server's envelope", async () => {
  const res = await postJson(`${stories.hearth.url}/infill`, { input_prefix: "a", input_suffix: "b" });
  expect(res.status).toBe(400);
  const body: any = await res.json();
  expect(body.error.code).toBe(400);
  expect(body.error.type).toBe("invalid_request_error");
  expect(body.error.message).toContain("fill-in-the-middle");
});
