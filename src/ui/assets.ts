// The chat page's files, embedded in the compiled binary (`with { type: "file" }`): the page's own
// code plus the vendored ES modules it imports (no CDN, no build step — browsers load them as-is).
import indexHtml from "./page/index.html" with { type: "file" };
import appJs from "./page/app.js" with { type: "file" };
import apiJs from "./page/api.js" with { type: "file" };
import storeJs from "./page/store.js" with { type: "file" };
import markdownJs from "./page/markdown.js" with { type: "file" };
import messageJs from "./page/message.js" with { type: "file" };
import settingsJs from "./page/settings.js" with { type: "file" };
import attachmentsJs from "./page/attachments.js" with { type: "file" };
import styleCss from "./page/style.css" with { type: "file" };
import preact from "../../node_modules/preact/dist/preact.mjs" with { type: "file" };
import preactHooks from "../../node_modules/preact/hooks/dist/hooks.mjs" with { type: "file" };
import htm from "../../node_modules/htm/dist/htm.mjs" with { type: "file" };
import marked from "../../node_modules/marked/lib/marked.esm.js" with { type: "file" };
import dompurify from "../../node_modules/dompurify/dist/purify.es.mjs" with { type: "file" };

const JS = "text/javascript; charset=utf-8";
// A `type: "file"` import is a path at run time, whatever type the module's own declarations give it.
const file = (path: unknown, type: string) => ({ path: path as string, type });

/** URL name under /ui/ → embedded file and its content type. */
export const UI_FILES: Record<string, { path: string; type: string }> = {
  "app.js": file(appJs, JS),
  "api.js": file(apiJs, JS),
  "store.js": file(storeJs, JS),
  "markdown.js": file(markdownJs, JS),
  "message.js": file(messageJs, JS),
  "settings.js": file(settingsJs, JS),
  "attachments.js": file(attachmentsJs, JS),
  "style.css": file(styleCss, "text/css; charset=utf-8"),
  "preact.mjs": file(preact, JS),
  "preact-hooks.mjs": file(preactHooks, JS),
  "htm.mjs": file(htm, JS),
  "marked.mjs": file(marked, JS),
  "purify.mjs": file(dompurify, JS),
};

export const INDEX_HTML = indexHtml as unknown as string;
