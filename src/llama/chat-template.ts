// llama.cpp's built-in (non-Jinja) chat templates: llama_chat_apply_template.
// `template` is a template name ("chatml", "llama3", "chatglm4", …) or a Jinja source that
// llama.cpp recognises by its markers.
import { cString } from "./cstring.ts";
import { layout } from "./layout.ts";
import { native } from "./library.ts";
import { ptr } from "bun:ffi";

export function applyBuiltinChatTemplate(
  template: string,
  messages: ReadonlyArray<{ role: string; content: string }>,
  addAssistant: boolean,
): string {
  const stride = layout["llama_chat_message.size"];
  const table = new BigUint64Array((stride / 8) * Math.max(1, messages.length));
  // Keep the C strings referenced until the call returns.
  const strings = messages.map(m => [cString(m.role), cString(m.content)] as const);
  strings.forEach(([role, content], i) => {
    table[(i * stride + layout["llama_chat_message.role"]) / 8] = BigInt(ptr(role));
    table[(i * stride + layout["llama_chat_message.content"]) / 8] = BigInt(ptr(content));
  });
  const tmpl = cString(template);
  const { llama } = native();
  let size = 1024 + strings.reduce((n, [r, c]) => n + r.length + c.length, 0) * 2;
  for (;;) {
    const out = new Uint8Array(size);
    const n = llama.llama_chat_apply_template(tmpl, table, messages.length, addAssistant, out, out.length);
    if (n < 0) throw new Error(`chat template not supported by llama.cpp: ${template.slice(0, 40)}`);
    if (n <= out.length) return new TextDecoder().decode(out.subarray(0, n));
    size = n;
  }
}
