// How the chat page renders what the server sends: model output is untrusted (no script may run),
// Markdown code blocks get a copy button, reasoning folds away, errors read as plain words; the
// themes, the phone-width layout and resizes across it. Answers here are crafted in the browser (page.route).
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { launchBrowser, watchPage } from "../helpers/browser.ts";
import { defaultModel } from "../helpers/paths.ts";
import { startHearth, type Running } from "../helpers/server.ts";
import { closeDrawer, columns, lastAnswer, openChat, openDrawer, resizeTo, sendMessage, unreadable, waitAnswerDone } from "./chat-page-driver.ts";

let server: Running;
let browser: Browser;

beforeAll(async () => {
  server = await startHearth(["-m", defaultModel, "--threads", "1"]);
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

async function newPage(viewport = { width: 1200, height: 800 }) {
  const context = await browser.newContext({ viewport });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
  const page = await context.newPage();
  return { page, problems: watchPage(page) };
}

/** Answers the page's next completion request with these stream chunks, as the server would frame them. */
async function craftedStream(page: Page, chunks: object[]): Promise<void> {
  const head = { id: "chatcmpl-x", object: "chat.completion.chunk", created: 0, model: "stories260K" };
  const body = chunks.map(c => `data: ${JSON.stringify({ ...head, ...c })}\n\n`).join("") + "data: [DONE]\n\n";
  await page.route("**/v1/chat/completions", route => route.fulfill({ status: 200, headers: { "content-type": "text/event-stream" }, body }));
}

const EVIL = [
  `Look: <img src=x onerror="window.__xss='img'"> <script>window.__xss='script'</script>`,
  `[click me](javascript:window.__xss='md-link') <a href="javascript:window.__xss='a'">a link</a>`,
  `<svg><g onload="window.__xss='svg'"></g></svg> <iframe src="javascript:window.__xss='iframe'"></iframe>`,
  `<div style="x" onmouseover="window.__xss='hover'">hover me</div>`,
  "",
  "```js",
  `console.log("hi")`,
  "```",
].join("\n");

test("model output with <img onerror>, <script> and javascript: links renders inert", async () => {
  const { page, problems } = await newPage();
  await openChat(page, server.url);
  await craftedStream(page, [
    { choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] },
    { choices: [{ index: 0, delta: { reasoning_content: `Thinking <img src=x onerror="window.__xss='reasoning'">` }, finish_reason: null }] },
    { choices: [{ index: 0, delta: { content: EVIL.slice(0, 40) }, finish_reason: null }] },
    { choices: [{ index: 0, delta: { content: EVIL.slice(40) }, finish_reason: "stop" }], timings: { predicted_per_second: 42.5, predicted_n: 3 } },
    { choices: [], usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 } },
  ]);
  await sendMessage(page, "Say something nasty");
  await waitAnswerDone(page, 1);

  const content = lastAnswer(page).locator(".content");
  await expect(content.textContent()).resolves.toContain("Look:");
  // Nothing executable is left in the DOM…
  const dangerous = await content.evaluate(root =>
    Array.from(root.querySelectorAll("*")).flatMap(el => {
      const bad = Array.from(el.attributes).filter(a => /^on/i.test(a.name) || /^\s*javascript:/i.test(a.value)).map(a => `${el.tagName} ${a.name}`);
      return ["SCRIPT", "IFRAME"].includes(el.tagName) ? [...bad, el.tagName] : bad;
    }),
  );
  expect(dangerous).toEqual([]);
  // …and nothing ran, even when the reader hovers and clicks everything.
  await page.hover("text=hover me");
  for (const link of await content.locator("a").all()) await link.click({ force: true });
  await page.waitForTimeout(300);
  expect(await page.evaluate(() => (window as any).__xss ?? null)).toBeNull();
  // Chromium (since 156.0.8078.114) reports every inline handler that DOMPurify's DOMParser meets
  // in the untrusted markup as a CSP violation at purify.mjs: that document is inert and the
  // handler never runs (checked above). A violation from anywhere else means one reached the page.
  const inSanitizer = (p: string) => p.startsWith("csp: ") && p.endsWith("/ui/purify.mjs]");
  expect(problems.filter(p => !inSanitizer(p))).toEqual([]);

  // The reasoning is shown as text, folded once the answer is done.
  const reasoning = lastAnswer(page).locator("details.reasoning");
  expect(await reasoning.evaluate(d => (d as HTMLDetailsElement).open)).toBe(false);
  await reasoning.locator("summary").click();
  await expect(reasoning.locator("div").textContent()).resolves.toBe(`Thinking <img src=x onerror="window.__xss='reasoning'">`);

  // The code block has its own copy button.
  await content.locator("pre .copy-code").click();
  expect((await page.evaluate(() => navigator.clipboard.readText())).trim()).toBe(`console.log("hi")`);
  await expect(lastAnswer(page).locator(".stats").textContent()).resolves.toContain("42.5 tokens/s");
});

