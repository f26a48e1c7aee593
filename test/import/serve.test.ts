// Serving checkpoint folders: a folder under --models-dir is listed as "needs-import", imported on
// first use into $HEARTH_HOME/cache/import (keyed by content hash), then served; a second server
// start — here with --model DIR — reuses the cached import instead of converting again.
import { afterAll, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { defaultModel } from "../helpers/paths.ts";
import { postJson, startHearth, type Running } from "../helpers/server.ts";
import { checkpoint, cleanup, tempRoot } from "./checkpoints.ts";

let server: Running | undefined;
afterAll(async () => {
  await server?.stop();
  cleanup();
});

const models = async (s: Running) => ((await (await fetch(`${s.url}/v1/models`)).json()) as { data: { id: string; meta: any }[] }).data;

test("a checkpoint folder is imported on first use, cached, and reused by the next start", async () => {
  const home = join(tempRoot(), "home");
  const dir = join(tempRoot(), "models");
  mkdirSync(dir, { recursive: true });
  // A GGUF sorts first, so the server preloads it and leaves the checkpoint for first use.
  copyFileSync(defaultModel, join(dir, "aaa-stories.gguf"));
  const ckpt = checkpoint("qwen3", [], "served/tiny-qwen3");
  const { cpSync } = await import("node:fs");
  cpSync(ckpt, join(dir, "tiny-qwen3"), { recursive: true });

  server = await startHearth(["--models-dir", dir, "--threads", "1", "-c", "256", "-np", "1"], { HEARTH_HOME: home });
  let tiny = (await models(server)).find(m => m.id === "tiny-qwen3")!;
  expect(tiny.meta.state).toBe("needs-import");

  const res = await postJson(`${server.url}/v1/chat/completions`, {
    model: "tiny-qwen3",
    messages: [{ role: "user", content: "Hello" }],
    max_tokens: 4,
  });
  expect(res.status).toBe(200);
  const body: any = await res.json();
  expect(body.choices[0].message.role).toBe("assistant");
  expect(body.usage.completion_tokens).toBeGreaterThan(0);

  tiny = (await models(server)).find(m => m.id === "tiny-qwen3")!;
  expect(tiny.meta.state).toBe("loaded");
  expect(tiny.meta.architecture).toBe("qwen3");
  expect(tiny.meta.family).toBe("qwen");
  const cache = join(home, "cache", "import");
  const ggufs = readdirSync(cache).filter(f => f.endsWith("-q4_0.gguf"));
  expect(ggufs.length).toBe(1);
  const mtime = statSync(join(cache, ggufs[0]!)).mtimeMs;
  await server.stop();

  // Second start, the folder given directly: it is preloaded from the cache, not converted again.
  server = await startHearth(["--model", join(dir, "tiny-qwen3"), "--threads", "1", "-c", "256", "-np", "1"], { HEARTH_HOME: home });
  tiny = (await models(server)).find(m => m.id === "tiny-qwen3")!;
  expect(tiny.meta.state).toBe("loaded");
  expect(readdirSync(cache).filter(f => f.endsWith(".gguf"))).toEqual(ggufs);
  expect(statSync(join(cache, ggufs[0]!)).mtimeMs).toBe(mtime);
}, 120_000);
