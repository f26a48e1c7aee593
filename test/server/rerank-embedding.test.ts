// llama-server's /rerank (and its aliases, Jina/Cohere and TEI shapes) and native /embedding on
// Hearth, compared with llama-server on the same random-weight reranker and embedding model.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { generatedModel } from "../helpers/models.ts";
import { rerankerModel } from "../helpers/native-models.ts";
import { postJson, startHearth, startLlamaServer, type Running } from "../helpers/server.ts";

let rr: { hearth: Running; reference: Running };
let emb: { hearth: Running; reference: Running };
const flags = ["-c", "512", "-np", "1", "-t", "1"];

beforeAll(async () => {
  const [reranker, bert] = await Promise.all([rerankerModel(), generatedModel("tiny-bert")]);
  const [a, b, c, d] = await Promise.all([
    startHearth(["--model", reranker, ...flags]),
    startLlamaServer(["-m", reranker, ...flags, "-b", "512", "-ub", "512", "--reranking"]),
    startHearth(["--model", bert, ...flags]),
    startLlamaServer(["-m", bert, ...flags, "-b", "512", "-ub", "512", "--embeddings"]),
  ]);
  rr = { hearth: a, reference: b };
  emb = { hearth: c, reference: d };
});
afterAll(async () => {
  await Promise.all([rr?.hearth.stop(), rr?.reference.stop(), emb?.hearth.stop(), emb?.reference.stop()]);
});

const documents = ["A machine is a physical system.", "Learning is acquiring knowledge.", "Machine learning is a field of study.", "Paris est une grande ville."];

async function post(server: Running, path: string, body: object): Promise<[number, any]> {
  const res = await postJson(`${server.url}${path}`, body);
  return [res.status, await res.json()];
}

test("/rerank scores every document as llama-server does, sorted by relevance_score, with usage", async () => {
  const [[s1, ours], [s2, theirs]] = await Promise.all([post(rr.hearth, "/rerank", { query: "Machine learning is", documents }), post(rr.reference, "/rerank", { query: "Machine learning is", documents })]);
  expect([s1, s2]).toEqual([200, 200]);
  expect(ours.object).toBe("list");
  expect(ours.results.map((r: any) => r.index)).toEqual(theirs.results.map((r: any) => r.index));
  ours.results.forEach((r: any, i: number) => expect(r.relevance_score).toBeCloseTo(theirs.results[i].relevance_score, 5));
  const scores = ours.results.map((r: any) => r.relevance_score);
  expect(scores).toEqual([...scores].sort((a: number, b: number) => b - a));
  expect(ours.usage.prompt_tokens).toBe(theirs.usage.prompt_tokens);
});

test("the aliases, {text} documents, top_n and return_documents", async () => {
  for (const path of ["/v1/rerank", "/reranking", "/v1/reranking"]) {
    const [status, body] = await post(rr.hearth, path, { query: "q", documents: documents.map(text => ({ text })), top_n: 2, return_documents: true });
    expect(status).toBe(200);
    expect(body.results).toHaveLength(2);
    for (const r of body.results) expect(r.document.text).toBe(documents[r.index]!);
  }
});

test("TEI's shape: texts in, a bare sorted list of {index, score, text} out, as llama-server", async () => {
  const body = { query: "Machine learning is", texts: documents, return_text: true };
  const [[, ours], [, theirs]] = await Promise.all([post(rr.hearth, "/rerank", body), post(rr.reference, "/rerank", body)]);
  expect(Array.isArray(ours)).toBe(true);
  expect(ours.map((r: any) => [r.index, r.text])).toEqual(theirs.map((r: any) => [r.index, r.text]));
  ours.forEach((r: any, i: number) => expect(r.score).toBeCloseTo(theirs[i].score, 5));
});

test("bad rerank requests are 400s in llama-server's envelope; an embedding model is not a reranker", async () => {
  for (const documents of [[], null, 123, [1, 2, 3]]) {
    const [status, body] = await post(rr.hearth, "/rerank", { query: "q", documents });
    expect(status).toBe(400);
    expect(body.error.code).toBe(400);
  }
  const [status, body] = await post(emb.hearth, "/rerank", { query: "q", documents: ["a"] });
  expect(status).toBe(400);
  expect(body.error.message).toContain("not a reranker");
});

test("native /embedding: llama-server's shape and vectors, each embd_normalize", async () => {
  for (const embd_normalize of [-1, 0, 1, 2, 3]) {
    const body = { content: ["hello world", "a second input"], embd_normalize };
    const [[, ours], [, theirs]] = await Promise.all([post(emb.hearth, "/embedding", body), post(emb.reference, "/embedding", body)]);
    expect(ours.map((r: any) => r.index)).toEqual([0, 1]);
    ours.forEach((r: any, i: number) => {
      expect(r.embedding).toHaveLength(1);
      const [a, b] = [r.embedding[0], theirs[i].embedding[0]];
      expect(a).toHaveLength(b.length);
      // Relative: embd_normalize 0 scales to int16's range.
      a.forEach((x: number, j: number) => expect(Math.abs(x - b[j])).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(b[j]))));
    });
  }
});

test("a reranker makes no embeddings, on either embeddings route", async () => {
  const [status] = await post(rr.hearth, "/embedding", { content: "x" });
  expect(status).toBe(400);
  const [v1] = await post(rr.hearth, "/v1/embeddings", { input: "x" });
  expect(v1).toBe(400);
});