test("server errors show inline in plain words, and the page keeps working", async () => {
  const { page, problems } = await newPage();
  await openChat(page, server.url);
  await page.route("**/v1/chat/completions", route =>
    route.fulfill({
      status: 503,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ error: { message: "model 'x' failed to load: bad magic", type: "server_error", param: "model", code: "model_unavailable" } }),
    }),
  );
  await sendMessage(page, "Hello");
  await waitAnswerDone(page, 1);
  await expect(lastAnswer(page).locator(".error").textContent()).resolves.toBe("The model could not be loaded. (model 'x' failed to load: bad magic)");

  // An error event in the middle of a stream keeps the text so far.
  await page.unroute("**/v1/chat/completions");
  await page.route("**/v1/chat/completions", route =>
    route.fulfill({
      status: 200,
      headers: { "content-type": "text/event-stream" },
      body: `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: "Once" } }] })}\n\ndata: ${JSON.stringify({ error: { message: "the model runner stopped", type: "server_error", param: null, code: "engine_failure" } })}\n\n`,
    }),
  );
  await sendMessage(page, "Again");
  await waitAnswerDone(page, 2);
  await expect(lastAnswer(page).locator(".content").textContent()).resolves.toBe("Once\n");
  await expect(lastAnswer(page).locator(".error").textContent()).resolves.toContain("The model stopped with an internal error");
  expect(problems).toEqual([]);
});

test("dark and light themes; at phone width the sidebar becomes a drawer", async () => {
  const { page } = await newPage({ width: 390, height: 844 });
  await openChat(page, server.url);
  const theme = async (name: string) => {
    await page.waitForFunction(t => document.documentElement.dataset.theme === t, name);
    return page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  };
  await page.click("button:has-text('Theme: auto')");
  expect(await theme("light")).toBe("rgb(255, 255, 255)");
  await page.click("button:has-text('Theme: light')");
  expect(await theme("dark")).toBe("rgb(22, 22, 26)");

  const sidebarX = () => page.locator("aside.sidebar").evaluate(el => el.getBoundingClientRect().right);
  await page.waitForTimeout(300);
  expect(await sidebarX()).toBeLessThanOrEqual(0); // off screen
  await page.click("header button[aria-label=Conversations]");
  await page.waitForFunction(() => document.querySelector("aside.sidebar")!.getBoundingClientRect().left >= 0);
  await page.click("aside button:has-text('New chat')");
  // Nothing overflows sideways: the composer and the model picker fit the phone's width.
  const widest = await page.evaluate(() => Math.max(...Array.from(document.querySelectorAll(".main *")).map(el => el.getBoundingClientRect().right)));
  expect(widest).toBeLessThanOrEqual(390);
});

test("resizing between desktop and phone width keeps the conversation readable, never under the drawer", async () => {
  const desktop = { width: 1280, height: 800 };
  const phone = { width: 390, height: 844 };
  const { page, problems } = await newPage(desktop);
  await openChat(page, server.url);
  const long = "A long sentence that has to wrap at any width the window takes. ".repeat(25);
  await craftedStream(page, [{ choices: [{ index: 0, delta: { role: "assistant", content: long }, finish_reason: "stop" }] }]);
  await sendMessage(page, `Tell me something long. ${long}`);
  await waitAnswerDone(page, 1);
  expect(await unreadable(page)).toEqual([]);
  expect(await columns(page)).toEqual({ sidebar: [0, 260], main: [260, 1280] });

  // Desktop to phone: the sidebar slides away and the conversation has the whole width.
  await resizeTo(page, phone);
  expect(await unreadable(page)).toEqual([]);
  expect(await columns(page)).toEqual({ sidebar: [-260, 0], main: [0, 390] });

  // The drawer opened on the phone, then the window widens (the sidebar is simply there at desktop
  // width, with no ✕) and narrows again: the drawer must not come back over the conversation.
  await openDrawer(page);
  expect((await columns(page)).sidebar).toEqual([0, 260]);
  await resizeTo(page, desktop);
  expect(await unreadable(page)).toEqual([]);
  expect(await columns(page)).toEqual({ sidebar: [0, 260], main: [260, 1280] });
  await resizeTo(page, phone);
  expect(await unreadable(page)).toEqual([]);
  expect(await columns(page)).toEqual({ sidebar: [-260, 0], main: [0, 390] });

  // The drawer still opens over the conversation and closes off it.
  await openDrawer(page);
  expect((await columns(page)).sidebar).toEqual([0, 260]);
  await closeDrawer(page);
  expect(await unreadable(page)).toEqual([]);
  expect(problems).toEqual([]);
});
