// Same conversation, same greedy answer (CONVENTIONS.md, "Client dialects"): at temperature 0 the
// text /v1/messages answers equals /v1/chat/completions' on the same server, with and without a
// system prompt, streamed and not — on ChatML (stories260K) and on Qwen2.5's and Llama 3.1's real
// templates (random weights).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { basename } from "node:path";
import { generatedModel } from "../helpers/models.ts";
import { defaultModel } from "../helpers/paths.ts";
import { sseEvents } from "../helpers/anthropic-app.ts";
import { postJson, readSse, startHearth, type Running } from "../helpers/server.ts";

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
  ["with a system prompt", SYSTEM, [{ role: "user", content: "Tell me a story" }]],
  ["a conversation", SYSTEM, [{ role: "user", content: "Hi" }, { role: "assistant", content: "Hello!" }, { role: "user", content: "A story?" }]],
];

async function openai(model: string, system: string | null, turns: Turn[], stream: boolean): Promise<string> {
  const messages = [...(system ? [{ role: "system", content: system }] : []), ...turns];
  const res = await postJson(`${server.url}/v1/chat/completions`, { model, messages, max_tokens: 20, temperature: 0, stream });
  expect(res.status).toBe(200);
  if (!stream) return ((await res.json()) as any).choices[0].message.content;
  return (await readSse(res)).filter(d => d !== "[DONE]").map(d => JSON.parse(d).choices[0]?.delta?.content ?? "").join("");
}

async function anthropic(model: string, system: string | null, turns: Turn[], stream: boolean): Promise<string> {
  const res = await postJson(`${server.url}/v1/messages`, { model, ...(system ? { system } : {}), messages: turns, max_tokens: 20, temperature: 0, stream });
  expect(res.status).toBe(200);
  if (!stream) return ((await res.json()) as any).content.filter((b: any) => b.type === "text").map((b: any) => b.text).join("");
  return sseEvents(await res.text()).map(([, d]) => (d.delta?.type === "text_delta" ? d.delta.text : "")).join("");
}

describe.each(models.map(m => [m]))("%s", model => {
  // stories260K holds 128 tokens, and its vocabulary spells ChatML's markup letter by letter.
  const fitting = model === "stories260K" ? conversations.slice(0, 2) : conversations;
  test.each(fitting)("%s", async (_, system, turns) => {
    const reference = await openai(model, system, turns, false);
    expect(reference.length).toBeGreaterThan(0);
    for (const stream of [false, true]) {
      expect(await anthropic(model, system, turns, stream)).toBe(reference);
      expect(await openai(model, system, turns, stream)).toBe(reference);
    }
  });
});
