// With --api-key the chat page still loads, asks for the key, keeps it in the browser, and works.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser } from "playwright-core";
import { launchBrowser, watchPage } from "../helpers/browser.ts";
import { defaultModel } from "../helpers/paths.ts";
import { startHearth, type Running } from "../helpers/server.ts";
import { lastAnswer, openChat, sendMessage, setSettings, waitAnswerDone } from "./chat-page-driver.ts";

let server: Running;
let browser: Browser;

beforeAll(async () => {
  server = await startHearth(["-m", defaultModel, "--threads", "1", "--api-key", "sesame"]);
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

test("the page asks for the key, then lists models and chats", async () => {
  // The API itself is closed; the page's files are not.
  expect((await fetch(`${server.url}/v1/models`)).status).toBe(401);
  expect((await fetch(`${server.url}/`)).status).toBe(200);

  const page = await (await browser.newContext()).newPage();
  const problems = watchPage(page);
  await page.goto(server.url);
  const form = page.locator("form[aria-label='API key']");
  await form.waitFor();
  await form.locator("input").fill("wrong");
  await form.locator("button").click();
  await form.waitFor(); // asked again
  await form.locator("input").fill("sesame");
  await form.locator("button").click();
  await openChat(page, server.url);
  expect(await form.count()).toBe(0);
  expect(await page.evaluate(() => localStorage.getItem("hearth.apiKey"))).toBe("sesame");

  await setSettings(page, { temperature: "0", max_tokens: "20" });
  await sendMessage(page, "Once upon a time");
  await waitAnswerDone(page, 1);
  expect((await lastAnswer(page).locator(".content").textContent())!.length).toBeGreaterThan(10);
  expect(await lastAnswer(page).locator(".error").count()).toBe(0);
  expect(problems).toEqual([]);
});
