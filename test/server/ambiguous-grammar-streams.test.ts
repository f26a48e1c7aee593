// A grammar can pass the shim's work bound only after its stream began: the check at submit
// masks the first token only (lib/shim/hearth_grammar.h), and an anyOf of 3,000 constants is
// cheap there but needs more than the bound's work for the token after `"` (3,000 parse stacks,
// one a constant, each tested against every candidate). The client's schema is too ambiguous for
// this server, which says so: each dialect's stream ends with its own error form naming the
// ambiguity (with code invalid_grammar where the form carries a code), and nothing after it; the
// server goes on serving. The HTTP fuzz accepts exactly these endings (test/fuzz/stream-errors.ts).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { defaultModel } from "../helpers/paths.ts";
import { postJson, startHearth, type Running } from "../helpers/server.ts";
import { wideAnyOf } from "../grammar/hostile-schemas.ts";
import { tooAmbiguous } from "../fuzz/stream-errors.ts";

let server: Running;
const model = "stories260K";
const schema = wideAnyOf(3000);
const messages = [{ role: "user", content: "Pick one." }];

beforeAll(async () => {
  server = await startHearth(["--model", defaultModel, "--threads", "1", "--parallel", "1", "--ctx-size", "512"]);
});
afterAll(() => server?.stop());

/** The SSE frames of a 200 stream: [event name or undefined, parsed data]. */
async function sseFrames(path: string, body: object): Promise<Array<[string | undefined, any]>> {
  const res = await postJson(`${server.url}${path}`, { model, stream: true, ...body });
  expect(res.status).toBe(200); // the stream began: the bound was passed after the submit check
  return (await res.text()).split("\n\n").filter(f => f.trim()).map(frame => {
    const m = /^(?:event: (\S+)\n)?data: (.*)$/s.exec(frame)!;
    return [m[1], JSON.parse(m[2]!)];
  });
}

const openai = (frames: Array<[string | undefined, any]>) => {
  const [event, data] = frames.at(-1)!;
  expect(event).toBeUndefined();
  expect(data.error).toMatchObject({ type: "invalid_request_error", code: "invalid_grammar" });
  expect(tooAmbiguous(data.error.message)).toBe(true);
};

test("OpenAI chat completions: an error event, code invalid_grammar, no [DONE]", async () => {
  openai(await sseFrames("/v1/chat/completions", { messages, max_tokens: 16, temperature: 0, response_format: { type: "json_schema", json_schema: { name: "s", schema } } }));
});

test("OpenAI completions: the same", async () => {
  openai(await sseFrames("/v1/completions", { prompt: "Once", max_tokens: 16, temperature: 0, json_schema: schema }));
});

test("Anthropic messages, a forced tool: an error event in Anthropic's envelope, no message_stop", async () => {
  const frames = await sseFrames("/v1/messages", {
    messages,
    max_tokens: 96, // the call's opening (`<tool_call>\n{"name": "pick", "arguments": {"v": "`) comes first
    temperature: 0,
    tools: [{ name: "pick", input_schema: { type: "object", properties: { v: schema }, required: ["v"] } }],
    tool_choice: { type: "tool", name: "pick" },
  });
  const [event, data] = frames.at(-1)!;
  expect(event).toBe("error");
  expect(data).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
  expect(tooAmbiguous(data.error.message)).toBe(true);
  expect(frames.map(f => f[0])).not.toContain("message_stop");
});

test("Responses: a numbered error event, code invalid_grammar, after response.created", async () => {
  const frames = await sseFrames("/v1/responses", { input: "Pick one.", max_output_tokens: 16, temperature: 0, text: { format: { type: "json_schema", name: "s", schema } } });
  expect(frames[0]![0]).toBe("response.created");
  const [event, data] = frames.at(-1)!;
  expect(event).toBe("error");
  expect(data).toMatchObject({ type: "error", sequence_number: frames.length - 1, code: "invalid_grammar" });
  expect(tooAmbiguous(data.message)).toBe(true);
});

test("llama-server's /completion: an error event in its envelope (code 400)", async () => {
  const frames = await sseFrames("/completion", { prompt: "Once", n_predict: 16, temperature: 0, json_schema: schema });
  const [event, data] = frames.at(-1)!;
  expect(event).toBeUndefined();
  expect(data.error).toMatchObject({ code: 400, type: "invalid_request_error" });
  expect(tooAmbiguous(data.error.message)).toBe(true);
});

test.each(["/api/generate", "/api/chat"])("Ollama %s (streaming by default): a last line {\"error\": …}", async path => {
  const body = path === "/api/generate" ? { prompt: "Once" } : { messages };
  const res = await postJson(`${server.url}${path}`, { model, ...body, format: schema, options: { temperature: 0, num_predict: 16 } });
  expect(res.status).toBe(200);
  const last = JSON.parse((await res.text()).trimEnd().split("\n").at(-1)!);
  expect(Object.keys(last)).toEqual(["error"]);
  expect(tooAmbiguous(last.error)).toBe(true);
});

test("the server goes on serving", async () => {
  const res = await postJson(`${server.url}/v1/completions`, { model, prompt: "Once", max_tokens: 4, temperature: 0 });
  expect(res.status).toBe(200);
});
