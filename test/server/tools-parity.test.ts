// Parity with llama.cpp's llama-server --jinja on the prompt side of tool calling: the same
// conversation (tools offered, an assistant call with its arguments, the tool's result) renders to
// the same prompt text on both, per family. (llama-server v0.5.0 does not force a call on these
// random-weight models with tool_choice "required": its grammar lets text come first, and the
// model writes text until max_tokens; so call-for-call greedy parity cannot be shown here.)
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { basename } from "node:path";
import { generatedModel, type FamilyModel } from "../helpers/models.ts";
import { postJson, startHearth, startLlamaServer, type Running } from "../helpers/server.ts";

const families: FamilyModel[] = ["family-qwen", "family-llama3", "family-mistral", "family-glm"];
const tools = [
  { type: "function", function: { name: "get_weather", description: "Weather for a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } },
];
const conversation = [
  { role: "user", content: "Weather in Paris?" },
  { role: "assistant", content: "", tool_calls: [{ id: "abcDEF123", type: "function", function: { name: "get_weather", arguments: '{"city": "Paris"}' } }] },
  { role: "tool", tool_call_id: "abcDEF123", content: '{"temp_c": 18}' },
];

describe.each(families)("%s", family => {
  let hearth: Running;
  let reference: Running;
  let model: string;
  beforeAll(async () => {
    const path = await generatedModel(family);
    model = basename(path, ".gguf");
    [hearth, reference] = await Promise.all([
      startHearth(["--model", path, "--threads", "1", "--parallel", "1", "--ctx-size", "2048"]),
      startLlamaServer(["-m", path, "--jinja", "-t", "1", "-np", "1", "-c", "2048"]),
    ]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([hearth?.stop(), reference?.stop()]);
  });

  test("tools and a tool-call turn render to llama-server's prompt", async () => {
    const body = { model, messages: conversation, tools };
    const [ours, theirs]: any[] = await Promise.all([hearth, reference].map(s => postJson(`${s.url}/apply-template`, body).then(r => r.json())));
    expect(typeof theirs.prompt).toBe("string");
    expect(theirs.prompt).toContain("get_weather");
    // The engine drops the template's BOS (it adds it itself); compare without it.
    const bos = ["<s>", "<|begin_of_text|>"].find(b => theirs.prompt.startsWith(b) && !ours.prompt.startsWith(b)) ?? "";
    expect(ours.prompt).toBe(theirs.prompt.slice(bos.length));
  });
});
