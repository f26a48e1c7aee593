// Images attached to the next message (vision models): picked with the file button or pasted into
// the message box, read as data: URLs (the only kind the server takes by default), shown as
// thumbnails that can be removed before sending, and sent as OpenAI image_url parts.
import { h } from "preact";
import htm from "htm";

const html = htm.bind(h);

/** The images among a paste's or a file picker's files, as data: URLs. */
export async function imagesOf(files) {
  const images = Array.from(files ?? []).filter(f => f.type.startsWith("image/"));
  return Promise.all(
    images.map(
      file =>
        new Promise((resolve, reject) => {
          const reader = new FileReader();
          reader.onload = () => resolve(reader.result);
          reader.onerror = () => reject(reader.error);
          reader.readAsDataURL(file);
        }),
    ),
  );
}

/** A message as the API takes it: plain text, or text and image parts when it has images. */
export function apiContent(message) {
  if (!message.images?.length) return message.content;
  const parts = message.images.map(url => ({ type: "image_url", image_url: { url } }));
  return message.content ? [{ type: "text", text: message.content }, ...parts] : parts;
}

/** Thumbnails of images (a message's, or the ones waiting to be sent, with remove buttons). */
export function Thumbnails({ images, onRemove }) {
  if (!images?.length) return null;
  return html`<div class="thumbs">
    ${images.map(
      (url, i) => html`<figure key=${i}>
        <img src=${url} alt=${`Image ${i + 1}`} />
        ${onRemove ? html`<button type="button" class="link" aria-label=${`Remove image ${i + 1}`} onClick=${() => onRemove(i)}>✕</button>` : null}
      </figure>`,
    )}
  </div>`;
}
