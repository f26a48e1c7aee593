// Faults while serving: a model file deleted or corrupted under a running server, and a model
// whose KV cache cannot be allocated (out of memory on load). The affected model fails cleanly
// with an error naming it; the server and its other models keep serving.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generatedModel } from "../helpers/models.ts";
import { defaultModel } from "../helpers/paths.ts";
import { postJson, startHearth, type Running } from "../helpers/server.ts";

let dir: string;
let server: Running;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "hearth-faults-"));
  copyFileSync(defaultModel, join(dir, "steady.gguf"));
  copyFileSync(defaultModel, join(dir, "doomed.gguf"));
  copyFileSync(defaultModel, join(dir, "mangled.gguf"));
  copyFileSync(await generatedModel("tiny-qwen2"), join(dir, "huge-ctx.gguf"));
  // A KV cache of 2^31 tokens does not fit this machine's memory (nor most others').
  writeFileSync(join(dir, "hearth.json"), JSON.stringify({ models: { "huge-ctx": { ctx_size: 2 ** 31 - 1, parallel: 1 } } }));
  server = await startHearth(["--models-dir", dir, "--threads", "1", "--config", join(dir, "hearth.json"), "-c", "256", "-np", "1"]);
});
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const complete = async (model: string) => {
  const res = await postJson(`${server.url}/v1/completions`, { model, prompt: "Once upon a time", max_tokens: 12, temperature: 0 });
  return { status: res.status, body: (await res.json()) as any };
};
const unload = (model: string) => postJson(`${server.url}/models/unload`, { model });

test("a model file deleted while loaded keeps answering from memory; after unload it is gone (404), others serve on", async () => {
  const before = await complete("doomed");
  expect(before.status).toBe(200);
  rmSync(join(dir, "doomed.gguf"));
  const during = await complete("doomed");
  expect(during.status).toBe(200);
  expect(during.body.choices[0].text).toBe(before.body.choices[0].text);
  await unload("doomed");
  const after = await complete("doomed");
  expect(after.status).toBe(404);
  expect(after.body.error.code).toBe("model_not_found");
  expect((await complete("steady")).status).toBe(200);
});

test("a model file corrupted while loaded: the next load fails with a clear 503 for that model only", async () => {
  expect((await complete("mangled")).status).toBe(200);
  // Overwrite in place, keeping the size: the header and tensor data become noise.
  const size = Bun.file(join(dir, "mangled.gguf")).size;
  writeFileSync(join(dir, "mangled.gguf"), Buffer.alloc(size, 0x5a));
  await unload("mangled");
  const failed = await complete("mangled");
  expect(failed.status).toBe(503);
  expect(failed.body.error.code).toBe("model_unavailable");
  expect(failed.body.error.message).toContain("mangled");
  const listed: any = await (await fetch(`${server.url}/v1/models/mangled`)).json();
  expect(listed.meta.state).toBe("failed");
  expect((await complete("steady")).status).toBe(200);
});

test("out of memory on load (a KV cache that cannot be allocated): a clear 503, the server serves on", async () => {
  const failed = await complete("huge-ctx");
  expect(failed.status).toBe(503);
  expect(failed.body.error.code).toBe("model_unavailable");
  expect(failed.body.error.message).toContain("huge-ctx");
  expect((await complete("steady")).status).toBe(200);
  const health = await fetch(`${server.url}/health`);
  expect(health.status).toBe(200);
});
