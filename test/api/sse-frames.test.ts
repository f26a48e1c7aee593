// sseResponse writes each frame to the socket as a string (no byte array per event): what a
// client reads is still the exact UTF-8 of every frame, characters outside ASCII included.
import { expect, test } from "bun:test";
import { sseResponse } from "../../src/api/sse.ts";

test("frames with non-ASCII text arrive as their exact UTF-8, in order, then the stream ends", async () => {
  const pieces = ["héllo", " wörld", " 你好", " 😀", "[DONE]"];
  const res = sseResponse(async send => {
    for (const p of pieces.slice(0, -1)) send({ text: p });
    send("[DONE]");
  }, () => {}, 1 << 20);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const expected = pieces.slice(0, -1).map(p => `data: ${JSON.stringify({ text: p })}\n\n`).join("") + "data: [DONE]\n\n";
  expect(bytes).toEqual(new TextEncoder().encode(expected));
});
