// A bounded queue: beyond --parallel running and --queue-size waiting, requests get 503 with
// Retry-After in OpenAI's envelope, and the server keeps serving.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { defaultModel } from "../helpers/paths.ts";
import { postJson, startHearth, type Running } from "../helpers/server.ts";

let server: Running;
beforeAll(async () => {
  server = await startHearth(["--model", defaultModel, "--threads", "1", "--parallel", "1", "--queue-size", "1"]);
});
afterAll(() => server?.stop());

test("parallel 1 + queue 1: of 4 simultaneous requests, 2 are served and 2 get 503", async () => {
  const body = { model: "stories260K", prompt: "Once upon a time", max_tokens: 100, ignore_eos: true, temperature: 0 };
  const responses = await Promise.all(Array.from({ length: 4 }, () => postJson(`${server.url}/v1/completions`, body)));
  const statuses = responses.map(r => r.status).sort();
  expect(statuses).toEqual([200, 200, 503, 503]);
  const rejected = responses.find(r => r.status === 503)!;
  expect(rejected.headers.get("retry-after")).toBe("1");
  const json: any = await rejected.json();
  expect(json.error.code).toBe("queue_full");
  expect(json.error.type).toBe("server_error");
  const after = await postJson(`${server.url}/v1/completions`, body);
  expect(after.status).toBe(200);
});
