// Vision: Hearth and llama-server --mmproj on the same tiny random vision models (a Qwen2.5-VL
// projector with M-RoPE positions, a Gemma 3 projector with non-causal image attention), built from
// the same llama.cpp source. Greedy tokens equal through OpenAI chat for one image and for two
// (PNG and JPEG); the Anthropic and Responses dialects give the same text; a resent image is read
// from the KV cache or the encoder's cache instead of being encoded again (/metrics); bad images
// are 400s and the runner keeps serving. Random weights give near-flat logits, so equal token
// sequences over 12 steps are a strong check of identical prompts and image embeddings.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dataUrl, jpegFixture, png, pngHeaderOnly } from "../helpers/images.ts";
import { postJson, startHearth, startLlamaServer, type Running } from "../helpers/server.ts";
import { visionModelDir } from "../helpers/vision-models.ts";

const common = ["-c", "4096", "-np", "1", "-t", "1", "-b", "512"];
const imageA = png(40, 30, (x, y) => [(x * 6) % 256, (y * 8) % 256, (x * y) % 256]);
const imageB = png(32, 32, (x, y) => [255 - x * 7, y * 7, 128]);
let jpeg: Uint8Array;

const userTurn = (...parts: Array<string | { url: string }>) => ({
  role: "user",
  content: parts.map(p => (typeof p === "string" ? { type: "text", text: p } : { type: "image_url", image_url: { url: p.url } })),
});

async function chat(server: Running, messages: unknown[], extra: Record<string, unknown> = {}) {
  const res = await postJson(`${server.url}/v1/chat/completions`, { model: "model", messages, max_tokens: 12, temperature: 0, logprobs: true, ...extra });
  const json: any = await res.json();
  if (res.status !== 200) throw new Error(`${res.status} ${JSON.stringify(json)}`);
  const choice = json.choices[0];
  return { text: choice.message.content as string, tokens: (choice.logprobs.content as any[]).map(c => c.bytes as number[]), usage: json.usage };
}

/**
 * The same greedy tokens: the same pieces' bytes in order and as many tokens. (llama-server's
 * logprobs carry a piece that ends inside a UTF-8 character over into the next entry's bytes, so
 * the entries themselves may be cut differently; Hearth's are each token's whole piece.)
 */
function expectSameTokens(ours: { tokens: number[][]; text: string; usage: any }, theirs: { tokens: number[][]; text: string; usage: any }) {
  expect(ours.tokens.flat()).toEqual(theirs.tokens.flat());
  expect(ours.text).toBe(theirs.text);
  expect(ours.usage.completion_tokens).toBe(theirs.usage.completion_tokens);
}

