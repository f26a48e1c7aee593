// An Anthropic SDK client whose fetch goes straight into a Hearth app over a fake engine (no
// socket), for the Anthropic dialect's model-free tests.
import Anthropic from "@anthropic-ai/sdk";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp, type AppOptions } from "../../src/api/app.ts";
import { FakeEngine, FakeModels } from "./fake-engine.ts";

// Thinking signatures keep their key under $HEARTH_HOME: a fresh one per test process.
process.env.HEARTH_HOME = mkdtempSync(join(tmpdir(), "hearth-anthropic-"));

export function anthropicApp(engine = new FakeEngine(), chatTemplate: string | null = null, options: Partial<AppOptions> = {}) {
  const app = createApp(new FakeModels(engine, "fake-model", undefined, chatTemplate), { apiKeys: [], cors: null, maxBodyBytes: 1 << 20, ...options });
  const fetch = async (url: RequestInfo | URL, init?: RequestInit) => app.handle(new Request(url, init));
  const client = new Anthropic({ baseURL: "http://localhost", apiKey: options.apiKeys?.[0] ?? "unused", maxRetries: 0, fetch });
  /** A raw POST; the body as given (a string is sent as is). */
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    app.handle(new Request(`http://localhost${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) }));
  return { app, client, engine, post };
}

/** The text of the prompt a fake engine was sent (Anthropic requests send token ids: the fake's are char codes). */
export function promptText(engine: FakeEngine, i = 0): string {
  const prompt = engine.requests[i]!.prompt;
  return typeof prompt[0] === "number" ? String.fromCharCode(...(prompt as number[])) : (prompt as Array<{ text: string }>).map(s => s.text).join("");
}

/** An SSE body as [event, data] pairs. */
export function sseEvents(text: string): Array<[string | null, any]> {
  return text
    .split("\n\n")
    .filter(Boolean)
    .map(frame => {
      const event = /^event: (.*)$/m.exec(frame)?.[1] ?? null;
      const data = /^data: (.*)$/m.exec(frame)?.[1];
      return [event, data === undefined ? undefined : JSON.parse(data)];
    });
}

/** A user turn (any blocks: tests send what the SDK's types would not let through, too). */
export const user = (content: string | Anthropic.ContentBlockParam[] | Array<Record<string, unknown>>): Anthropic.MessageParam => ({ role: "user", content: content as Anthropic.ContentBlockParam[] });
