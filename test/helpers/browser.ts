// A real headless Chromium for the chat page's tests: Debian's package (`make test` installs it),
// or HEARTH_CHROMIUM=/path. Driven by playwright-core, which ships no browser of its own.
import { chromium, type Browser, type Page } from "playwright-core";

export const chromiumPath = process.env.HEARTH_CHROMIUM || "/usr/bin/chromium";

export function launchBrowser(): Promise<Browser> {
  // Root (CI) cannot use Chromium's sandbox; /dev/shm is small in containers.
  return chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
}

/** Collects what would show that the page broke: uncaught errors and CSP violations. */
export function watchPage(page: Page): string[] {
  const problems: string[] = [];
  page.on("pageerror", err => problems.push(`pageerror: ${err.message}`));
  page.on("console", msg => {
    if (msg.type() === "error" && /Content Security Policy|Refused to/i.test(msg.text())) problems.push(`csp: ${msg.text()} [at ${msg.location().url}]`);
  });
  return problems;
}
