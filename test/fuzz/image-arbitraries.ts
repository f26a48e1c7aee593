// Generated image parts for the vision fuzzer (image-fuzz.test.ts): real small PNGs of any shape
// (1×1, 2000×1 strips, squares), the JPEG fixture, and what a client or an attacker may send
// instead — cut files, random bytes, headers that claim 20000×20000 or 0×0, GIF and BMP
// signatures over garbage, broken data: URLs, URLs to private addresses — in each dialect's shape.
import fc from "fast-check";
import { dataUrl, png, pngHeaderOnly } from "../helpers/images.ts";

const smallPng = fc
  .record({ w: fc.integer({ min: 1, max: 48 }), h: fc.integer({ min: 1, max: 48 }), seed: fc.integer({ min: 0, max: 255 }) })
  .map(({ w, h, seed }) => png(w, h, (x, y) => [(x * 7 + seed) % 256, (y * 5 + seed) % 256, (x ^ y) % 256]));
/** Extreme aspect ratios: what resize code divides by. */
const stripPng = fc
  .record({ long: fc.integer({ min: 200, max: 2000 }), short: fc.integer({ min: 1, max: 3 }), tall: fc.boolean() })
  .map(({ long, short, tall }) => (tall ? png(short, long, () => [10, 20, 30]) : png(long, short, () => [30, 20, 10])));

export function imageBytes(jpeg: Uint8Array): fc.Arbitrary<Uint8Array> {
  const cut = (bytes: fc.Arbitrary<Uint8Array>) => fc.tuple(bytes, fc.double({ min: 0, max: 1, noNaN: true })).map(([b, f]) => b.subarray(0, Math.floor(b.length * f)));
  return fc.oneof(
    { weight: 4, arbitrary: smallPng },
    { weight: 1, arbitrary: stripPng },
    { weight: 1, arbitrary: fc.constant(jpeg) },
    { weight: 2, arbitrary: cut(fc.oneof(smallPng, fc.constant(jpeg))) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }) },
    { weight: 1, arbitrary: fc.constantFrom(pngHeaderOnly(20000, 20000), pngHeaderOnly(0, 0), pngHeaderOnly(8193, 4), pngHeaderOnly(1, 8192)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 100 }).map(b => Buffer.concat([Buffer.from("GIF89a"), b])) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 100 }).map(b => Buffer.concat([Buffer.from("BM"), b])) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 100 }).map(b => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), b])) },
  );
}

/** An image URL as a client sends it: mostly data: URLs of the bytes above, and broken or refused ones. */
export function imageUrl(jpeg: Uint8Array): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: imageBytes(jpeg).map(b => dataUrl(b)) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        "data:image/png,notbase64",
        "data:;base64,",
        "data:image/png;base64,@@@@",
        "data:image/png;base64",
        "http://127.0.0.1/x.png",
        "https://10.0.0.1/a.png",
        "http://[::1]/a.png",
        "ftp://example.com/a.png",
        "file:///etc/passwd",
        "",
      ),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  );
}

const text = fc.string({ maxLength: 24 });

/** /v1/chat/completions with image_url parts among text parts. */
export function chatImageBody(model: string, jpeg: Uint8Array) {
  const part = fc.oneof(
    { weight: 2, arbitrary: text.map(t => ({ type: "text", text: t })) },
    { weight: 3, arbitrary: imageUrl(jpeg).map(url => ({ type: "image_url", image_url: { url } })) },
    { weight: 1, arbitrary: fc.constantFrom({ type: "image_url" }, { type: "image_url", image_url: 5 }, { type: "image_url", image_url: { url: null } }) },
  );
  return fc.record({
    model: fc.constant(model),
    messages: fc.array(fc.record({ role: fc.constantFrom("user", "system", "assistant", "tool"), content: fc.array(part, { minLength: 1, maxLength: 4 }) }), { minLength: 1, maxLength: 2 }),
    max_tokens: fc.integer({ min: 1, max: 3 }),
    temperature: fc.constant(0),
    stream: fc.boolean(),
  });
}

/** /v1/messages with image blocks (base64 and url sources, broken ones), also inside tool_result. */
export function anthropicImageBody(model: string, jpeg: Uint8Array) {
  const source = fc.oneof(
    { weight: 4, arbitrary: imageBytes(jpeg).map(b => ({ type: "base64", media_type: "image/png", data: Buffer.from(b).toString("base64") })) },
    { weight: 1, arbitrary: imageUrl(jpeg).map(url => ({ type: "url", url })) },
    { weight: 1, arbitrary: fc.constantFrom({ type: "base64" }, { type: "file", file_id: "f" }, {}, { type: "base64", data: 7 }) },
  );
  const image = source.map(s => ({ type: "image", source: s }));
  const block = fc.oneof(text.map(t => ({ type: "text", text: t })), image);
  const toolResult = fc.array(block, { maxLength: 3 }).map(content => ({ type: "tool_result", tool_use_id: "t1", content }));
  const turns = fc.oneof(
    fc.array(block, { minLength: 1, maxLength: 3 }).map(content => [{ role: "user", content }]),
    toolResult.map(result => [
      { role: "user", content: "Use the tool." },
      { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "look", input: {} }] },
      { role: "user", content: [result] },
    ]),
  );
  return fc.record({ model: fc.constant(model), max_tokens: fc.integer({ min: 1, max: 3 }), messages: turns, stream: fc.boolean() });
}

/** /v1/responses with input_image parts. */
export function responsesImageBody(model: string, jpeg: Uint8Array) {
  const part = fc.oneof(
    text.map(t => ({ type: "input_text", text: t })),
    imageUrl(jpeg).map(image_url => ({ type: "input_image", image_url })),
    fc.constantFrom({ type: "input_image" }, { type: "input_image", file_id: "f" }, { type: "input_image", image_url: 3 }),
  );
  return fc.record({
    model: fc.constant(model),
    max_output_tokens: fc.integer({ min: 1, max: 3 }),
    input: fc.array(part, { minLength: 1, maxLength: 3 }).map(content => [{ role: "user", content }]),
    stream: fc.boolean(),
  });
}
