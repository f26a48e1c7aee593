// System turns after the conversation has begun (Claude Code sends one between user turns): kept
// where they stand when the template renders a system turn there, else merged as text into the
// user turn that follows, the same way every time, so the prompt's prefix stays cacheable.
import type { RequestMessage } from "./request.ts";

const isSystem = (m: RequestMessage) => m.role === "system" || m.role === "developer";

/**
 * The messages with every inner system turn placed: as is when `acceptsInnerSystem()` (asked only
 * when there is one), else its
 * text put before the next user turn's (a blank line between), or turned into a user turn when
 * no user turn follows. Leading system turns are the renderer's (chat/renderer.ts).
 */
export function placeSystemTurns(messages: RequestMessage[], acceptsInnerSystem: () => boolean): RequestMessage[] {
  const first = messages.findIndex(m => !isSystem(m));
  if (first < 0 || !messages.slice(first).some(isSystem) || acceptsInnerSystem()) return messages;
  const out = messages.slice(0, first);
  let held: RequestMessage["content"] = [];
  for (const m of messages.slice(first)) {
    if (isSystem(m)) {
      held = [...held, ...m.content, { type: "text", text: "\n\n" }];
    } else if (m.role === "user" && held.length > 0) {
      out.push({ ...m, content: [...held, ...m.content] });
      held = [];
    } else {
      out.push(m);
    }
  }
  if (held.length > 0) out.push({ role: "user", content: held.slice(0, -1) });
  return out;
}
