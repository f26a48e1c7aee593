// POST /v1/embeddings on a random-weight BERT (BGE vocabulary, mean pooling): the same vectors as
// llama-server --embeddings, OpenAI's shapes through the official SDK, and clear 400s.
import { afterAll, beforeAll, expect, test } from "bun:test";
import OpenAI from "openai";
import { generatedModel } from "../helpers/models.ts";
import { defaultModel } from "../helpers/paths.ts";
import { postJson, startHearth, startLlamaServer, type Running } from "../helpers/server.ts";

let hearth: Running;
let reference: Running;
let client: OpenAI;
let bert: string;
const bertId = () => bert.split("/").pop()!.replace(/\.gguf$/, "");

beforeAll(async () => {
  bert = await generatedModel("tiny-bert");
  [hearth, reference] = await Promise.all([
    startHearth(["--model", bert, "--model", defaultModel, "--threads", "1"]),
    startLlamaServer(["-m", bert, "--embeddings", "-c", "512", "-t", "1"]),
  ]);
  client = new OpenAI({ baseURL: `${hearth.url}/v1`, apiKey: "none", maxRetries: 0 });
});
afterAll(async () => {
  await Promise.all([hearth?.stop(), reference?.stop()]);
});

const inputs = ["hello world", "The quick brown fox jumps over the lazy dog.", "embeddings from a tiny random BERT"];

function maxDiff(a: number[], b: number[]): number {
  expect(a.length).toBe(b.length);
  return Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));
}

test("vectors equal llama-server's for the same inputs (pooled, L2-normalized)", async () => {
  const body = { model: bertId(), input: inputs };
  const [ours, theirs]: any[] = await Promise.all([
    postJson(`${hearth.url}/v1/embeddings`, body).then(r => r.json()),
    postJson(`${reference.url}/v1/embeddings`, body).then(r => r.json()),
  ]);
  expect(ours.object).toBe("list");
  expect(ours.data.map((d: any) => d.index)).toEqual([0, 1, 2]);
  ours.data.forEach((d: any, i: number) => {
    expect(d.object).toBe("embedding");
    expect(d.embedding).toHaveLength(64);
    expect(maxDiff(d.embedding, theirs.data[i].embedding)).toBeLessThan(1e-4);
    const norm = Math.hypot(...d.embedding);
    expect(norm).toBeCloseTo(1, 5);
  });
  expect(ours.usage.prompt_tokens).toBe(theirs.usage.prompt_tokens);
  expect(ours.usage.total_tokens).toBe(ours.usage.prompt_tokens);
  // Different inputs, different vectors (the comparison above is not between constants).
  expect(maxDiff(ours.data[0].embedding, ours.data[1].embedding)).toBeGreaterThan(1e-3);
});

test("/v1/models tells embedding models apart: pooling and dimensions", async () => {
  for (const model of [bertId(), "stories260K"]) expect((await postJson(`${hearth.url}/models/load`, { model })).status).toBe(200);
  const list: any = await (await fetch(`${hearth.url}/v1/models`)).json();
  const meta = (id: string) => list.data.find((m: any) => m.id === id).meta;
  expect(meta(bertId()).embedding).toEqual({ pooling: "mean", dimensions: 64 });
  expect(meta("stories260K").embedding).toBeUndefined();
  expect(meta("stories260K").max_choices).toBe(16);
});

test("token-id inputs give the same vector as their text", async () => {
  const tok: any = await (await postJson(`${hearth.url}/tokenize`, { model: bertId(), content: inputs[1], add_special: true })).json();
  const [byText, byIds, byIdArrays]: any[] = await Promise.all(
    [inputs[1], tok.tokens, [tok.tokens]].map(input => postJson(`${hearth.url}/v1/embeddings`, { model: bertId(), input }).then(r => r.json())),
  );
  expect(maxDiff(byIds.data[0].embedding, byText.data[0].embedding)).toBeLessThan(1e-6);
  expect(maxDiff(byIdArrays.data[0].embedding, byText.data[0].embedding)).toBeLessThan(1e-6);
  expect(byIds.usage.prompt_tokens).toBe(tok.tokens.length);
});

test("openai SDK: embeddings.create, float and base64", async () => {
  const float = await client.embeddings.create({ model: bertId(), input: inputs, encoding_format: "float" });
  const b64 = await client.embeddings.create({ model: bertId(), input: inputs, encoding_format: "base64" });
  expect(float.data).toHaveLength(3);
  // The SDK hands base64 back as the string; it decodes to the same float32 values.
  b64.data.forEach((d, i) => {
    const bytes = Buffer.from(d.embedding as unknown as string, "base64");
    const decoded = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4));
    expect(decoded).toEqual(float.data[i]!.embedding.map(x => Math.fround(x)));
  });
  // Without encoding_format the SDK asks for base64 and decodes it itself.
  const auto = await client.embeddings.create({ model: bertId(), input: "hello world" });
  expect(maxDiff(auto.data[0]!.embedding, float.data[0]!.embedding)).toBeLessThan(1e-6);
  const same = await client.embeddings.create({ model: bertId(), input: "hello world", dimensions: 64 });
  expect(same.data[0]!.embedding).toHaveLength(64);
});

test("clear 400s: other dimensions, too long or no input, a generative model, chat on an embedding model", async () => {
  const cases: Array<[string, unknown, string]> = [
    ["/v1/embeddings", { model: bertId(), input: "hi", dimensions: 32 }, "dimensions"],
    ["/v1/embeddings", { model: bertId(), input: "word ".repeat(600) }, "input"],
    ["/v1/embeddings", { model: "stories260K", input: "hi" }, "model"],
    ["/v1/embeddings", { model: bertId(), input: [] }, "input"],
    ["/v1/chat/completions", { model: bertId(), messages: [{ role: "user", content: "hi" }] }, "model"],
    ["/v1/completions", { model: bertId(), prompt: "hi" }, "model"],
  ];
  for (const [path, body, param] of cases) {
    const res = await postJson(`${hearth.url}${path}`, body);
    const json: any = await res.json();
    expect([path, res.status, json.error?.param]).toEqual([path, 400, param]);
    expect(json.error.message.length).toBeGreaterThan(10);
  }
  const generative: any = await (await postJson(`${hearth.url}/v1/embeddings`, { model: "stories260K", input: "hi" })).json();
  expect(generative.error.message).toMatch(/cannot produce embeddings/);
  // The server is fine afterwards.
  expect((await postJson(`${hearth.url}/v1/embeddings`, { model: bertId(), input: "hi" })).status).toBe(200);
});
