// Helpers for passing strings into C.
const encoder = new TextEncoder();

/** A NUL-terminated UTF-8 copy of s, for `const char *` parameters. */
export function cString(s: string): Uint8Array {
  const bytes = new Uint8Array(Buffer.byteLength(s, "utf8") + 1);
  encoder.encodeInto(s, bytes);
  return bytes;
}

export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}
