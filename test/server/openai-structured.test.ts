// The official `openai` SDK's structured-output helpers against a real Hearth: zodResponseFormat
// builds the strict JSON schema, chat.completions.parse checks and parses the answer. The model
// is random-weight tiny-qwen2, so only the grammar makes the answer parse.
import { afterAll, beforeAll, expect, test } from "bun:test";
import OpenAI from "openai";
import { zodResponseFormat } from "openai/helpers/zod";
import { z } from "zod";
import { generatedModel } from "../helpers/models.ts";
import { startHearth, type Running } from "../helpers/server.ts";

let server: Running;
let client: OpenAI;
let model: string;

beforeAll(async () => {
  const path = await generatedModel("tiny-qwen2");
  model = path.split("/").pop()!.replace(/\.gguf$/, "");
  server = await startHearth(["--model", path, "--threads", "1", "--parallel", "2"]);
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
});
afterAll(() => server?.stop());

const Verdict = z.object({
  verdict: z.enum(["approve", "reject", "defer"]),
  score: z.number().int().min(1).max(5),
  reviewer: z.object({ name: z.string().max(16), email: z.string().email() }),
  due: z.string().datetime(),
  tags: z.array(z.enum(["bug", "docs", "perf"])).max(2),
  note: z.string().max(20).nullable(),
});

test.each([0, 1, 2])("chat.completions.parse with zodResponseFormat gives a parsed object (seed %d)", async seed => {
  const completion = await client.chat.completions.parse({
    model,
    messages: [{ role: "user", content: "Review this change." }],
    response_format: zodResponseFormat(Verdict, "verdict"),
    max_tokens: 600,
    temperature: seed === 0 ? 0 : 1,
    seed,
  });
  const message = completion.choices[0]!.message;
  expect(completion.choices[0]!.finish_reason).toBe("stop");
  expect(message.refusal ?? null).toBeNull();
  // parse() ran zod on it: a wrong shape would have thrown. Check it did parse, then re-check.
  expect(message.parsed).not.toBeNull();
  expect(Verdict.parse(JSON.parse(message.content!))).toEqual(message.parsed!);
});
