// A model's runner process dies (as it would on a GGML_ASSERT abort): its in-flight requests end
// with a clean error event, the HTTP server keeps answering, and the next request starts a new
// runner and succeeds.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { basename } from "node:path";
import { generatedModel } from "../helpers/models.ts";
import { childPids, postJson, startHearth, type Running } from "../helpers/server.ts";

let server: Running;
let model: string;
beforeAll(async () => {
  const path = await generatedModel("tiny-qwen2");
  model = basename(path, ".gguf");
  server = await startHearth(["--model", path, "--threads", "1"]);
});
afterAll(() => server?.stop());

test("kill -9 of the runner mid-stream: an error event, the server stays up, the next request works", async () => {
  const res = await postJson(`${server.url}/v1/completions`, { model, prompt: "Count:", max_tokens: 3000, ignore_eos: true, stream: true });
  const reader = res.body!.getReader();
  await reader.read();
  const runners = childPids(server.proc.pid);
  expect(runners.length).toBe(1);
  process.kill(runners[0]!, "SIGKILL");

  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  const last = JSON.parse(text.trim().split("\n\n").at(-1)!.slice(6));
  expect(last.error.type).toBe("server_error");
  expect(last.error.message).toMatch(/runner stopped/);

  expect((await fetch(`${server.url}/health`)).status).toBe(200);
  const again = await postJson(`${server.url}/v1/completions`, { model, prompt: "Hello", max_tokens: 8, temperature: 0 });
  expect(again.status).toBe(200);
  expect(((await again.json()) as any).usage.completion_tokens).toBe(8);
  const newRunners = childPids(server.proc.pid);
  expect(newRunners.length).toBe(1);
  expect(newRunners[0]).not.toBe(runners[0]);
});
