// Image parts in every dialect, over a fake engine whose model takes images: what reaches the
// engine (image segments where the images sit, the bytes, the part's name), the same prompt from
// OpenAI chat, Anthropic and Responses, marker text typed by a user staying text, the URL policy
// (off by default; never loopback or private addresses; size and redirect limits), and the
// header checks. No model needed; test/server/vision-parity.test.ts runs the real thing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createApp, type AppOptions } from "../../src/api/app.ts";
import { fetchImage, isNonPublicAddress } from "../../src/api/chat-core/image-fetch.ts";
import type { AcquiredModel } from "../../src/api/model-source.ts";
import { readImageHeader, imageHeaderProblem } from "../../src/engine/image-header.ts";
import type { GenerateRequest, PromptSegment } from "../../src/engine/types.ts";
import { FakeEngine, FakeModels } from "../helpers/fake-engine.ts";
import { dataUrl, jpegFixture, png, pngHeaderOnly } from "../helpers/images.ts";

class VisionModels extends FakeModels {
  override async acquire(name?: string | null): Promise<AcquiredModel> {
    const m = await super.acquire(name);
    return { ...m, info: { ...m.info, vision: true } };
  }
}

function app(options: Partial<AppOptions> = {}, vision = true) {
  const engine = new FakeEngine();
  const models = vision ? new VisionModels(engine) : new FakeModels(engine);
  const a = createApp(models, { apiKeys: [], cors: null, maxBodyBytes: 32 << 20, ...options });
  const post = (path: string, body: unknown) =>
    a.handle(new Request(`http://localhost${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }));
  return { engine, post };
}

const image = png(8, 6, (x, y) => [x * 30, y * 40, 7]);
const b64 = Buffer.from(image).toString("base64");

/** The prompt as text with each image segment written as [image N]. */
const shown = (r: GenerateRequest) => (r.prompt as PromptSegment[]).map(s => (s.image !== undefined ? `[image ${s.image}]` : s.text)).join("");

describe("what reaches the engine", () => {
  test("OpenAI image_url (data: URL): an image segment where the part was, its bytes and its name", async () => {
    const { engine, post } = app();
    const res = await post("/v1/chat/completions", {
      messages: [{ role: "user", content: [{ type: "text", text: "What is this?" }, { type: "image_url", image_url: { url: dataUrl(image) } }, { type: "text", text: "Be brief." }] }],
    });
    expect(res.status).toBe(200);
    const r = engine.requests[0]!;
    expect(r.images).toEqual([{ data: b64, name: "messages[0].content[1]" }]);
    // llama-server's joining: text parts on their own lines, none beside an image.
    expect(shown(r)).toContain("What is this?[image 0]Be brief.");
    expect((r.prompt as PromptSegment[]).filter(s => s.image !== undefined)).toEqual([{ text: "", parseSpecial: false, image: 0 }]);
  });

  test("Anthropic image blocks and Responses input_image give the same prompt and images as OpenAI chat", async () => {
    const openai = app();
    await openai.post("/v1/chat/completions", { max_tokens: 5, messages: [{ role: "user", content: [{ type: "text", text: "Look" }, { type: "image_url", image_url: { url: dataUrl(image) } }] }] });
    const anthropic = app();
    const ares = await anthropic.post("/v1/messages", {
      model: "fake-model", max_tokens: 5,
      messages: [{ role: "user", content: [{ type: "text", text: "Look" }, { type: "image", source: { type: "base64", media_type: "image/png", data: b64 } }] }],
    });
    expect(ares.status).toBe(200);
    const responses = app();
    const rres = await responses.post("/v1/responses", { model: "fake-model", max_output_tokens: 5, input: [{ role: "user", content: [{ type: "input_text", text: "Look" }, { type: "input_image", image_url: dataUrl(image) }] }] });
    expect(rres.status).toBe(200);
    const o = openai.engine.requests[0]!;
    for (const other of [anthropic.engine.requests[0]!, responses.engine.requests[0]!]) {
      expect(shown(other)).toBe(shown(o));
      expect(other.images!.map(i => i.data)).toEqual(o.images!.map(i => i.data));
    }
  });

  test("an image inside an Anthropic tool_result reaches the tool turn", async () => {
    const { engine, post } = app();
    const res = await post("/v1/messages", {
      model: "fake-model", max_tokens: 5,
      messages: [
        { role: "user", content: "Take a screenshot." },
        { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "screenshot", input: {} }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: [{ type: "text", text: "Here:" }, { type: "image", source: { type: "base64", media_type: "image/png", data: b64 } }] }] },
      ],
    });
    expect(res.status).toBe(200);
    const r = engine.requests[0]!;
    expect(r.images).toEqual([{ data: b64, name: "messages[2].content[0].content[1]" }]);
    expect(shown(r)).toContain("Here:[image 0]");
  });

  test("two images are numbered in prompt order; the same image twice is sent twice", async () => {
    const { engine, post } = app();
    const jpeg = await jpegFixture();
    await post("/v1/chat/completions", {
      messages: [
        { role: "user", content: [{ type: "image_url", image_url: { url: dataUrl(jpeg, "image/jpeg") } }, { type: "text", text: "and" }, { type: "image_url", image_url: { url: dataUrl(image) } }] },
        { role: "assistant", content: "ok" },
        { role: "user", content: [{ type: "image_url", image_url: { url: dataUrl(image) } }] },
      ],
    });
    const r = engine.requests[0]!;
    expect(r.images!.map(i => i.name)).toEqual(["messages[0].content[0]", "messages[0].content[2]", "messages[2].content[0]"]);
    expect(shown(r)).toMatch(/\[image 0\]and\[image 1\][\s\S]*\[image 2\]/);
  });

  test("a user typing a media marker writes text: no image segment, the text kept", async () => {
    const { engine, post } = app();
    const typed = "<__media__> <__hearth_image_0__> <__hearth_image_00000000000000000000000000000000_0__>";
    await post("/v1/chat/completions", { messages: [{ role: "user", content: [{ type: "text", text: typed }, { type: "image_url", image_url: { url: dataUrl(image) } }] }] });
    const r = engine.requests[0]!;
    expect(r.images).toHaveLength(1);
    expect((r.prompt as PromptSegment[]).filter(s => s.image !== undefined)).toHaveLength(1);
    expect(shown(r)).toContain(typed);
  });

  test("/apply-template shows an image as <__media__>: Hearth's own markers never leave the process", async () => {
    const { post } = app();
    const res = await post("/apply-template", { messages: [{ role: "user", content: [{ type: "text", text: "See" }, { type: "image_url", image_url: { url: dataUrl(image) } }] }] });
    const body: any = await res.json();
    expect(body.prompt).toContain("See<__media__>");
    expect(body.prompt).not.toContain("hearth_image");
  });

  test("text-only requests carry no images and keep their prompt as before", async () => {
    const { engine, post } = app();
    await post("/v1/chat/completions", { messages: [{ role: "user", content: [{ type: "text", text: "a" }, { type: "text", text: "b" }] }] });
    expect(engine.requests[0]!.images).toBeUndefined();
    expect(shown(engine.requests[0]!)).toContain("ab");
  });
});

describe("refusals", () => {
  test("a model without a projector: 400 'model has no vision input' naming the part, in each envelope", async () => {
    const { post } = app({}, false);
    const openai: any = await (await post("/v1/chat/completions", { messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: dataUrl(image) } }] }] })).json();
    expect(openai.error).toMatchObject({ message: "model has no vision input", param: "messages[0].content[0]", code: "model_has_no_vision" });
    const res = await post("/v1/messages", { model: "fake-model", max_tokens: 4, messages: [{ role: "user", content: [{ type: "image", source: { type: "base64", media_type: "image/png", data: b64 } }] }] });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error", message: "model has no vision input" } });
  });

  test.each([
    ["not an image", dataUrl(new TextEncoder().encode("hello world")), "is not a PNG, JPEG, GIF or BMP image"],
    ["a 20000×20000 header", dataUrl(pngHeaderOnly(20000, 20000)), "is 20000×20000 pixels; the largest side Hearth takes is 8192"],
    ["broken base64", "data:image/png;base64,@@@", "is not valid base64 image data"],
    ["a data: URL without base64", "data:image/png,abc", "must be a base64 data: URL"],
    ["an ftp URL", "ftp://example.com/a.png", "must be a data: URL or an http(s) URL"],
    ["an http URL with URLs off", "https://example.com/a.png", "image URLs are off on this server"],
  ])("%s → 400 naming the part", async (_what, url, words) => {
    const { engine, post } = app();
    const res = await post("/v1/chat/completions", { messages: [{ role: "user", content: [{ type: "text", text: "hi" }, { type: "image_url", image_url: { url } }] }] });
    expect(res.status).toBe(400);
    const body: any = await res.json();
    expect(body.error.message).toContain(words);
    expect(body.error.param).toBe("messages[0].content[1]");
    expect(engine.requests).toHaveLength(0);
  });

  test("with --allow-image-urls, loopback and private addresses are still refused", async () => {
    const { post } = app({ allowImageUrls: true });
    for (const url of ["http://127.0.0.1:9/a.png", "http://localhost:9/a.png", "http://10.1.2.3/a.png", "http://[::1]/a.png", "http://169.254.169.254/latest"]) {
      const res = await post("/v1/chat/completions", { messages: [{ role: "user", content: [{ type: "image_url", image_url: { url } }] }] });
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error.message).toContain("loopback or private address");
    }
  });
});

describe("fetching image URLs", () => {
  let origin: ReturnType<typeof Bun.serve>;
  const big = new Uint8Array(21 * 1024 * 1024);
  beforeAll(() => {
    origin = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        const path = new URL(req.url).pathname;
        if (path === "/a.png") return new Response(new Blob([image as Uint8Array<ArrayBuffer>]), { headers: { "content-type": "image/png" } });
        if (path === "/big.png") return new Response(new Blob([big]));
        if (path === "/to-private") return Response.redirect("http://10.0.0.1/a.png", 302);
        if (path === "/to-a") return Response.redirect("/a.png", 302);
        return new Response("no", { status: 404 });
      },
    });
  });
  afterAll(() => origin.stop(true));
  // The test server is on loopback: let exactly that address through.
  const policy = { allowUrls: true, allowAddresses: ["127.0.0.1"] };
  const url = (path: string) => `http://127.0.0.1:${origin.port}${path}`;

  test("an image is fetched, also through a redirect on a public hop", async () => {
    expect(Buffer.from(await fetchImage(url("/a.png"), "p", policy))).toEqual(Buffer.from(image));
    expect(Buffer.from(await fetchImage(url("/to-a"), "p", policy))).toEqual(Buffer.from(image));
  });

  test("past 20 MB, a redirect to a private address, an HTTP error → 400s naming the part", async () => {
    await expect(fetchImage(url("/big.png"), "messages[0].content[0]", policy)).rejects.toMatchObject({ status: 400, param: "messages[0].content[0]", message: expect.stringContaining("larger than") });
    await expect(fetchImage(url("/to-private"), "p", policy)).rejects.toMatchObject({ status: 400, message: expect.stringContaining("private address (10.0.0.1)") });
    await expect(fetchImage(url("/missing"), "p", policy)).rejects.toMatchObject({ status: 400, message: expect.stringContaining("HTTP 404") });
  });

  test("non-public addresses", () => {
    for (const ip of ["127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "fd00::1", "fe80::1", "::ffff:127.0.0.1"]) {
      expect(isNonPublicAddress(ip)).toBe(true);
    }
    for (const ip of ["8.8.8.8", "1.1.1.1", "172.32.0.1", "2606:4700::1111"]) expect(isNonPublicAddress(ip)).toBe(false);
  });
});

test("image headers: format and size from the first bytes", async () => {
  expect(readImageHeader(image)).toEqual({ format: "png", width: 8, height: 6 });
  expect(readImageHeader(await jpegFixture())).toEqual({ format: "jpeg", width: 48, height: 36 });
  expect(readImageHeader(Buffer.from("GIF89a\x10\x00\x20\x00", "latin1"))).toEqual({ format: "gif", width: 16, height: 32 });
  expect(readImageHeader(new TextEncoder().encode("RIFF....WEBPVP8 "))).toBeNull();
  expect(imageHeaderProblem(pngHeaderOnly(8192, 8192))).toBeNull();
  expect(imageHeaderProblem(pngHeaderOnly(8193, 1))).toContain("8193×1");
});
