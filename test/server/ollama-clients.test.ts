// Ollama's API on a real Hearth, through the clients people point at Ollama: the `ollama` library
// (version, list, show, ps, chat and generate streamed and not, format with a schema, think,
// embed, pull from a local Hugging Face stand-in (a vision repository's projector too), delete,
// copy, keep_alive, 404s), LangChain's ChatOllama and the AI SDK's Ollama provider. Plus greedy
// parity with the OpenAI routes of the same server and timings that hold together. Models:
// stories260K (text), a random-weight Qwen3.5-template model (its prompt opens <think>;
// --reasoning-budget 16 closes it), a random BERT (embeddings), a random Qwen2.5-VL-shaped model
// with its projector (images).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ChatOllama } from "@langchain/ollama";
import { generateText } from "ai";
import Ajv from "ajv";
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { Ollama } from "ollama";
import { createOllama } from "ollama-ai-provider-v2";
import { compatModel, template, tinyQwenArgs } from "../compat/models.ts";
import { dataUrl, png } from "../helpers/images.ts";
import { generatedModel } from "../helpers/models.ts";
import { visionModelDir } from "../helpers/vision-models.ts";
import { defaultModel } from "../helpers/paths.ts";
import { postJson, startHearth, type Running } from "../helpers/server.ts";

const STORIES = "stories260K";
let server: Running;
let hub: ReturnType<typeof Bun.serve>;
let client: Ollama;
let home: string;
let bert: string;
let thinker: string;
let visionDir: string;

beforeAll(async () => {
  let bertPath: string, thinkPath: string;
  [bertPath, thinkPath, visionDir] = await Promise.all([generatedModel("tiny-bert"), compatModel("tiny-qwen35-think", tinyQwenArgs(template("Qwen3.5-4B"), 4096)), visionModelDir("qwen2.5vl")]);
  bert = basename(bertPath, ".gguf");
  thinker = basename(thinkPath, ".gguf");
  // A Hugging Face stand-in: the model API lists a repository's files, resolve/ serves one. The
  // vision repository holds a model and its projectors, as vision GGUF repositories do.
  const served: Record<string, Buffer<ArrayBuffer>> = {
    "/test-owner/tiny-GGUF/resolve/main/tiny-stories-Q8_0.gguf": readFileSync(defaultModel),
    "/test-owner/tiny-vision-GGUF/resolve/main/tiny-vision-Q8_0.gguf": readFileSync(join(visionDir, "model.gguf")),
    "/test-owner/tiny-vision-GGUF/resolve/main/mmproj-F16.gguf": readFileSync(join(visionDir, "mmproj-model.gguf")),
  };
  const listings: Record<string, string[]> = {
    "/api/models/test-owner/tiny-GGUF": ["README.md", "tiny-stories-Q8_0.gguf", "tiny-stories-F16.gguf"],
    "/api/models/test-owner/tiny-vision-GGUF": ["README.md", "tiny-vision-Q8_0.gguf", "mmproj-F16.gguf", "mmproj-F32.gguf"],
  };
  hub = Bun.serve({
    port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      if (listings[path]) return Response.json({ siblings: listings[path]!.map(rfilename => ({ rfilename })) });
      const bytes = served[path];
      if (bytes) return new Response(bytes, { headers: { "content-length": String(bytes.length) } });
      return new Response("not found", { status: 404 });
    },
  });
  home = mkdtempSync(join(tmpdir(), "hearth-ollama-home-"));
  mkdirSync(join(home, "models"));
  server = await startHearth(
    ["--model", defaultModel, "--model", bertPath, "--model", thinkPath, "--model", join(visionDir, "model.gguf"), "--models-dir", join(home, "models"), "--threads", "1", "--parallel", "2", "--ctx-size", "2048", "--reasoning-budget", "16"],
    { HEARTH_HOME: home, HF_ENDPOINT: `http://127.0.0.1:${hub.port}` },
  );
  client = new Ollama({ host: server.url });
}, 120_000);
afterAll(async () => {
  await server?.stop();
  hub?.stop(true);
});

const greedy = { temperature: 0, num_predict: 24 };
const messages = [{ role: "user", content: "Once upon a time" }];

