// -ctk / -ctv / -fa on a real server, as flags and per model in hearth.json: a q8_0 cache serves,
// and settings llama.cpp cannot use fail the model's load with a reason that names them (the
// model is listed as failed with that error; the server stays up).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { generatedModel } from "../helpers/models.ts";
import { freePort, postJson, startHearth } from "../helpers/server.ts";
import { repoRoot } from "../helpers/paths.ts";

let root: string;
let model: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "hearth-kv-flags-"));
  model = await generatedModel("tiny-qwen2-head32");
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

test("-ctk q8_0 -ctv q8_0 -fa on serves", async () => {
  const server = await startHearth(["--model", model, "-ctk", "q8_0", "-ctv", "q8_0", "-fa", "on", "-np", "1", "-c", "256"]);
  try {
    const res = await postJson(`${server.url}/v1/completions`, { prompt: "Hello there", max_tokens: 4, temperature: 0 });
    expect(res.status).toBe(200);
  } finally {
    await server.stop();
  }
});

test("a quantized V cache with flash attention off in hearth.json fails the load, naming the flags; the server stays up", async () => {
  const id = basename(model, ".gguf");
  const config = join(root, "hearth.json");
  writeFileSync(config, JSON.stringify({ models: { [id]: { cache_type_v: "q4_0", flash_attn: "off" } } }));
  const port = await freePort();
  const proc = Bun.spawn([process.execPath, `${repoRoot}/src/cli.ts`, "serve", "--port", String(port), "--model", model, "--config", config, "--prompt-cache-size", "0"], {
    env: { ...process.env, HEARTH_LOG_LEVEL: "error" },
    stdout: "ignore",
    stderr: "ignore",
  });
  try {
    const url = `http://127.0.0.1:${port}`;
    let res: Response | null = null;
    for (let i = 0; i < 100 && !res; i++) {
      res = await postJson(`${url}/v1/completions`, { prompt: "Hello", max_tokens: 2 }).catch(() => null);
      if (!res) await Bun.sleep(100);
    }
    expect(res!.status).toBe(503);
    expect(((await res!.json()) as any).error.message).toContain("--cache-type-v q4_0 needs flash attention");
    const listed = ((await (await fetch(`${url}/v1/models/${id}`)).json()) as any).meta;
    expect(listed.state).toBe("failed");
    expect((await fetch(`${url}/health`)).status).toBe(200);
  } finally {
    proc.kill();
    await proc.exited;
  }
});
