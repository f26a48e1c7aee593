// Thinking signatures: Claude Code refuses a thinking block without one. Hearth signs the thinking
// text with an HMAC under a key kept in $HEARTH_HOME, so history stays signed across restarts.
// Signatures coming back are never checked: thinking in history is accepted as it is.
import { createHmac, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { hearthHome } from "../../util/home.ts";
import { log } from "../../util/log.ts";

const KEY_FILE = "thinking-signature.key";
const keys = new Map<string, Buffer>();

/** The signing key of `home`: read, else made once (a process that cannot write it keeps its own in memory). */
function signingKey(home: string): Buffer {
  const known = keys.get(home);
  if (known) return known;
  const path = join(home, KEY_FILE);
  let key: Buffer;
  try {
    key = readFileSync(path);
  } catch {
    key = randomBytes(32);
    try {
      mkdirSync(home, { recursive: true });
      writeFileSync(path, key, { mode: 0o600, flag: "wx" });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") key = readFileSync(path);
      else log("warn", `cannot keep the thinking-signature key in ${path} (${(err as Error).message}); signatures change when the server restarts`);
    }
  }
  keys.set(home, key);
  return key;
}

/** The signature of a thinking block's text: base64 HMAC-SHA256. */
export function signThinking(thinking: string, home = hearthHome()): string {
  return createHmac("sha256", signingKey(home)).update(thinking).digest("base64");
}
