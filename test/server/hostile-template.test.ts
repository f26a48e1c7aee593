// A model file's chat template is code that runs in the server process on every chat request.
// Generated models carry hostile templates: one that never stops (range(10**9)) and one that only
// explodes once a conversation has three messages. Their chat requests are refused with the
// reason (400, chat_template_unusable), while /health, plain completions and another model in the
// same server keep answering. (Before, the first chat request to such a model froze the server.)
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { generatedModel, modelCacheDir } from "../helpers/models.ts";
import { repoRoot } from "../helpers/paths.ts";
import { postJson, readSse, startHearth, type Running } from "../helpers/server.ts";

const SCRIPT = resolve(repoRoot, "scripts/make-model.py");

/** tiny-qwen2 with `template` as its chat template, cached like the other generated models. */
async function modelWithTemplate(name: string, template: string): Promise<string> {
  const key = Bun.hash((await Bun.file(SCRIPT).text()) + "\0" + template).toString(16).slice(0, 12);
  const path = join(modelCacheDir, `template-${name}.${key}.gguf`);
  if (existsSync(path)) return path;
  mkdirSync(modelCacheDir, { recursive: true });
  const jinja = join(mkdtempSync(join(tmpdir(), "hearth-template-")), `${name}.jinja`);
  writeFileSync(jinja, template);
  const tmp = `${path}.${process.pid}.tmp`;
  const run = Bun.spawnSync(["python3", SCRIPT, "--preset", "tiny-qwen2", "--template", jinja, "--out", tmp], { cwd: repoRoot, stderr: "pipe" });
  if (!run.success) throw new Error(`make-model.py failed:\n${run.stderr.toString()}`);
  renameSync(tmp, path);
  rmSync(jinja, { force: true });
  return path;
}

const chatml = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";
const LOOPS = "{% for i in range(10**9) %}{{ i }}{% endfor %}" + chatml;
const LATE = "{% if messages|length > 2 %}{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}{% endif %}" + chatml;

let server: Running;
beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "hearth-hostile-"));
  copyFileSync(await generatedModel("tiny-qwen2"), join(dir, "good.gguf"));
  copyFileSync(await modelWithTemplate("loops", LOOPS), join(dir, "loops.gguf"));
  copyFileSync(await modelWithTemplate("late", LATE), join(dir, "late.gguf"));
  server = await startHearth(["--models-dir", dir, "--threads", "1", "--ctx-size", "512"]);
}, 60_000);
afterAll(() => server?.stop());

const chat = (model: string, messages: unknown[], extra: object = {}) =>
  postJson(`${server.url}/v1/chat/completions`, { model, messages, max_tokens: 4, temperature: 0, ...extra });
const hello = [{ role: "user", content: "Hello" }];
const three = [...hello, { role: "assistant", content: "Hi" }, { role: "user", content: "Again" }];

test("a template that never stops: 400 chat_template_unusable saying why, streamed or not, and on /apply-template", async () => {
  for (const extra of [{}, { stream: true }]) {
    const res = await chat("loops", hello, extra);
    expect(res.status).toBe(400);
    const body: any = await res.json();
    expect(body.error.code).toBe("chat_template_unusable");
    expect(body.error.type).toBe("invalid_request_error");
    expect(body.error.param).toBe("model");
    expect(body.error.message).toMatch(/chat template of model loops cannot be rendered within Hearth's limits: it takes more than \d+ steps/);
  }
  const applied = await postJson(`${server.url}/apply-template`, { model: "loops", messages: hello });
  expect(applied.status).toBe(400);
  expect(((await applied.json()) as any).error.code).toBe("chat_template_unusable");
});

test("meanwhile /health, plain completions on that model and another model answer", async () => {
  const [refused, health, plain, good] = await Promise.all([
    chat("loops", hello),
    fetch(`${server.url}/health`),
    postJson(`${server.url}/v1/completions`, { model: "loops", prompt: "Once upon", max_tokens: 4, temperature: 0 }),
    chat("good", hello),
  ]);
  expect(refused.status).toBe(400);
  expect(health.status).toBe(200);
  expect(plain.status).toBe(200);
  expect(good.status).toBe(200);
  expect(typeof ((await good.json()) as any).choices[0].message.content).toBe("string");
});

test("a template that explodes on longer conversations: a short one is answered, the longer one refused", async () => {
  const short = await chat("late", hello);
  expect(short.status).toBe(200);
  const long = await chat("late", three);
  expect(long.status).toBe(400);
  const body: any = await long.json();
  expect(body.error.code).toBe("chat_template_unusable");
  expect(body.error.message).toMatch(/cannot render this conversation within Hearth's limits: it builds a value of more than \d+ characters/);
  // Streamed, the refusal comes before the stream starts.
  const streamed = await chat("late", three, { stream: true });
  expect(streamed.status).toBe(400);
  // And the server is still well.
  const again = await chat("good", three, { stream: true });
  expect(again.status).toBe(200);
  expect((await readSse(again)).at(-1)).toBe("[DONE]");
});
