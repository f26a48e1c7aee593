// `make dist` output: the single compiled binary, started from another directory with an empty
// HEARTH_HOME, serves a completion from its embedded default model.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../helpers/paths.ts";
import { freePort, postJson } from "../helpers/server.ts";
import { probeWorker } from "../../src/engine/rpc-workers.ts";

const binary = join(repoRoot, "dist/hearth");
let proc: ReturnType<typeof Bun.spawn> | undefined;
afterAll(() => proc?.kill("SIGKILL"));

test("dist/hearth serves the embedded model from a foreign directory", async () => {
  expect(existsSync(binary)).toBe(true); // `make test` builds it (make dist)
  const cwd = mkdtempSync(join(tmpdir(), "hearth-dist-cwd-"));
  const home = mkdtempSync(join(tmpdir(), "hearth-dist-home-"));
  const port = await freePort();
  proc = Bun.spawn([binary, "serve", "--port", String(port), "--threads", "1"], {
    cwd,
    env: { ...process.env, HEARTH_HOME: home, HEARTH_LIB_DIR: "" },
    stdout: "inherit",
    stderr: "inherit",
  });
  const url = `http://127.0.0.1:${port}`;
  let body: any;
  for (let i = 0; i < 200; i++) {
    try {
      const res = await postJson(`${url}/v1/completions`, { model: "stories260K", prompt: "Once upon a time", max_tokens: 16, temperature: 0 });
      if (res.status === 200) {
        body = await res.json();
        break;
      }
    } catch {
      /* not up yet */
    }
    await Bun.sleep(100);
  }
  expect(body?.choices?.[0]?.text?.length).toBeGreaterThan(10);
  expect(body.usage.completion_tokens).toBe(16);
  expect(existsSync(join(home, "models/stories260K.gguf"))).toBe(true);
  // The chat page and every file it loads come from inside the binary.
  const page = await fetch(`${url}/`);
  expect(page.status).toBe(200);
  for (const src of (await page.text()).match(/\/ui\/[\w.-]+/g)!) {
    const res = await fetch(`${url}${src}`);
    expect(res.status).toBe(200);
    expect((await res.text()).length).toBeGreaterThan(100);
  }
  expect(((await (await fetch(`${url}/openapi`)).json()) as any).paths["/v1/chat/completions"]).toBeDefined();
});

test("dist/hearth --help answers without loading anything", () => {
  const run = Bun.spawnSync([binary, "--help"], { cwd: tmpdir() });
  expect(run.exitCode).toBe(0);
  expect(run.stdout.toString()).toContain("hearth serve");
});

test("dist/hearth worker runs the shipped ggml-rpc-server from a foreign directory", async () => {
  expect(existsSync(join(repoRoot, "dist/ggml-rpc-server"))).toBe(true);
  const port = await freePort();
  const worker = Bun.spawn([binary, "worker", "--port", String(port), "--threads", "1"], {
    cwd: tmpdir(),
    env: { ...process.env, HEARTH_LIB_DIR: "" },
    stdout: "ignore",
    stderr: "ignore",
  });
  try {
    let answered = false;
    for (let i = 0; i < 100 && !answered; i++) {
      answered = await probeWorker(`127.0.0.1:${port}`, 2000).then(() => true, () => false);
      if (!answered) await Bun.sleep(100);
    }
    expect(answered).toBe(true);
  } finally {
    worker.kill("SIGTERM");
    await worker.exited;
  }
});
