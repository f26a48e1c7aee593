// What the chat page tests do with the page, in the page's own terms (selectors live here only).
import type { Page } from "playwright-core";

export async function openChat(page: Page, url: string, model = "stories260K"): Promise<void> {
  await page.goto(url);
  await page.waitForSelector(`select[aria-label=Model] option[value="${model}"]`, { state: "attached", timeout: 60_000 });
}

/** Opens the settings panel (if closed) and fills the given fields; "" leaves a field to the server. */
export async function setSettings(page: Page, fields: { system?: string; temperature?: string; top_p?: string; max_tokens?: string }): Promise<void> {
  if ((await page.locator("section.panel").count()) === 0) await page.click("header button:has-text('Settings')");
  for (const [name, value] of Object.entries(fields)) await page.fill(`section.panel [name=${name}]`, value);
}

export async function pickModel(page: Page, model: string): Promise<void> {
  await page.selectOption("select[aria-label=Model]", model);
}

export async function sendMessage(page: Page, text: string): Promise<void> {
  await page.fill("textarea[name=message]", text);
  await page.press("textarea[name=message]", "Enter");
}

/** Waits until the last answer has finished (or stopped or failed) and returns how many answers exist. */
export async function waitAnswerDone(page: Page, count: number): Promise<void> {
  await page.waitForFunction(
    n => {
      const all = Array.from(document.querySelectorAll<HTMLElement>(".message.assistant"));
      return all.length >= n && all.at(-1)!.dataset.pending === "false";
    },
    count,
    { timeout: 90_000 },
  );
}

export const lastAnswer = (page: Page) => page.locator(".message.assistant").last();

/** The conversations the page saved in localStorage. */
export async function savedConversations(page: Page): Promise<Array<{ title: string; model: string; messages: Array<{ role: string; content: string }> }>> {
  return page.evaluate(() => JSON.parse(localStorage.getItem("hearth.conversations") ?? "[]"));
}

/** The request bodies the page posted to `path`, in order. */
export function captureRequests(page: Page, path: string): any[] {
  const bodies: any[] = [];
  page.on("request", req => {
    if (req.method() === "POST" && new URL(req.url()).pathname === path) bodies.push(JSON.parse(req.postData() ?? "null"));
  });
  return bodies;
}