async function metric(server: Running, name: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\d+)`, "m").exec(text)?.[1] ?? NaN);
}

describe("Qwen2.5-VL projector (M-RoPE)", () => {
  let hearth: Running;
  let reference: Running;
  let dir: string;
  beforeAll(async () => {
    dir = await visionModelDir("qwen2.5vl");
    jpeg = await jpegFixture();
    // A second id for the same text model in a folder without a projector: the text-only baseline.
    const plain = mkdtempSync(join(tmpdir(), "hearth-vision-plain-"));
    symlinkSync(join(dir, "model.gguf"), join(plain, "plain.gguf"));
    [hearth, reference] = await Promise.all([
      // The projector is found beside the model (no --mmproj): the pairing by metadata.
      startHearth(["--model", join(dir, "model.gguf"), "--model", join(plain, "plain.gguf"), ...common]),
      startLlamaServer(["-m", join(dir, "model.gguf"), "--mmproj", join(dir, "mmproj-model.gguf"), ...common, "--no-warmup"]),
    ]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([hearth?.stop(), reference?.stop()]);
  });

  test("/v1/models and llama-server's /props say the paired model takes images; the other does not", async () => {
    const json: any = await (await fetch(`${hearth.url}/v1/models/model`)).json();
    expect(json.meta.vision).toBe(true);
    const props: any = await (await fetch(`${hearth.url}/props?model=model`)).json();
    expect(props.modalities).toEqual({ vision: true, audio: false });
    await postJson(`${hearth.url}/v1/chat/completions`, { model: "plain", messages: [{ role: "user", content: "hi" }], max_tokens: 1 });
    expect(((await (await fetch(`${hearth.url}/v1/models/plain`)).json()) as any).meta.vision).toBe(false);
  });

  test("one PNG: the same greedy tokens as llama-server --mmproj", async () => {
    const messages = [userTurn("What is in this picture?", { url: dataUrl(imageA) })];
    const [ours, theirs] = await Promise.all([chat(hearth, messages), chat(reference, messages)]);
    expect(ours.tokens.length).toBe(12);
    expectSameTokens(ours, theirs);
    // An M-RoPE image takes fewer positions than embeddings: usage counts the embeddings, as llama-server does.
    expect(ours.usage.prompt_tokens).toBe(theirs.usage.prompt_tokens);
  });

  test("two images, PNG and JPEG, interleaved with text: the same greedy tokens", async () => {
    const messages = [userTurn("Compare", { url: dataUrl(imageB) }, "with", { url: dataUrl(jpeg, "image/jpeg") }, "please.")];
    const [ours, theirs] = await Promise.all([chat(hearth, messages), chat(reference, messages)]);
    expectSameTokens(ours, theirs);
    // A different image changes the answer (the image really reaches the model).
    const other = await chat(hearth, [userTurn("Compare", { url: dataUrl(imageA) }, "with", { url: dataUrl(jpeg, "image/jpeg") }, "please.")]);
    expect(other.tokens).not.toEqual(ours.tokens);
  });

  test("an image-only message and an image in an earlier turn match too", async () => {
    const messages = [
      { role: "user", content: [{ type: "image_url", image_url: { url: dataUrl(jpeg, "image/jpeg") } }] },
      { role: "assistant", content: "A checkerboard." },
      { role: "user", content: "And its colours?" },
    ];
    const [ours, theirs] = await Promise.all([chat(hearth, messages), chat(reference, messages)]);
    expectSameTokens(ours, theirs);
  });

  test("Anthropic and Responses give the same text as OpenAI chat", async () => {
    const b64 = Buffer.from(imageA).toString("base64");
    const openai = await chat(hearth, [userTurn("Describe it.", { url: dataUrl(imageA) })]);
    const anthropic: any = await (
      await postJson(`${hearth.url}/v1/messages`, {
        model: "model", max_tokens: 12, temperature: 0,
        messages: [{ role: "user", content: [{ type: "text", text: "Describe it." }, { type: "image", source: { type: "base64", media_type: "image/png", data: b64 } }] }],
      })
    ).json();
    const responses: any = await (
      await postJson(`${hearth.url}/v1/responses`, {
        model: "model", max_output_tokens: 12, temperature: 0,
        input: [{ role: "user", content: [{ type: "input_text", text: "Describe it." }, { type: "input_image", image_url: dataUrl(imageA) }] }],
      })
    ).json();
    expect(anthropic.content[0].text).toBe(openai.text);
    expect(responses.output.find((o: any) => o.type === "message").content[0].text).toBe(openai.text);
    // The token counts count the image's embeddings too: what the answers' usage reports.
    const counted: any = await (
      await postJson(`${hearth.url}/v1/messages/count_tokens`, {
        model: "model",
        messages: [{ role: "user", content: [{ type: "text", text: "Describe it." }, { type: "image", source: { type: "base64", media_type: "image/png", data: b64 } }] }],
      })
    ).json();
    expect(counted.input_tokens).toBe(anthropic.usage.input_tokens + anthropic.usage.cache_read_input_tokens);
    expect(counted.input_tokens).toBe(openai.usage.prompt_tokens);
  });

  test("a second turn resending the image reads it from the KV cache and does not encode it again", async () => {
    const image = png(28, 28, (x, y) => [x * 9, 200, y * 9]);
    const first = [userTurn("Look:", { url: dataUrl(image) }, "What is it?")];
    const encodes0 = await metric(hearth, "hearth_image_encodes_total");
    const a = await chat(hearth, first);
    expect(await metric(hearth, "hearth_image_encodes_total")).toBe(encodes0 + 1);
    const second = [...first, { role: "assistant", content: a.text }, { role: "user", content: "Tell me more." }];
    const b = await chat(hearth, second);
    // Everything up to the first new token is cached: the first turn's prompt, its image included.
    expect(b.usage.prompt_tokens_details.cached_tokens).toBeGreaterThanOrEqual(a.usage.prompt_tokens - 1);
    expect(b.usage.prompt_tokens).toBe((await chat(reference, second)).usage.prompt_tokens);
    expect(await metric(hearth, "hearth_image_encodes_total")).toBe(encodes0 + 1);
    // The same tokens as llama-server for the resent conversation.
    expectSameTokens(b, await chat(reference, second));
  });

  test("an image whose KV was dropped is decoded from the encoder's cache, not encoded again", async () => {
    const image = png(30, 30, (x, y) => [x * 8, y * 8, 60]);
    const encodes0 = await metric(hearth, "hearth_image_encodes_total");
    const hits0 = await metric(hearth, "hearth_image_cache_hits_total");
    const ask = [userTurn("First:", { url: dataUrl(image) }, "?")];
    const a = await chat(hearth, ask);
    // Another conversation takes the only slot, and its KV with it.
    await chat(hearth, [userTurn("Other:", { url: dataUrl(imageB) }, "?")]);
    const again = await chat(hearth, ask);
    expect(again.tokens).toEqual(a.tokens);
    expect(await metric(hearth, "hearth_image_cache_hits_total")).toBeGreaterThan(hits0);
    // imageB was encoded by the earlier tests already: only `image` is new.
    expect(await metric(hearth, "hearth_image_encodes_total")).toBe(encodes0 + 1);
  });

  test("text-only requests to the vision model reuse the prefix as the same model without a projector does", async () => {
    const history = [
      { role: "system", content: "You are terse. ".repeat(20) },
      { role: "user", content: "Say something about rivers." },
    ];
    const cachedOn = async (model: string) => {
      const body = { model, messages: history, max_tokens: 4, temperature: 0 };
      await postJson(`${hearth.url}/v1/chat/completions`, body);
      const again: any = await (await postJson(`${hearth.url}/v1/chat/completions`, { ...body, messages: [...history, { role: "assistant", content: "Rivers flow." }, { role: "user", content: "More." }] })).json();
      return again.usage.prompt_tokens_details.cached_tokens as number;
    };
    const vision = await cachedOn("model");
    const plain = await cachedOn("plain");
    expect(vision).toBeGreaterThan(80);
    expect(vision).toBe(plain);
  });

  test("bad images are 400s naming the part, and the runner keeps serving", async () => {
    const truncated = imageA.subarray(0, imageA.length - 30);
    const cases: Array<[string, string]> = [
      [dataUrl(truncated), "could not be decoded"],
      [dataUrl(new TextEncoder().encode("this is not an image at all")), "is not a PNG, JPEG, GIF or BMP image"],
      [dataUrl(pngHeaderOnly(20000, 20000)), "20000×20000"],
      ["data:image/png;base64,@@@", "base64"],
    ];
    for (const [url, words] of cases) {
      const res = await postJson(`${hearth.url}/v1/chat/completions`, { model: "model", messages: [userTurn("Hi", { url })], max_tokens: 4 });
      expect(res.status).toBe(400);
      const body: any = await res.json();
      expect(body.error.message).toContain(words);
      expect(body.error.param).toBe("messages[0].content[1]");
    }
    // A cut file passes the header check and fails in the runner's decoder: still a 400 naming the
    // part, also where the API counts the prompt's tokens before sending it (Anthropic, Responses).
    const cut = Buffer.from(truncated).toString("base64");
    const anthropic = await postJson(`${hearth.url}/v1/messages`, {
      model: "model", max_tokens: 4,
      messages: [{ role: "user", content: [{ type: "text", text: "Hi" }, { type: "image", source: { type: "base64", media_type: "image/png", data: cut } }] }],
    });
    expect(anthropic.status).toBe(400);
    expect(((await anthropic.json()) as any).error.message).toContain("messages[0].content[1] could not be decoded");
    const count = await postJson(`${hearth.url}/v1/responses/input_tokens`, { model: "model", input: [{ role: "user", content: [{ type: "input_image", image_url: `data:image/png;base64,${cut}` }] }] });
    expect(count.status).toBe(400);
    expect(((await count.json()) as any).error.param).toBe("input[0].content[0]");
    const ok = await chat(hearth, [userTurn("Still there?", { url: dataUrl(imageA) })]);
    expect(ok.tokens.length).toBe(12);
    const health: any = await (await fetch(`${hearth.url}/health`)).json();
    expect(health.models.find((m: any) => m.id === "model").state).toBe("loaded");
  });

  test("the model without a projector answers 400 'model has no vision input' in each dialect's envelope", async () => {
    const url = dataUrl(imageA);
    const openai = await postJson(`${hearth.url}/v1/chat/completions`, { model: "plain", messages: [userTurn("Hi", { url })] });
    expect(openai.status).toBe(400);
    expect(((await openai.json()) as any).error).toMatchObject({ message: "model has no vision input", param: "messages[0].content[1]" });
    const anthropic = await postJson(`${hearth.url}/v1/messages`, {
      model: "plain", max_tokens: 4,
      messages: [{ role: "user", content: [{ type: "image", source: { type: "base64", media_type: "image/png", data: Buffer.from(imageA).toString("base64") } }] }],
    });
    expect(anthropic.status).toBe(400);
    expect(await anthropic.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error", message: "model has no vision input" } });
    const responses = await postJson(`${hearth.url}/v1/responses`, { model: "plain", input: [{ role: "user", content: [{ type: "input_image", image_url: url }] }] });
    expect(responses.status).toBe(400);
    expect(((await responses.json()) as any).error.message).toBe("model has no vision input");
  });
});

describe("Gemma 3 projector (non-causal image attention)", () => {
  let hearth: Running;
  let reference: Running;
  beforeAll(async () => {
    const dir = await visionModelDir("gemma3");
    jpeg ??= await jpegFixture();
    [hearth, reference] = await Promise.all([
      startHearth(["--model", join(dir, "model.gguf"), "--mmproj", join(dir, "mmproj-model.gguf"), ...common]),
      startLlamaServer(["-m", join(dir, "model.gguf"), "--mmproj", join(dir, "mmproj-model.gguf"), ...common, "--no-warmup"]),
    ]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([hearth?.stop(), reference?.stop()]);
  });

  test("one JPEG and two images: the same greedy tokens and prompt size as llama-server --mmproj", async () => {
    for (const messages of [
      [userTurn("What is this?", { url: dataUrl(jpeg, "image/jpeg") })],
      [userTurn({ url: dataUrl(imageA) }, "then", { url: dataUrl(jpeg, "image/jpeg") })],
    ]) {
      const [ours, theirs] = await Promise.all([chat(hearth, messages), chat(reference, messages)]);
      expectSameTokens(ours, theirs);
      // Without M-RoPE an image's positions are its tokens: the prompt counts agree too.
      expect(ours.usage.prompt_tokens).toBe(theirs.usage.prompt_tokens);
    }
  });
});