describe("the ollama library", () => {
  test("version is numeric; list shows ID:latest with details from the header", async () => {
    expect((await client.version()).version).toMatch(/^\d+\.\d+\.\d+$/);
    const { models } = await client.list();
    const stories = models.find(m => m.name === `${STORIES}:latest`)!;
    expect(stories.model).toBe(`${STORIES}:latest`);
    expect(stories.size).toBe(readFileSync(defaultModel).length);
    expect(stories.details).toMatchObject({ format: "gguf", family: "llama", families: ["llama"] });
    expect(stories.details.parameter_size).toMatch(/^\d+K$/);
    expect(Date.parse(stories.modified_at as unknown as string)).not.toBeNaN();
  });

  test("show: model_info, template and capabilities only the model has", async () => {
    const s = await client.show({ model: STORIES });
    expect((s as any).model_info["general.architecture"]).toBe("llama");
    expect((s as any).model_info["llama.context_length"]).toBeGreaterThan(0);
    expect(s.capabilities).toEqual(["completion"]);
    const t = await client.show({ model: `${thinker}:latest` });
    expect(t.capabilities).toEqual(expect.arrayContaining(["completion", "tools", "thinking"]));
    expect(t.template).toContain("<think>");
    expect((await client.show({ model: bert })).capabilities).toEqual(["embedding"]);
  });

  test("a digest appears once the background hash is done: the file's sha256", async () => {
    const expected = new Bun.CryptoHasher("sha256").update(readFileSync(defaultModel)).digest("hex");
    let digest: string | undefined;
    for (let i = 0; i < 100 && !digest; i++) {
      digest = (await client.list()).models.find(m => m.name === `${STORIES}:latest`)?.digest || undefined;
      if (!digest) await Bun.sleep(50);
    }
    expect(digest).toBe(expected);
  });

  test("chat, not streamed and streamed, give the same greedy text", async () => {
    const whole = await client.chat({ model: STORIES, messages, options: greedy, stream: false });
    expect(whole.message.content.length).toBeGreaterThan(0);
    let text = "";
    let last: any;
    for await (const part of await client.chat({ model: `${STORIES}:latest`, messages, options: greedy, stream: true })) {
      text += part.message.content;
      last = part;
    }
    expect(text).toBe(whole.message.content);
    expect(last.done).toBe(true);
    expect(last.eval_count).toBe(whole.eval_count);
  });

  test("generate, templated and raw, streamed and not", async () => {
    for (const raw of [false, true]) {
      const whole = await client.generate({ model: STORIES, prompt: "Once upon a time", raw, options: greedy, stream: false });
      let text = "";
      for await (const part of await client.generate({ model: STORIES, prompt: "Once upon a time", raw, options: greedy, stream: true })) text += part.response;
      expect(text).toBe(whole.response ?? "");
      expect(whole.response?.length).toBeGreaterThan(0);
    }
  });

  test("format with a JSON schema: answers that stop are JSON that validates", async () => {
    const schema = { type: "object", properties: { color: { enum: ["red", "green", "blue"] }, ok: { type: "boolean" } }, required: ["color", "ok"], additionalProperties: false };
    const validate = new Ajv().compile(schema);
    let stopped = 0;
    for (const seed of [1, 2, 3]) {
      const r = await client.chat({ model: STORIES, messages, format: schema, options: { temperature: 0.8, seed, num_predict: 64 }, stream: false });
      if (r.done_reason !== "stop") continue;
      stopped++;
      expect(validate(JSON.parse(r.message.content))).toBe(true);
    }
    expect(stopped).toBeGreaterThan(0);
  });

  test("think: the thinking comes in message.thinking, apart from the content; think false has none", async () => {
    const on = await client.chat({ model: thinker, messages: [{ role: "user", content: "Why?" }], think: true, options: { temperature: 0, num_predict: 16 }, stream: false });
    expect(on.message.thinking?.length ?? 0).toBeGreaterThan(0);
    expect(on.message.content).not.toContain("<think>");
    const off = await client.chat({ model: thinker, messages: [{ role: "user", content: "Why?" }], think: false, options: { temperature: 0, num_predict: 16 }, stream: false });
    expect(off.message.thinking).toBeUndefined();
    let thinking = "";
    for await (const part of await client.chat({ model: thinker, messages: [{ role: "user", content: "Why?" }], think: true, options: { temperature: 0, num_predict: 16 }, stream: true })) thinking += part.message.thinking ?? "";
    expect(thinking).toBe(on.message.thinking!);
  });

  test("images: the same greedy text as /v1/chat/completions with the image before the text; vision in show once loaded", async () => {
    const image = png(40, 30, (x, y) => [(x * 6) % 256, (y * 8) % 256, (x * y) % 256]);
    const b64 = Buffer.from(image).toString("base64");
    const ours = await client.chat({ model: "model", messages: [{ role: "user", content: "What is in this picture?", images: [b64] }], options: { temperature: 0, num_predict: 12 }, stream: false });
    const content = [{ type: "image_url", image_url: { url: dataUrl(image) } }, { type: "text", text: "What is in this picture?" }];
    const openai: any = await postJson(`${server.url}/v1/chat/completions`, { model: "model", messages: [{ role: "user", content }], max_tokens: 12, temperature: 0 }).then(res => res.json());
    expect(ours.message.content).toBe(openai.choices[0].message.content);
    expect(ours.eval_count).toBe(12);
    expect((await client.show({ model: "model" })).capabilities).toContain("vision");
    const text = await client.generate({ model: "model", prompt: "What is in this picture?", images: [b64], options: { temperature: 0, num_predict: 12 }, stream: false });
    expect(text.response).toBe(ours.message.content);
    const noVision = await client.chat({ model: STORIES, messages: [{ role: "user", content: "x", images: [b64] }], stream: false }).catch(e => e);
    expect(noVision.status_code).toBe(400);
  });

  test("think with format: the thinking is free, the answer after it is JSON that validates (--reasoning-budget 16 closes the thinking)", async () => {
    const schema = { type: "object", properties: { color: { enum: ["red", "green", "blue"] }, ok: { type: "boolean" } }, required: ["color", "ok"], additionalProperties: false };
    const validate = new Ajv().compile(schema);
    let stopped = 0;
    for (const seed of [1, 2, 3]) {
      const r = await client.chat({ model: thinker, messages: [{ role: "user", content: "Pick a color" }], think: true, format: schema, options: { temperature: 0.8, seed, num_predict: 96 }, stream: false });
      expect(r.message.thinking?.length ?? 0).toBeGreaterThan(0);
      if (r.done_reason !== "stop") continue;
      stopped++;
      expect(validate(JSON.parse(r.message.content))).toBe(true);
    }
    expect(stopped).toBeGreaterThan(0);
  });

  test("embed: one unit vector per input, the same as /v1/embeddings; the older /api/embeddings too", async () => {
    const inputs = ["hello world", "a second input"];
    const r = await client.embed({ model: bert, input: inputs });
    expect(r.embeddings).toHaveLength(2);
    for (const v of r.embeddings) expect(Math.hypot(...v)).toBeCloseTo(1, 4);
    const openai: any = await postJson(`${server.url}/v1/embeddings`, { model: bert, input: inputs }).then(res => res.json());
    expect(r.embeddings).toEqual(openai.data.map((d: any) => d.embedding));
    expect((await client.embeddings({ model: bert, prompt: "hello world" })).embedding).toEqual(r.embeddings[0]!);
    const generative = await client.embed({ model: STORIES, input: "x" }).catch(e => e);
    expect(generative.status_code).toBe(400);
  });

  test("pull hf.co/OWNER/REPO:QUANT from the local hub (NDJSON progress), then delete it; a model Hearth did not pull is refused", async () => {
    const seen: any[] = [];
    for await (const p of await client.pull({ model: "hf.co/test-owner/tiny-GGUF:Q8_0", stream: true })) seen.push(p);
    expect(seen[0].status).toBe("pulling manifest");
    expect(seen.at(-1).status).toBe("success");
    const progress = seen.filter(p => p.total !== undefined);
    expect(progress.at(-1).completed).toBe(progress.at(-1).total);
    expect(existsSync(join(home, "models", "tiny-stories-Q8_0.gguf"))).toBe(true);
    expect((await client.list()).models.map(m => m.name)).toContain("tiny-stories-Q8_0:latest");
    const answer = await client.generate({ model: "tiny-stories-Q8_0", prompt: "Once", raw: true, options: greedy, stream: false });
    expect(answer.done).toBe(true);
    // Pulled again, not streamed: already there, success at once.
    expect((await client.pull({ model: "hf.co/test-owner/tiny-GGUF:Q8_0", stream: false })).status).toBe("success");
    await client.delete({ model: "tiny-stories-Q8_0:latest" });
    expect(existsSync(join(home, "models", "tiny-stories-Q8_0.gguf"))).toBe(false);
    expect((await client.list()).models.map(m => m.name)).not.toContain("tiny-stories-Q8_0:latest");
    const refused = await client.delete({ model: STORIES }).catch(e => e);
    expect(refused.status_code).toBe(400);
    expect(refused.error).toContain("Hearth deletes only models it pulled or imported");
    expect(existsSync(defaultModel)).toBe(true);
    const ollamaLibrary = await client.pull({ model: "llama3.2", stream: false }).catch(e => e);
    expect(ollamaLibrary.status_code).toBe(400);
    expect(ollamaLibrary.error).toContain("hf.co/OWNER/REPO:QUANT");
  });

  test("pull of a vision repository brings its projector beside the model (a second layer of progress); the model then takes images", async () => {
    const seen: any[] = [];
    for await (const p of await client.pull({ model: "hf.co/test-owner/tiny-vision-GGUF:Q8_0", stream: true })) seen.push(p);
    const layers = [...new Set(seen.filter(p => p.total !== undefined).map(p => p.digest))];
    expect(layers).toEqual(["tiny-vision-Q8_0.gguf", "tiny-vision-Q8_0-mmproj-F16.gguf"]);
    for (const digest of layers) {
      const last = seen.filter(p => p.digest === digest).at(-1);
      expect(last.status).toBe(`pulling ${digest}`);
      expect(last.completed).toBe(last.total);
    }
    expect(seen.map(p => p.status).slice(-3)).toEqual(["verifying sha256 digest", "writing manifest", "success"]);
    const projector = join(home, "models", "tiny-vision-Q8_0-mmproj-F16.gguf");
    expect(readFileSync(projector).equals(readFileSync(join(visionDir, "mmproj-model.gguf")))).toBe(true);
    // The projector is no model of its own; the model pairs with it and takes an image.
    const names = (await client.list()).models.map(m => m.name);
    expect(names).toContain("tiny-vision-Q8_0:latest");
    expect(names.filter(n => n.includes("mmproj"))).toEqual([]);
    const b64 = Buffer.from(png(40, 30, (x, y) => [(x * 6) % 256, (y * 8) % 256, 90])).toString("base64");
    const answer = await client.chat({ model: "tiny-vision-Q8_0", messages: [{ role: "user", content: "What is this?", images: [b64] }], options: greedy, stream: false });
    expect(answer.done).toBe(true);
    expect((await client.show({ model: "tiny-vision-Q8_0" })).capabilities).toContain("vision");
    // Pulled again: both files are there, nothing is downloaded.
    const again: any[] = [];
    for await (const p of await client.pull({ model: "hf.co/test-owner/tiny-vision-GGUF:Q8_0", stream: true })) again.push(p);
    expect(again.map(p => p.status)).toEqual(["pulling manifest", "writing manifest", "success"]);
  });

  test("copy: a new name that answers, kept in aliases.json", async () => {
    await client.copy({ source: `${STORIES}:latest`, destination: "my-stories" });
    expect(JSON.parse(readFileSync(join(home, "aliases.json"), "utf8"))).toEqual({ "my-stories": STORIES });
    const a = await client.chat({ model: "my-stories:latest", messages, options: greedy, stream: false });
    const b = await client.chat({ model: STORIES, messages, options: greedy, stream: false });
    expect(a.message.content).toBe(b.message.content);
  });

  test("keep_alive: 0 unloads after the request (gone from ps), a duration sets expires_at, -1 keeps it", async () => {
    await client.generate({ model: STORIES, prompt: "Once", options: greedy, stream: false, keep_alive: "10m" });
    const kept: any = (await client.ps()).models.find(m => m.name === `${STORIES}:latest`)!;
    const expires = Date.parse(kept.expires_at as unknown as string);
    expect(expires - Date.now()).toBeGreaterThan(9 * 60_000);
    expect(expires - Date.now()).toBeLessThanOrEqual(10 * 60_000);
    // --ctx-size 2048, within the model's trained context (stories260K: 128).
    const trained = ((await client.show({ model: STORIES })) as any).model_info["llama.context_length"] as number;
    expect(kept.context_length).toBe(Math.min(2048, trained));
    expect(kept.size_vram).toBe(0);
    await client.generate({ model: STORIES, prompt: "Once", options: greedy, stream: true, keep_alive: 0 }).then(async s => {
      for await (const _ of s);
    });
    expect((await client.ps()).models.map(m => m.name)).not.toContain(`${STORIES}:latest`);
    await client.generate({ model: STORIES, prompt: "", keep_alive: -1 });
    const forever = (await client.ps()).models.find(m => m.name === `${STORIES}:latest`)!;
    expect(Date.parse(forever.expires_at as unknown as string)).toBeGreaterThan(Date.now() + 100 * 365 * 86400_000);
    // Seconds past what a Date holds (the HTTP fuzz's keep_alive 1e308 made ps a 500): as long.
    await client.generate({ model: STORIES, prompt: "", keep_alive: 1e308 });
    const farOff = (await client.ps()).models.find(m => m.name === `${STORIES}:latest`)!;
    expect(farOff.expires_at).toEqual(forever.expires_at);
    const load = await client.generate({ model: STORIES, prompt: "", stream: false, keep_alive: 0 });
    expect(load.done_reason).toBe("unload");
    expect((await client.ps()).models.map(m => m.name)).not.toContain(`${STORIES}:latest`);
  });

  test("an unknown model is a ResponseError 404", async () => {
    const err = await client.chat({ model: "no-such-model", messages }).catch(e => e);
    expect(err.name).toBe("ResponseError");
    expect(err.status_code).toBe(404);
    expect(err.error).toBe('model "no-such-model" not found, try pulling it first');
  });
});

