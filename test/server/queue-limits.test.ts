// A bounded queue: beyond --parallel running and --queue-size waiting, requests get 503 with
// Retry-After in OpenAI's envelope, and the server keeps serving.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { basename } from "node:path";
import { generatedModel } from "../helpers/models.ts";
import { postJson, startHearth, type Running } from "../helpers/server.ts";

let server: Running;
let model: string;
beforeAll(async () => {
  const path = await generatedModel("tiny-qwen2");
  model = basename(path, ".gguf");
  server = await startHearth(["--model", path, "--threads", "1", "--parallel", "1", "--queue-size", "1"]);
});
afterAll(() => server?.stop());

test("parallel 1 + queue 1: of 4 simultaneous requests, 2 are served and 2 get 503", async () => {
  // Long enough (hundreds of ms) that all four arrive while the first is still running.
  const body = { model, prompt: "Once upon a time", max_tokens: 400, ignore_eos: true, temperature: 0 };
  const responses = await Promise.all(Array.from({ length: 4 }, () => postJson(`${server.url}/v1/completions`, body)));
  const statuses = responses.map(r => r.status).sort();
  expect(statuses).toEqual([200, 200, 503, 503]);
  const rejected = responses.find(r => r.status === 503)!;
  expect(rejected.headers.get("retry-after")).toBe("1");
  const json: any = await rejected.json();
  expect(json.error.code).toBe("queue_full");
  expect(json.error.type).toBe("server_error");
  const after = await postJson(`${server.url}/v1/completions`, { ...body, max_tokens: 8 });
  expect(after.status).toBe(200);
});
