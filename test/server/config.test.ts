// hearth.json: aliases and per-model settings (context, slots, sampling defaults, output limit), the
// flags beside them (-n, --alias, --default-model), and start-up errors that name the bad key.
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
  copyFileSync(join(dir, "alpha.gguf"), join(dir, "beta.gguf"));
  const config = { aliases: { chat: "alpha", "claude-*": "beta" }, models: { alpha: { ctx_size: 512, parallel: 2, max_tokens: 3, sampling: { temperature: 0 } } } };
  writeFileSync(join(dir, "hearth.json"), JSON.stringify(config));
  const flags = ["-n", "5", "--default-model", "beta", "-c", "512", "-np", "1"];
  server = await startHearth(["--models-dir", dir, "--config", join(dir, "hearth.json"), "--threads", "1", ...flags]);
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

test("output limits: a request's max_tokens > the model's hearth.json max_tokens > -n; unnamed and claude-* requests reach their models", async () => {
  const ask = async (body: object) => {
    const res = await postJson(`${server.url}/v1/completions`, { prompt: "Once upon a time", ignore_eos: true, ...body });
    const json = (await res.json()) as any;
    return [res.status, json.model, json.usage?.completion_tokens, json.choices?.[0].finish_reason];
  };
  expect(await ask({ model: "alpha" })).toEqual([200, "alpha", 3, "length"]); // hearth.json's max_tokens
  expect(await ask({ model: "beta" })).toEqual([200, "beta", 5, "length"]); // -n 5
  expect(await ask({ model: "beta", max_tokens: 7 })).toEqual([200, "beta", 7, "length"]);
  expect(await ask({ model: "alpha", max_tokens: 7 })).toEqual([200, "alpha", 7, "length"]);
  expect(await ask({})).toEqual([200, "beta", 5, "length"]); // --default-model
  expect(await ask({ model: "claude-sonnet-4-5" })).toEqual([200, "claude-sonnet-4-5", 5, "length"]); // the "claude-*" alias
  // -n is a limit, never a reservation: a prompt with less room than 5 tokens still runs.
  const [status, , generated, finish] = await ask({ model: "beta", prompt: Array(508).fill(100) });
  expect([status, finish]).toEqual([200, "length"]);
  expect(generated).toBeLessThan(5);
});

test("a bare --alias among several models stops start-up", () => {
  const run = Bun.spawnSync([process.execPath, `${repoRoot}/src/cli.ts`, "serve", "--models-dir", dir, "--alias", "test", "--port", "0"], { stderr: "pipe" });
  expect(run.exitCode).not.toBe(0);
  expect(run.stderr.toString()).toContain("a bare --alias NAME names the one served model, and 2 are served");
});

test.each([
  [{ models: { alpha: { ctx_siz: 512 } } }, "models.alpha.ctx_siz: unknown key"],
  [{ models: { alpha: { max_tokens: 0 } } }, "models.alpha.max_tokens"],
  [{ aliases: { "claude-*": "qwen-*" } }, "aliases.claude-*"],
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
  [["-n", "0"], "--n-predict must be -1 (no limit) or a positive integer"],
  [["-n", "-2"], "--n-predict must be an integer of at least -1"],
  [["--alias", "claude-*=qwen-*"], "--alias must be NAME=MODEL"],
  [["--alias", "=qwen"], "--alias must be NAME=MODEL"],
])("bad flags %j stop start-up: %s", (args, message) => {
  const run = Bun.spawnSync([process.execPath, `${repoRoot}/src/cli.ts`, "serve", ...args, "--port", "0"], { stderr: "pipe" });
  expect(run.exitCode).toBe(2);
  expect(run.stderr.toString()).toContain(message);
});
