// SIGTERM: stop accepting, let a running generation finish within --shutdown-timeout, then exit 0;
// one that outlasts the timeout ends with an error event rather than a silent cut.
import { expect, test } from "bun:test";
import { basename } from "node:path";
import { generatedModel } from "../helpers/models.ts";
import { defaultModel } from "../helpers/paths.ts";
import { postJson, readSse, startHearth } from "../helpers/server.ts";

test("an in-flight stream finishes after SIGTERM and the server exits 0", async () => {
  const server = await startHearth(["--model", defaultModel, "--threads", "1", "--shutdown-timeout", "10"]);
  const res = await postJson(`${server.url}/v1/completions`, { model: "stories260K", prompt: "Once upon a time", max_tokens: 100, ignore_eos: true, stream: true });
  const events = readSse(res);
  server.proc.kill("SIGTERM");
  const data = await events;
  expect(data.at(-1)).toBe("[DONE]");
  expect(await server.proc.exited).toBe(0);
});

test("Ctrl-C (SIGINT to the whole process group, runners included) still lets an in-flight stream finish", async () => {
  const path = await generatedModel("tiny-qwen2");
  const server = await startHearth(["--model", path, "--threads", "1", "--shutdown-timeout", "60"], {}, { ownProcessGroup: true });
  const res = await postJson(`${server.url}/v1/completions`, { model: basename(path, ".gguf"), prompt: "Count:", max_tokens: 400, ignore_eos: true, stream: true });
  const reader = res.body!.getReader();
  await reader.read();
  process.kill(-server.proc.pid, "SIGINT");
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  expect(text.trim().endsWith("data: [DONE]")).toBe(true);
  expect(text).not.toContain('"error"');
  expect(await server.proc.exited).toBe(0);
});

test("a stream longer than --shutdown-timeout gets a final error event, then the server exits 0", async () => {
  const path = await generatedModel("tiny-qwen2");
  const server = await startHearth(["--model", path, "--threads", "1", "--shutdown-timeout", "1"]);
  const res = await postJson(`${server.url}/v1/completions`, { model: basename(path, ".gguf"), prompt: "Count:", max_tokens: 3000, ignore_eos: true, stream: true });
  const reader = res.body!.getReader();
  await reader.read();
  server.proc.kill("SIGTERM");
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  const last = text.trim().split("\n\n").at(-1)!;
  expect(JSON.parse(last.slice(6)).error.message).toMatch(/unloading|stopped/);
  expect(await server.proc.exited).toBe(0);
});
