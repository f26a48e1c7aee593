// The chat page sends images to a vision model, in a real headless Chromium against a real Hearth
// serving a tiny random Qwen2.5-VL-shaped model with its projector: an image attached with the
// file button and one pasted into the message box go out as image_url parts, show in the
// conversation, survive a reload, and the answer equals the plain API's greedy answer.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser } from "playwright-core";
import { join } from "node:path";
import { launchBrowser, watchPage } from "../helpers/browser.ts";
import { dataUrl, png } from "../helpers/images.ts";
import { postJson, startHearth, type Running } from "../helpers/server.ts";
import { visionModelDir } from "../helpers/vision-models.ts";
import { captureRequests, lastAnswer, openChat, savedConversations, sendMessage, setSettings, waitAnswerDone } from "./chat-page-driver.ts";

let server: Running;
let browser: Browser;
const picked = png(20, 16, (x, y) => [x * 12, y * 15, 200]);
const pasted = png(12, 12, (x, y) => [255 - x * 20, 40, y * 20]);

beforeAll(async () => {
  const dir = await visionModelDir("qwen2.5vl");
  server = await startHearth(["-m", join(dir, "model.gguf"), "--threads", "1", "--parallel", "1", "--ctx-size", "2048"]);
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

test("an attached and a pasted image are sent as image_url parts, shown in the conversation, and answered as the API answers", async () => {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const page = await context.newPage();
  const problems = watchPage(page);
  await openChat(page, server.url, "model");
  await setSettings(page, { temperature: "0", max_tokens: "8" });
  const sent = captureRequests(page, "/v1/chat/completions");

  await page.setInputFiles("input[aria-label='Attach image']", { name: "picked.png", mimeType: "image/png", buffer: Buffer.from(picked) });
  await page.waitForSelector(".composer .thumbs img");
  // A paste with an image file in its clipboard data, as a browser delivers one.
  await page.evaluate(async (b64: string) => {
    const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
    const data = new DataTransfer();
    data.items.add(new File([bytes], "pasted.png", { type: "image/png" }));
    document.querySelector("textarea[name=message]")!.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
  }, Buffer.from(pasted).toString("base64"));
  await page.waitForFunction(() => document.querySelectorAll(".composer .thumbs img").length === 2);
  await sendMessage(page, "What do you see?");
  await waitAnswerDone(page, 1);

  const content = [
    { type: "text", text: "What do you see?" },
    { type: "image_url", image_url: { url: dataUrl(picked) } },
    { type: "image_url", image_url: { url: dataUrl(pasted) } },
  ];
  expect(sent[0].messages).toEqual([{ role: "user", content }]);
  // The conversation shows both images in the user's message; the composer is empty again.
  expect(await page.locator(".message.user .thumbs img").count()).toBe(2);
  expect(await page.locator(".composer .thumbs img").count()).toBe(0);
  const res = await postJson(`${server.url}/v1/chat/completions`, { model: "model", messages: [{ role: "user", content }], temperature: 0, max_tokens: 8 });
  const expected = ((await res.json()) as any).choices[0].message.content as string;
  expect(expected.length).toBeGreaterThan(0);
  expect((await savedConversations(page))[0]!.messages[1]!.content).toBe(expected);
  await expect(lastAnswer(page).locator(".error").count()).resolves.toBe(0);

  // After a reload the images are still in the conversation, and a second turn sends them again.
  await page.reload();
  await page.waitForSelector(".message.user .thumbs img");
  await page.click(`.conversations li button.open`);
  await sendMessage(page, "And now?");
  await waitAnswerDone(page, 2);
  const second = sent.at(-1)!.messages;
  expect(second[0]).toEqual({ role: "user", content });
  expect(second.at(-1)).toEqual({ role: "user", content: "And now?" });
  expect(problems).toEqual([]);
  await context.close();
}, 180_000);
