// The chat page in a real headless Chromium against a real Hearth: streaming, Stop, reload,
// model switch, system prompt, edit/regenerate, inline errors, and untrusted model output.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, BrowserContext } from "playwright-core";
import { launchBrowser, watchPage } from "../helpers/browser.ts";
import { generatedModel } from "../helpers/models.ts";
import { defaultModel } from "../helpers/paths.ts";
import { postJson, startHearth, type Running } from "../helpers/server.ts";
import { captureRequests, lastAnswer, openChat, pickModel, savedConversations, sendMessage, setSettings, waitAnswerDone } from "./chat-page-driver.ts";

let server: Running;
let browser: Browser;
let tinyModel: string; // a second, different model (random weights, Qwen2 vocabulary)
let slowModel: string; // Qwen2.5-0.5B's shape: slow enough on one thread to stop mid-answer
const contexts: BrowserContext[] = [];

const idOf = (path: string) => path.split("/").at(-1)!.replace(/\.gguf$/, "");

beforeAll(async () => {
  const tiny = await generatedModel("tiny-qwen2");
  const slow = await generatedModel("qwen2.5-0.5b-q4_0");
  tinyModel = idOf(tiny);
  slowModel = idOf(slow);
  server = await startHearth(["-m", defaultModel, "-m", tiny, "-m", slow, "--threads", "1", "--parallel", "1", "--ctx-size", "2048"]);
  browser = await launchBrowser();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
  contexts.push(context);
  const page = await context.newPage();
  return { context, page, problems: watchPage(page) };
}

async function plainAnswer(body: object): Promise<string> {
  const res = await postJson(`${server.url}/v1/chat/completions`, body);
  expect(res.status).toBe(200);
  return ((await res.json()) as any).choices[0].message.content;
}

const squash = (s: string) => s.replace(/\s+/g, "");

describe("chat page against a real server", () => {
  test("the answer grows in several steps and equals the plain API's greedy answer", async () => {
    const { page, problems } = await newPage();
    await openChat(page, server.url);
    await setSettings(page, { temperature: "0", max_tokens: "80" });
    // Every text the answer shows while it streams.
    await page.evaluate(() => {
      const w = window as any;
      w.__texts = [];
      new MutationObserver(() => {
        const el = Array.from(document.querySelectorAll(".message.assistant .content")).at(-1);
        if (el?.textContent && w.__texts.at(-1) !== el.textContent) w.__texts.push(el.textContent);
      }).observe(document.querySelector(".messages")!, { subtree: true, childList: true, characterData: true });
    });
    const sent = captureRequests(page, "/v1/chat/completions");
    await sendMessage(page, "Once upon a time");
    await waitAnswerDone(page, 1);

    const expected = await plainAnswer({ model: "stories260K", messages: [{ role: "user", content: "Once upon a time" }], temperature: 0, max_tokens: 80 });
    expect(expected.length).toBeGreaterThan(50);
    expect(sent[0]).toMatchObject({ model: "stories260K", stream: true, temperature: 0, max_tokens: 80, messages: [{ role: "user", content: "Once upon a time" }] });

    const texts: string[] = await page.evaluate(() => (window as any).__texts);
    expect(texts.length).toBeGreaterThan(1);
    const final = texts.at(-1)!;
    for (const t of texts) expect(squash(final).startsWith(squash(t))).toBe(true);
    expect(squash(final)).toBe(squash(expected));
    // The text itself, exactly: what the page saved and what its Copy button copies.
    expect((await savedConversations(page))[0]!.messages[1]!.content).toBe(expected);
    await lastAnswer(page).locator("button:has-text('Copy')").click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(expected);
    await expect(lastAnswer(page).locator(".stats").textContent()).resolves.toMatch(/tokens\/s .* first token after \d+ ms/);
    expect(problems).toEqual([]);
  });

  test("Stop ends the answer and frees the server's only slot", async () => {
    const { page, problems } = await newPage();
    await openChat(page, server.url, slowModel);
    await pickModel(page, slowModel);
    await setSettings(page, { temperature: "0", max_tokens: "1500" });
    const metric = async () => Number(/^hearth_completion_tokens_total (\d+)/m.exec(await (await fetch(`${server.url}/metrics`)).text())![1]);
    const before = await metric();

    await sendMessage(page, "Tell me a long story.");
    await page.waitForFunction(() => (Array.from(document.querySelectorAll(".message.assistant .content")).at(-1)?.textContent?.length ?? 0) > 5, null, { timeout: 90_000 });
    await page.click("button.stop");
    await waitAnswerDone(page, 1);
    await expect(lastAnswer(page).locator(".stopped").textContent()).resolves.toBe("Stopped.");
    expect(await page.locator("button.send").count()).toBe(1);

    // The slot is free again: nothing busy, nothing queued…
    const slots = async () => {
      const list: any = await (await fetch(`${server.url}/v1/models`)).json();
      return list.data.find((m: any) => m.id === slowModel).meta.slots;
    };
    for (let i = 0; i < 200 && (await slots()).busy !== 0; i++) await Bun.sleep(100);
    expect(await slots()).toEqual({ total: 1, busy: 0 });
    // …and with one slot, a next request can only finish if the stopped one no longer runs:
    // had it gone on, its 1,500 tokens would be counted before this one's 8.
    const res = await postJson(`${server.url}/v1/chat/completions`, { model: slowModel, messages: [{ role: "user", content: "Hi" }], max_tokens: 8, temperature: 0 });
    expect(((await res.json()) as any).usage.completion_tokens).toBe(8);
    const generated = (await metric()) - before;
    expect(generated).toBeGreaterThanOrEqual(8);
    expect(generated).toBeLessThan(500);
    expect(problems).toEqual([]);
  });

  test("a reload keeps the conversation, and the sidebar lists it", async () => {
    const { page } = await newPage();
    await openChat(page, server.url);
    await setSettings(page, { temperature: "0", max_tokens: "30" });
    await sendMessage(page, "The little dog");
    await waitAnswerDone(page, 1);
    const answer = await lastAnswer(page).locator(".content").textContent();
    await page.click("header button:has-text('Settings')");
    await page.click("aside button:has-text('New chat')");
    await sendMessage(page, "A big tree");
    await waitAnswerDone(page, 1);

    await page.reload();
    await openChat(page, server.url);
    const titles = await page.locator("ul.conversations li button.open").allTextContents();
    expect(titles).toEqual(["A big tree", "The little dog"]);
    await page.click("ul.conversations li button.open:has-text('The little dog')");
    await expect(page.locator(".message.user .bubble").textContent()).resolves.toBe("The little dog");
    await expect(lastAnswer(page).locator(".content").textContent()).resolves.toBe(answer);
    // Settings survive too.
    await page.click("header button:has-text('Settings')");
    expect(await page.inputValue("section.panel [name=max_tokens]")).toBe("30");
  });

  test("switching the model sends the conversation to the other model", async () => {
    const { page, problems } = await newPage();
    const sent = captureRequests(page, "/v1/chat/completions");
    await openChat(page, server.url, tinyModel);
    const label = await page.locator(`select[aria-label=Model] option[value="${tinyModel}"]`).textContent();
    expect(label).toContain("qwen"); // family, from /v1/models meta
    await pickModel(page, tinyModel);
    await setSettings(page, { temperature: "0", max_tokens: "12" });
    await sendMessage(page, "Hello there");
    await waitAnswerDone(page, 1);
    expect(sent.at(-1).model).toBe(tinyModel);
    const expected = await plainAnswer({ model: tinyModel, messages: [{ role: "user", content: "Hello there" }], temperature: 0, max_tokens: 12 });
    expect((await savedConversations(page))[0]!.messages[1]!.content).toBe(expected);
    await expect(lastAnswer(page).locator(".role").textContent()).resolves.toBe(tinyModel);
    const models: any = await (await fetch(`${server.url}/v1/models`)).json();
    expect(models.data.find((m: any) => m.id === tinyModel).meta.state).toBe("loaded");
    expect(problems).toEqual([]);
  });

  test("the system prompt is sent, and shows in the prompt the server renders", async () => {
    const { page } = await newPage();
    const sent = captureRequests(page, "/v1/chat/completions");
    await openChat(page, server.url);
    await setSettings(page, { system: "You tell stories about cats.", temperature: "0", max_tokens: "10" });
    await sendMessage(page, "Begin");
    await waitAnswerDone(page, 1);
    expect(sent[0].messages).toEqual([
      { role: "system", content: "You tell stories about cats." },
      { role: "user", content: "Begin" },
    ]);
    await page.click("section.panel button:has-text('Show rendered prompt')");
    const shown = await page.locator("pre.prompt-preview").textContent();
    // The page shows the server's own rendering of what it sent (ChatML for stories260K).
    const res = await postJson(`${server.url}/apply-template`, { model: "stories260K", messages: sent[0].messages.concat([{ role: "assistant", content: (await savedConversations(page))[0]!.messages[1]!.content }]) });
    expect(shown).toBe(((await res.json()) as any).prompt);
    expect(shown).toContain("<|im_start|>system\nYou tell stories about cats.<|im_end|>");
  });

  test("edit-and-resend and regenerate replace the answer; errors show inline in plain words", async () => {
    const { page, problems } = await newPage();
    const sent = captureRequests(page, "/v1/chat/completions");
    await openChat(page, server.url);
    await setSettings(page, { temperature: "0", max_tokens: "20" });
    await sendMessage(page, "The cat");
    await waitAnswerDone(page, 1);

    await page.click(".message.user button:has-text('Edit')");
    await page.fill(".message.user textarea", "The bird");
    await page.click(".message.user button:has-text('Save and send')");
    await waitFor(() => sent.length === 2);
    await waitAnswerDone(page, 1);
    expect(sent.at(-1).messages).toEqual([{ role: "user", content: "The bird" }]);
    expect(await page.locator(".message").count()).toBe(2);
    const birdAnswer = (await savedConversations(page))[0]!.messages[1]!.content;
    expect(birdAnswer).toBe(await plainAnswer({ model: "stories260K", messages: [{ role: "user", content: "The bird" }], temperature: 0, max_tokens: 20 }));

    await lastAnswer(page).locator("button:has-text('Regenerate')").click();
    await waitFor(() => sent.length === 3);
    await waitAnswerDone(page, 1);
    expect(sent[2].messages).toEqual([{ role: "user", content: "The bird" }]);
    expect(await page.locator(".message").count()).toBe(2);

    // stories260K's context is 512 tokens: the server refuses, the page says so in words.
    await setSettings(page, { max_tokens: "5000" });
    await sendMessage(page, "And then");
    await waitAnswerDone(page, 2);
    await expect(lastAnswer(page).locator(".error").textContent()).resolves.toContain("no longer fits in the model's context window");
    expect(problems).toEqual([]);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await Bun.sleep(50);
  expect(condition()).toBe(true);
}
