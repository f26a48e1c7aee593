// Writes docs/chat-desktop.png and docs/chat-phone.png: the chat page mid-answer, against a real
// Hearth serving stories260K. The browser's network is throttled so the answer is caught while it
// streams. Run: bun scripts/ui-screenshots.ts (needs Chromium, as the tests do).
import type { Page } from "playwright-core";
import { launchBrowser } from "../test/helpers/browser.ts";
import { defaultModel, repoRoot } from "../test/helpers/paths.ts";
import { startHearth } from "../test/helpers/server.ts";
import { openChat, sendMessage, setSettings } from "../test/ui/chat-page-driver.ts";

async function midAnswer(page: Page, url: string, out: string): Promise<void> {
  await openChat(page, url);
  // stories260K's context is 128 tokens: one question and a short answer fill it.
  await setSettings(page, { temperature: "0", max_tokens: "60" });
  await page.click("header button:has-text('Settings')");
  // Slow the page's network down to a few tokens a second to catch the answer while it streams.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: 500, uploadThroughput: -1 });
  await sendMessage(page, "Tell me a story about a cat.");
  await page.waitForFunction(() => {
    const last = Array.from(document.querySelectorAll<HTMLElement>(".message.assistant")).at(-1);
    return last?.dataset.pending === "true" && (last.querySelector(".content")?.textContent?.length ?? 0) > 50;
  }, null, { timeout: 120_000 });
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
}

const server = await startHearth(["-m", defaultModel, "--threads", "1"]);
const browser = await launchBrowser();
try {
  const desktop = await browser.newPage({ viewport: { width: 1280, height: 760 } });
  await midAnswer(desktop, server.url, `${repoRoot}/docs/chat-desktop.png`);
  const phone = await browser.newPage({ viewport: { width: 390, height: 760 }, deviceScaleFactor: 2, isMobile: true, colorScheme: "dark" });
  await midAnswer(phone, server.url, `${repoRoot}/docs/chat-phone.png`);
} finally {
  await browser.close();
  await server.stop();
}
