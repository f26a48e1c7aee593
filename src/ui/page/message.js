// One message of the conversation: Markdown for answers (sanitized), reasoning in a collapsible
// block, speed under each answer, inline errors, and copy / edit / regenerate actions.
import { h } from "preact";
import { useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import htm from "htm";
import { Thumbnails } from "./attachments.js";
import { addCopyButtons, copyText, renderMarkdown } from "./markdown.js";

const html = htm.bind(h);

function Stats({ stats }) {
  if (!stats) return null;
  const parts = [];
  if (stats.tokensPerSecond) parts.push(`${stats.tokensPerSecond.toFixed(1)} tokens/s`);
  if (stats.ttftMs != null) parts.push(`first token after ${Math.round(stats.ttftMs)} ms`);
  if (stats.completionTokens != null) parts.push(`${stats.completionTokens} tokens`);
  if (stats.finishReason === "length") parts.push("cut at max tokens");
  return html`<div class="stats" title="Speed from the server's timings; time to first token measured in this browser">${parts.join(" · ")}</div>`;
}

function Answer({ message }) {
  const ref = useRef(null);
  const markup = useMemo(() => renderMarkdown(message.content), [message.content]);
  useLayoutEffect(() => ref.current && addCopyButtons(ref.current, copyText));
  return html`<div class="content ${message.pending ? "cursor" : ""}" ref=${ref} dangerouslySetInnerHTML=${{ __html: markup }}></div>`;
}

export function Message({ message, busy, onEdit, onRegenerate, isLast }) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(message.content);
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    await copyText(message.content);
    setCopied(true);
    setTimeout(() => setCopied(false), 1200);
  };

  if (message.role === "user") {
    return html`<div class="message user">
      <div class="role">You</div>
      ${editing
        ? html`<form onSubmit=${e => (e.preventDefault(), setEditing(false), onEdit(draft))}>
            <textarea aria-label="Edit message" value=${draft} onInput=${e => setDraft(e.currentTarget.value)}></textarea>
            <div class="actions">
              <button type="submit" class="primary" disabled=${busy || !draft.trim()}>Save and send</button>
              <button type="button" onClick=${() => (setEditing(false), setDraft(message.content))}>Cancel</button>
            </div>
          </form>`
        : html`<${Thumbnails} images=${message.images} />
            ${message.content ? html`<div class="bubble">${message.content}</div>` : null}
            <div class="actions">
              <button class="link" onClick=${copy}>${copied ? "Copied" : "Copy"}</button>
              <button class="link" disabled=${busy} onClick=${() => (setDraft(message.content), setEditing(true))}>Edit</button>
            </div>`}
    </div>`;
  }

  const thinking = message.pending && !message.content;
  return html`<div class="message assistant" data-pending=${message.pending ? "true" : "false"}>
    <div class="role">${message.model ?? "Assistant"}</div>
    ${message.reasoning
      ? html`<details class="reasoning" open=${thinking}><summary>Reasoning</summary><div>${message.reasoning}</div></details>`
      : null}
    <${Answer} message=${message} />
    ${message.stopped ? html`<div class="stopped">Stopped.</div>` : null}
    ${message.error ? html`<div class="error" role="alert">${message.error}</div>` : null}
    ${message.pending ? null : html`<${Stats} stats=${message.stats} />`}
    ${message.pending
      ? null
      : html`<div class="actions">
          <button class="link" onClick=${copy}>${copied ? "Copied" : "Copy"}</button>
          ${isLast ? html`<button class="link" disabled=${busy} onClick=${onRegenerate}>Regenerate</button>` : null}
        </div>`}
  </div>`;
}
