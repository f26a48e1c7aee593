// An openai SDK client whose fetch goes straight into a Hearth app over a fake engine (no
// socket), for the Responses dialect's model-free tests.
import OpenAI from "openai";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp, type AppOptions } from "../../src/api/app.ts";
import { FakeEngine, FakeModels } from "./fake-engine.ts";
import { llamaSrc } from "./paths.ts";

// Reasoning seals keep their key under $HEARTH_HOME: a fresh one per test process.
process.env.HEARTH_HOME ??= mkdtempSync(join(tmpdir(), "hearth-responses-"));

export const template = (name: string) => readFileSync(`${llamaSrc}/models/templates/${name}.jinja`, "utf8");

export function responsesApp(engine = new FakeEngine(), chatTemplate: string | null = null, options: Partial<AppOptions> = {}) {
  const app = createApp(new FakeModels(engine, "fake-model", undefined, chatTemplate), { apiKeys: [], cors: null, maxBodyBytes: 1 << 20, ...options });
  const fetch = async (url: RequestInfo | URL, init?: RequestInit) => app.handle(new Request(url, init));
  const client = new OpenAI({ baseURL: "http://localhost/v1", apiKey: "unused", maxRetries: 0, fetch });
  /** A raw request; the body as given (a string is sent as is). */
  const send = (method: string, path: string, body?: unknown) =>
    app.handle(
      new Request(`http://localhost${path}`, {
        method,
        headers: { "content-type": "application/json" },
        ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
      }),
    );
  const post = (path: string, body: unknown) => send("POST", path, body);
  return { app, client, engine, post, send };
}

/** An SSE body's data objects, each checked against its frame's event name. */
export function streamEvents(text: string): any[] {
  return text
    .split("\n\n")
    .filter(Boolean)
    .map(frame => {
      const event = /^event: (.*)$/m.exec(frame)?.[1];
      const data = JSON.parse(/^data: (.*)$/m.exec(frame)![1]!);
      if (event !== data.type) throw new Error(`frame named ${event} carries ${data.type}`);
      return data;
    });
}
