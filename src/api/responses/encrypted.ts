// `reasoning.encrypted_content` (asked for with include: ["reasoning.encrypted_content"], Codex's
// default with store: false): the reasoning text travels to the client and back in one opaque
// string, so a stateless client can send a turn's reasoning back for the template to render.
// Hearth's is not encrypted, only encoded and signed (the Anthropic dialect's thinking HMAC): the
// text is the user's own model's, and the signature tells Hearth's strings from anyone else's.
import { timingSafeEqual } from "node:crypto";
import { signThinking } from "../anthropic/signature.ts";

const PREFIX = "hearth1.";

/** The reasoning text as an encrypted_content string. */
export function sealReasoning(text: string, sign: (text: string) => string = signThinking): string {
  return `${PREFIX}${Buffer.from(text, "utf8").toString("base64url")}.${sign(text)}`;
}

/** The reasoning text of one of Hearth's own encrypted_content strings; null for any other (another server's, or altered). */
export function openReasoning(sealed: string, sign: (text: string) => string = signThinking): string | null {
  if (!sealed.startsWith(PREFIX)) return null;
  const dot = sealed.indexOf(".", PREFIX.length);
  if (dot < 0) return null;
  const text = Buffer.from(sealed.slice(PREFIX.length, dot), "base64url").toString("utf8");
  const [want, got] = [Buffer.from(sign(text)), Buffer.from(sealed.slice(dot + 1))];
  return want.length === got.length && timingSafeEqual(want, got) ? text : null;
}
