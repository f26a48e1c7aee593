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

/** Resizes the window and waits until the page has laid itself out again: the new width is in
 *  effect, media-query listeners have run, and running transitions (the drawer's slide) are over. */
export async function resizeTo(page: Page, size: { width: number; height: number }): Promise<void> {
  await page.setViewportSize(size);
  await page.waitForFunction(w => innerWidth === w, size.width);
  await settle(page);
}

/** Waits two frames (media-query changes and the re-render they cause land in the first) and then
 *  for every finite animation to end, until none is left. */
async function settle(page: Page): Promise<void> {
  await page.evaluate(async () => {
    const frame = () => new Promise(done => requestAnimationFrame(() => done(null)));
    const running = () => document.getAnimations().filter(a => a.playState === "running" && a.effect?.getComputedTiming().iterations !== Infinity);
    do {
      await frame();
      await frame();
      await Promise.all(running().map(a => a.finished.catch(() => null)));
    } while (running().length > 0);
  });
}

/** Opens the conversations drawer (phone width) and waits until it has slid in. */
export async function openDrawer(page: Page): Promise<void> {
  await page.click("header button[aria-label=Conversations]");
  await settle(page);
}

/** Closes the drawer with its ✕ and waits until it has slid out. */
export async function closeDrawer(page: Page): Promise<void> {
  await page.click("aside.sidebar button[aria-label=Close]");
  await settle(page);
}

/** Where the sidebar and the main column lie across the window, in CSS pixels. */
export async function columns(page: Page): Promise<{ sidebar: [number, number]; main: [number, number] }> {
  return page.evaluate(() => {
    const span = (selector: string): [number, number] => {
      const r = document.querySelector(selector)!.getBoundingClientRect();
      return [Math.round(r.left), Math.round(r.right)];
    };
    return { sidebar: span("aside.sidebar"), main: span("main.main") };
  });
}

/**
 * What keeps the reader from the conversation at the current size, in words; empty when it reads
 * fine. Each message's text box and the message box must lie inside the window, and the part of each
 * that is scrolled into view must be on top at both its left and right edges (nothing, such as an
 * open drawer, covers it); the page must not scroll sideways.
 */
export async function unreadable(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const width = innerWidth;
    const name = (el: Element | null) => (el ? el.tagName.toLowerCase() + Array.from(el.classList).map(c => `.${c}`).join("") : "nothing");
    const page = document.documentElement.scrollWidth;
    if (page > width) problems.push(`the page is ${page}px wide in a ${width}px window`);
    const view = document.querySelector(".messages")!.getBoundingClientRect();
    const input = document.querySelector("textarea[name=message]")!;
    const boxes = [...Array.from(document.querySelectorAll(".message .bubble, .message .content")), input];
    let inView = 0;
    for (const box of boxes) {
      const r = box.getBoundingClientRect();
      const what = `${name(box.closest(".message") ?? box)} ${name(box)}`;
      if (r.left < 0 || r.right > width) problems.push(`${what} spans ${Math.round(r.left)}..${Math.round(r.right)} in a ${width}px window`);
      const [top, bottom] = box === input ? [r.top, Math.min(r.bottom, innerHeight)] : [Math.max(r.top, view.top), Math.min(r.bottom, view.bottom)];
      if (bottom <= top) continue;
      if (box !== input) inView++;
      const y = Math.round((top + bottom) / 2);
      for (const x of [Math.round(r.left) + 2, Math.round(r.right) - 2]) {
        const hit = document.elementFromPoint(x, y);
        if (!hit || !box.contains(hit)) problems.push(`${what} is covered at (${x}, ${y}) by ${name(hit)}`);
      }
    }
    if (inView === 0) problems.push("no message text is in view");
    return problems;
  });
}
