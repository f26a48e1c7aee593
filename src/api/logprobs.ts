// Log-probabilities on the wire: OpenAI's chat shape (`choices[].logprobs.content[]`) and the
// legacy completions shape (`tokens` / `token_logprobs` / `top_logprobs` / `text_offset`).
// The values are the model's own distribution at each step (see engine/logprobs.ts).
import type { TokenLogprob } from "../engine/types.ts";
import { badRequest } from "./errors.ts";

/** JSON has no -Infinity: clamp as OpenAI does. */
const clamp = (lp: number) => (Number.isFinite(lp) ? Math.max(lp, -9999) : -9999);

const fatal = new TextDecoder("utf-8", { fatal: true });
const lenient = new TextDecoder("utf-8");

/**
 * A token's text: its bytes as UTF-8, cut before a character the token only begins (as
 * llama-server does); `bytes` keeps the whole piece.
 */
export function tokenText(bytes: number[]): string {
  const all = Uint8Array.from(bytes);
  for (let cut = 0; cut < 4 && cut <= all.length; cut++) {
    try {
      return fatal.decode(all.subarray(0, all.length - cut));
    } catch {
      /* try a shorter prefix */
    }
  }
  return lenient.decode(all);
}

/** What the engine is asked for, from chat's `logprobs` + `top_logprobs`. */
export function chatLogprobsRequest(body: { logprobs?: boolean | null; top_logprobs?: number | null }): number | undefined {
  if (body.top_logprobs != null && !body.logprobs) {
    throw badRequest("top_logprobs requires logprobs to be true", { param: "top_logprobs", code: "invalid_value" });
  }
  return body.logprobs ? (body.top_logprobs ?? 0) : undefined;
}

/** Chat's `logprobs` object for some tokens of a choice, or null when none were asked for. */
export function chatLogprobs(items: TokenLogprob[] | undefined) {
  if (!items) return null;
  return {
    content: items.map(t => ({
      token: tokenText(t.bytes),
      logprob: clamp(t.logprob),
      bytes: t.bytes,
      top_logprobs: t.top.map(a => ({ token: tokenText(a.bytes), logprob: clamp(a.logprob), bytes: a.bytes })),
    })),
    refusal: null,
  };
}

/**
 * The legacy completions `logprobs` object; `offset` is the character offset of the first token
 * in the choice's text (after any echoed prompt). Returns the offset after the last token too.
 */
export function completionLogprobs(items: TokenLogprob[] | undefined, offset: number) {
  if (!items) return { json: null, offset };
  const tokens: string[] = [];
  const textOffset: number[] = [];
  for (const t of items) {
    const text = tokenText(t.bytes);
    tokens.push(text);
    textOffset.push(offset);
    offset += text.length;
  }
  return {
    json: {
      tokens,
      token_logprobs: items.map(t => clamp(t.logprob)),
      top_logprobs: items.map(t => Object.fromEntries(t.top.map(a => [tokenText(a.bytes), clamp(a.logprob)]))),
      text_offset: textOffset,
    },
    offset,
  };
}
