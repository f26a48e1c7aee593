// Model output → safe HTML. The model's text is untrusted input: marked renders Markdown, then
// DOMPurify removes scripts, event handlers and javascript: URLs from whatever came out.
import { marked } from "marked";
import DOMPurify from "dompurify";

marked.use({ gfm: true, breaks: true });

DOMPurify.addHook("afterSanitizeAttributes", node => {
  // Links open elsewhere and give the target no handle on this page.
  if (node.tagName === "A" && node.hasAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  }
});

export function renderMarkdown(text) {
  const html = marked.parse(text, { async: false });
  return DOMPurify.sanitize(html, { USE_PROFILES: { html: true }, FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select"] });
}

/** Gives every code block in `root` a copy button (once). */
export function addCopyButtons(root, copy) {
  for (const pre of root.querySelectorAll("pre")) {
    if (pre.querySelector(":scope > .copy-code")) continue;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "copy-code";
    button.textContent = "Copy";
    button.addEventListener("click", async () => {
      await copy(pre.querySelector("code")?.textContent ?? pre.textContent ?? "");
      button.textContent = "Copied";
      setTimeout(() => (button.textContent = "Copy"), 1200);
    });
    pre.append(button);
  }
}

/** Clipboard API where the page is a secure context, the old way elsewhere (plain http on a LAN). */
export async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
  const area = document.createElement("textarea");
  area.value = text;
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.append(area);
  area.select();
  document.execCommand("copy");
  area.remove();
}
