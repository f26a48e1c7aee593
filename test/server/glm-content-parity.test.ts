// GLM-4.5+ answers (a <think> template): `content` and `reasoning_content` equal llama-server's
// where the answer starts with blanks, with thinking on (llama-server drops the leading ASCII
// whitespace) and off (the answer is content as written). A grammar makes both servers write the
// same text on the same random-weight model; Hearth's streamed answer joins to its whole one.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { basename } from "node:path";
import { generatedModel } from "../helpers/models.ts";
import { postJson, readSse, startHearth, startLlamaServer, type Running } from "../helpers/server.ts";

let hearth: Running;
let reference: Running;
let model: string;
beforeAll(async () => {
  const path = await generatedModel("family-glm");
  model = basename(path, ".gguf");
  [hearth, reference] = await Promise.all([
    startHearth(["--model", path, "--threads", "1", "--parallel", "1", "--ctx-size", "1024"]),
    startLlamaServer(["-m", path, "--jinja", "-t", "1", "-np", "1", "-c", "1024"]),
  ]);
}, 90_000);
afterAll(async () => {
  await Promise.all([hearth?.stop(), reference?.stop()]);
});

/** A GBNF grammar whose only sentence is `text`. */
const only = (text: string) => `root ::= ${JSON.stringify(text)}`;
const answer = (m: any) => ({ content: m.content ?? "", reasoning: m.reasoning_content ?? "" });

// With thinking off, an answer that starts with a newline is left out: llama-server takes one
// newline after the prompt's </think> there (the tag it derives from the template is "</think>\n").
const cases: Array<[boolean, string]> = [
  ...[" depuis le", "\n\n depuis", "\t x", "   ", "\n<think>r</think>\nb", "<think>r1</think>\nanswer"].map(t => [true, t] as [boolean, string]),
  ...[" depuis le", "\t x", "   ", "<think>r1</think>\nanswer"].map(t => [false, t] as [boolean, string]),
];

describe("content and reasoning_content equal llama-server's", () => {
  test.each(cases)("enable_thinking %p, the model writes %j", async (thinking, text) => {
    const request = { model, messages: [{ role: "user", content: "Bonjour" }], max_tokens: 24, temperature: 0, grammar: only(text), chat_template_kwargs: { enable_thinking: thinking } };
    const [ours, theirs]: any[] = await Promise.all([hearth, reference].map(s => postJson(`${s.url}/v1/chat/completions`, request).then(r => r.json())));
    expect(answer(ours.choices[0].message)).toEqual(answer(theirs.choices[0].message));
    const events = await readSse(await postJson(`${hearth.url}/v1/chat/completions`, { ...request, stream: true }));
    const joined = { content: "", reasoning: "" };
    for (const e of events.filter(e => e !== "[DONE]")) {
      const delta = JSON.parse(e).choices[0]?.delta ?? {};
      joined.content += delta.content ?? "";
      joined.reasoning += delta.reasoning_content ?? "";
    }
    expect(joined).toEqual(answer(ours.choices[0].message));
  });
});