describe("timings", () => {
  test("real and consistent: positive, total covers the parts, eval_count is the tokens generated", async () => {
    const r = await client.chat({ model: STORIES, messages, options: greedy, stream: false });
    for (const k of ["total_duration", "load_duration", "prompt_eval_duration", "eval_duration", "prompt_eval_count", "eval_count"] as const) expect(r[k]).toBeGreaterThan(0);
    expect(r.total_duration).toBeGreaterThanOrEqual(r.load_duration + r.prompt_eval_duration + r.eval_duration);
    expect(r.eval_count).toBe(24); // num_predict 24 on a model that does not stop that soon
    expect(r.done_reason).toBe("length");
    // The same prompt through the OpenAI route counts the same prompt tokens.
    const openai: any = await postJson(`${server.url}/v1/chat/completions`, { model: STORIES, messages, max_tokens: 24, temperature: 0 }).then(res => res.json());
    expect(r.prompt_eval_count).toBe(openai.usage.prompt_tokens);
  });
});

describe("parity with the OpenAI routes at temperature 0", () => {
  test("/api/chat text equals /v1/chat/completions text (plain and thinking model)", async () => {
    for (const model of [STORIES, thinker]) {
      const ours = await client.chat({ model, messages, options: greedy, stream: false });
      const openai: any = await postJson(`${server.url}/v1/chat/completions`, { model, messages, max_tokens: 24, temperature: 0 }).then(res => res.json());
      expect(ours.message.content).toBe(openai.choices[0].message.content ?? "");
      expect(ours.message.thinking ?? "").toBe(openai.choices[0].message.reasoning_content ?? "");
    }
  });

  test("raw /api/generate equals /v1/completions", async () => {
    const prompt = "Once upon a time, there was";
    const ours = await client.generate({ model: STORIES, prompt, raw: true, options: greedy, stream: false });
    const openai: any = await postJson(`${server.url}/v1/completions`, { model: STORIES, prompt, max_tokens: 24, temperature: 0 }).then(res => res.json());
    expect(ours.response).toBe(openai.choices[0].text);
  });
});

