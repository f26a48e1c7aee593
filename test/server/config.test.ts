// hearth.json: aliases and per-model settings (context, slots, sampling defaults), and start-up
// errors that name the bad key.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generatedModel } from "../helpers/models.ts";
import { repoRoot } from "../helpers/paths.ts";
import { postJson, startHearth, type Running } from "../helpers/server.ts";

let dir: string;
let server: Running;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "hearth-config-"));
  copyFileSync(await generatedModel("tiny-qwen2"), join(dir, "alpha.gguf"));
  const config = { aliases: { chat: "alpha" }, models: { alpha: { ctx_size: 512, parallel: 2, sampling: { temperature: 0 } } } };
  writeFileSync(join(dir, "hearth.json"), JSON.stringify(config));
  server = await startHearth(["--models-dir", dir, "--config", join(dir, "hearth.json"), "--threads", "1"]);
});
afterAll(() => server?.stop());

test("an alias resolves to its model; per-model ctx, slots and sampling defaults apply", async () => {
  const ask = async () => ((await (await postJson(`${server.url}/v1/completions`, { model: "chat", prompt: "Hello", max_tokens: 12 })).json()) as any);
  const [a, b] = [await ask(), await ask()];
  expect(a.model).toBe("chat");
  expect(a.choices[0].text).toBe(b.choices[0].text); // temperature 0 from the config: greedy
  const meta = ((await (await fetch(`${server.url}/v1/models/alpha`)).json()) as any).meta;
  expect(meta.n_ctx).toBe(512);
  expect(meta.slots.total).toBe(2);
  expect(meta.aliases).toEqual(["chat"]);
  expect(((await (await fetch(`${server.url}/v1/models/chat`)).json()) as any).id).toBe("alpha");
  const tooLong = await postJson(`${server.url}/v1/completions`, { model: "chat", prompt: "Hello", max_tokens: 600 });
  expect(tooLong.status).toBe(400);
});

test.each([
  [{ models: { alpha: { ctx_siz: 512 } } }, "models.alpha.ctx_siz: unknown key"],
  [{ models: { alpha: { parallel: 0 } } }, "models.alpha.parallel"],
  [{ aliases: { chat: 5 } }, "aliases.chat"],
  [{ model: {} }, "model: unknown key"],
  [{ models: { alpha: { rpc: ["no-port"] } } }, "models.alpha.rpc.0"],
  [{ models: { alpha: { tensor_split: [1, -1] } } }, "models.alpha.tensor_split.1"],
])("a bad config %j stops start-up with an error naming %s", (config, key) => {
  const path = join(dir, "bad.json");
  writeFileSync(path, JSON.stringify(config));
  const run = Bun.spawnSync([process.execPath, `${repoRoot}/src/cli.ts`, "serve", "--config", path, "--port", "0"], { stderr: "pipe" });
  expect(run.exitCode).toBe(2);
  expect(run.stderr.toString()).toContain(key);
});

test.each([
  [["--rpc", "10.0.0.5"], "--rpc: '10.0.0.5' is not HOST:PORT"],
  [["--rpc", "10.0.0.5:50052", "--tensor-split", "1,x"], "--tensor-split must be"],
])("bad split flags %j stop start-up: %s", (args, message) => {
  const run = Bun.spawnSync([process.execPath, `${repoRoot}/src/cli.ts`, "serve", ...args, "--port", "0"], { stderr: "pipe" });
  expect(run.exitCode).toBe(2);
  expect(run.stderr.toString()).toContain(message);
});
