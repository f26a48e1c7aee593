// Prompt segments → token ids, so that only template markup can become control tokens.
//
// llama.cpp tokenizes a prompt by first cutting it at special-token text (when special parsing is
// on), then tokenizing each raw-text run. We do the same, but look for special-token text only
// in segments that allow it; raw text is joined across segment boundaries before tokenizing, so
// token boundaries (BPE merges, SentencePiece's space after a special token) are exactly
// llama.cpp's whole-prompt ones whenever no message contains special-token text.
import type { SpecialToken, Vocab } from "../llama/index.ts";
import type { GenerateRequest, PromptSegment } from "./types.ts";

type Fragment = { raw: string } | { special: SpecialToken };

const specialsOf = new WeakMap<Vocab, SpecialToken[]>();

/**
 * A request's prompt as the scheduler decodes it: token ids as given (checked, BOS added when asked
 * and missing), or text segments where special-token text counts only in segments that allow it.
 */
export function promptTokens(vocab: Vocab, request: Pick<GenerateRequest, "prompt" | "addSpecial">): number[] {
  if (request.prompt.length > 0 && typeof request.prompt[0] === "number") {
    const ids = request.prompt as number[];
    const bad = ids.find(t => !vocab.isValidToken(t));
    if (bad !== undefined) throw new Error(`token id ${bad} is outside the vocabulary (0..${vocab.nTokens - 1})`);
    return request.addSpecial && vocab.addBos && ids[0] !== vocab.bos ? [vocab.bos, ...ids] : [...ids];
  }
  const segments = request.prompt as PromptSegment[];
  if (segments.length === 1) return Array.from(vocab.tokenize(segments[0]!.text, request.addSpecial, segments[0]!.parseSpecial));
  let specials = specialsOf.get(vocab);
  if (!specials) specialsOf.set(vocab, (specials = vocab.specialTokens()));
  return tokenizeSegments(vocab, segments, request.addSpecial, specials);
}

/** Cuts text at every special-token occurrence, longest tokens first (llama.cpp's order). */
export function partition(text: string, specials: readonly SpecialToken[]): Fragment[] {
  let fragments: Fragment[] = [{ raw: text }];
  for (const sp of specials) {
    if (!text.includes(sp.text)) continue;
    const next: Fragment[] = [];
    for (const f of fragments) {
      if (!("raw" in f) || !f.raw.includes(sp.text)) {
        next.push(f);
        continue;
      }
      const parts = f.raw.split(sp.text);
      parts.forEach((part, i) => {
        if (i > 0) next.push({ special: sp });
        if (part) next.push({ raw: part });
      });
    }
    fragments = next;
  }
  return fragments;
}

export function tokenizeSegments(vocab: Vocab, segments: readonly PromptSegment[], addSpecial: boolean, specials: readonly SpecialToken[]): number[] {
  // Cut, then join neighbouring raw text across segments.
  const fragments: Fragment[] = [];
  for (const seg of segments) {
    for (const f of seg.parseSpecial ? partition(seg.text, specials) : [{ raw: seg.text }]) {
      const last = fragments.at(-1);
      if ("raw" in f && last && "raw" in last) last.raw += f.raw;
      else fragments.push("raw" in f ? { raw: f.raw } : f);
    }
  }
  // Tokens marked lstrip/rstrip swallow the whitespace beside them, as in llama.cpp.
  fragments.forEach((f, i) => {
    if (!("special" in f)) return;
    const before = fragments[i - 1];
    const after = fragments[i + 1];
    if (f.special.lstrip && before && "raw" in before) before.raw = before.raw.trimEnd();
    if (f.special.rstrip && after && "raw" in after) after.raw = after.raw.trimStart();
  });
  const out: number[] = [];
  if (addSpecial && vocab.addBos && vocab.bos >= 0) out.push(vocab.bos);
  for (const f of fragments) {
    if ("special" in f) out.push(f.special.id);
    else if (f.raw) for (const t of vocab.tokenize(f.raw, false, false)) out.push(t);
  }
  return out;
}
