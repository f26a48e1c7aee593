// Same conversation, same greedy answer (CONVENTIONS.md, "Client dialects"): at temperature 0 the
// text /v1/responses answers equals /v1/chat/completions' on the same server, with and without
// instructions, streamed and not — on ChatML (stories260K) and on Qwen2.5's and Llama 3.1's real
// templates (random weights).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { basename } from "node:path";
import { generatedModel } from "../helpers/models.ts";
import { defaultModel } from "../helpers/paths.ts";
import { streamEvents } from "../helpers/responses-app.ts";
import { postJson, startHearth, type Running } from "../helpers/server.ts";

let server: Running;
const paths = await Promise.all([generatedModel("family-qwen"), generatedModel("family-llama3")]);
const models = ["stories260K", ...paths.map(p => basename(p, ".gguf"))];

beforeAll(async () => {
  server = await startHearth(["--model", defaultModel, ...paths.flatMap(p => ["--model", p]), "--threads", "1", "--parallel", "1", "--ctx-size", "2048"]);
}, 120_000);
afterAll(() => server?.stop());

type Turn = { role: "user" | "assistant"; content: string };
const SYSTEM = "You are a storyteller.";
const conversations: Array<[string, string | null, Turn[]]> = [
  ["one user turn", null, [{ role: "user", content: "Once upon a time" }]],
  ["with instructions", SYSTEM, [{ role: "user", content: "Tell me a story" }]],
  ["a conversation", SYSTEM, [{ role: "user", content: "Hi" }, { role: "assistant", content: "Hello!" }, { role: "user", content: "A story?" }]],
];

async function openai(model: string, system: string | null, turns: Turn[]): Promise<string> {
  const messages = [...(system ? [{ role: "system", content: system }] : []), ...turns];
  const res = await postJson(`${server.url}/v1/chat/completions`, { model, messages, max_tokens: 20, temperature: 0 });
  expect(res.status).toBe(200);
  return ((await res.json()) as any).choices[0].message.content;
}

async function responses(model: string, system: string | null, turns: Turn[], stream: boolean): Promise<string> {
  const res = await postJson(`${server.url}/v1/responses`, { model, ...(system ? { instructions: system } : {}), input: turns, max_output_tokens: 20, temperature: 0, stream });
  expect(res.status).toBe(200);
  if (!stream) return ((await res.json()) as any).output.filter((o: any) => o.type === "message").flatMap((o: any) => o.content.map((c: any) => c.text)).join("");
  return streamEvents(await res.text())
    .filter(e => e.type === "response.output_text.delta")
    .map(e => e.delta)
    .join("");
}

describe.each(models.map(m => [m]))("%s", model => {
  // stories260K holds 128 tokens, and its vocabulary spells ChatML's markup letter by letter.
  const fitting = model === "stories260K" ? conversations.slice(0, 2) : conversations;
  test.each(fitting)("%s", async (_, system, turns) => {
    const reference = await openai(model, system, turns);
    expect(reference.length).toBeGreaterThan(0);
    for (const stream of [false, true]) expect(await responses(model, system, turns, stream)).toBe(reference);
  });
});