describe("frameworks", () => {
  test("LangChain ChatOllama: invoke and stream agree", async () => {
    const chat = new ChatOllama({ baseUrl: server.url, model: STORIES, temperature: 0, numPredict: 24 });
    const whole = await chat.invoke("Once upon a time");
    expect(typeof whole.content).toBe("string");
    expect((whole.content as string).length).toBeGreaterThan(0);
    let text = "";
    for await (const chunk of await chat.stream("Once upon a time")) text += chunk.content as string;
    expect(text).toBe(whole.content as string);
    expect(whole.usage_metadata?.output_tokens).toBe(24);
  });

  test("the AI SDK's Ollama provider: generateText equals /api/chat, its settings given either way", async () => {
    const ollama = createOllama({ baseURL: `${server.url}/api` });
    const direct = await client.chat({ model: STORIES, messages, options: greedy, stream: false });
    // The SDK's own settings (the provider sends them beside `options`), and Ollama's options.
    const standard = await generateText({ model: ollama(STORIES), prompt: "Once upon a time", temperature: 0, maxOutputTokens: 24 });
    const native = await generateText({ model: ollama(STORIES), prompt: "Once upon a time", providerOptions: { ollama: { options: greedy } } });
    for (const r of [standard, native]) {
      expect(r.text).toBe(direct.message.content);
      expect(r.usage.outputTokens).toBe(24);
    }
  });
});
