// Request bodies: strict UTF-8, valid JSON, bounded size and nesting — each failure a 400/413 in
// OpenAI's envelope (Bun would otherwise turn invalid UTF-8 into U+FFFD silently).
import { badRequest, tooLarge } from "./errors.ts";

const MAX_DEPTH = 64;
const utf8 = new TextDecoder("utf-8", { fatal: true });

function depth(value: unknown): number {
  // Iterative, so a hostile 100,000-deep body cannot overflow the stack.
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (d > max) max = d;
    if (max > MAX_DEPTH) return max;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

export function parseJsonBody(bytes: Uint8Array, maxBytes: number): unknown {
  if (bytes.length > maxBytes) {
    throw tooLarge(`request body of ${bytes.length} bytes exceeds the limit of ${maxBytes}`);
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw badRequest("The request body is not valid UTF-8.", { code: "invalid_encoding" });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest("The request body is not valid JSON.", { code: "invalid_json" });
  }
  if (depth(value) > MAX_DEPTH) {
    throw badRequest(`The request body nests deeper than ${MAX_DEPTH} levels.`, { code: "invalid_json" });
  }
  return value;
}
