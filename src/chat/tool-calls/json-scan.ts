// A tolerant scanner over JSON text that may still be growing (a model's output mid-stream):
// where a value ends, or that it has not ended yet. Tool-call parsers use it to find the raw text
// of `arguments` without re-serializing it, so streamed argument deltas are exact prefixes of the
// final string.

export type Scan = { end: number } | "incomplete" | "invalid";

const WS = /\s/;

export function skipWs(text: string, pos: number): number {
  while (pos < text.length && WS.test(text[pos]!)) pos++;
  return pos;
}

/** Where the JSON value starting at `pos` (no leading whitespace) ends. */
export function scanValue(text: string, pos: number): Scan {
  if (pos >= text.length) return "incomplete";
  const c = text[pos]!;
  if (c === '"') return scanString(text, pos);
  if (c === "{" || c === "[") return scanContainer(text, pos);
  const m = /^(?:-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(pos, pos + 64));
  if (!m) {
    // A prefix of a literal or number that may still complete.
    const rest = text.slice(pos);
    if (/^-?\d*\.?\d*(?:[eE][+-]?\d*)?$/.test(rest) || ["true", "false", "null"].some(w => w.startsWith(rest))) return "incomplete";
    return "invalid";
  }
  const end = pos + m[0].length;
  // A number at the very end of the text may still grow.
  if (end === text.length && /[\d.eE+-]$/.test(m[0]) && !/^(true|false|null)$/.test(m[0])) return "incomplete";
  return { end };
}

function scanString(text: string, pos: number): Scan {
  for (let i = pos + 1; i < text.length; i++) {
    const c = text[i];
    if (c === "\\") i++;
    else if (c === '"') return { end: i + 1 };
    else if (c === "\n") return "invalid";
  }
  return "incomplete";
}

function scanContainer(text: string, pos: number): Scan {
  const object = text[pos] === "{";
  const close = object ? "}" : "]";
  let i = skipWs(text, pos + 1);
  if (i >= text.length) return "incomplete";
  if (text[i] === close) return { end: i + 1 };
  for (;;) {
    if (object) {
      if (text[i] !== '"') return i >= text.length ? "incomplete" : "invalid";
      const key = scanString(text, i);
      if (typeof key !== "object") return key;
      i = skipWs(text, key.end);
      if (i >= text.length) return "incomplete";
      if (text[i] !== ":") return "invalid";
      i = skipWs(text, i + 1);
    }
    const value = scanValue(text, i);
    if (typeof value !== "object") return value;
    i = skipWs(text, value.end);
    if (i >= text.length) return "incomplete";
    if (text[i] === close) return { end: i + 1 };
    if (text[i] !== ",") return "invalid";
    i = skipWs(text, i + 1);
    if (i >= text.length) return "incomplete";
  }
}

/** One member of a JSON object: its key and the raw text span of its value (end null: still growing). */
export interface Member {
  key: string;
  start: number;
  end: number | null;
}

/**
 * The members of the object starting at `pos`, as far as the text goes. `end` is where the object
 * closes, or null when it has not closed yet; null overall when the text is not such an object.
 */
export function scanObject(text: string, pos: number): { members: Member[]; end: number | null } | null {
  if (text[pos] !== "{") return pos >= text.length ? { members: [], end: null } : null;
  const members: Member[] = [];
  let i = skipWs(text, pos + 1);
  if (text[i] === "}") return { members, end: i + 1 };
  for (;;) {
    if (i >= text.length) return { members, end: null };
    if (text[i] !== '"') return null;
    const key = scanString(text, i);
    if (key === "invalid") return null;
    if (key === "incomplete") return { members, end: null };
    const name = JSON.parse(text.slice(i, key.end)) as string;
    i = skipWs(text, key.end);
    if (i >= text.length) return { members, end: null };
    if (text[i] !== ":") return null;
    i = skipWs(text, i + 1);
    if (i >= text.length) return { members, end: null };
    const value = scanValue(text, i);
    if (value === "invalid") return null;
    if (value === "incomplete") {
      members.push({ key: name, start: i, end: null });
      return { members, end: null };
    }
    members.push({ key: name, start: i, end: value.end });
    i = skipWs(text, value.end);
    if (i >= text.length) return { members, end: null };
    if (text[i] === "}") return { members, end: i + 1 };
    if (text[i] !== ",") return null;
    i = skipWs(text, i + 1);
  }
}
