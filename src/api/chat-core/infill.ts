// Fill-in-the-middle prompts, dialect-neutral: the code before the cursor, the code after it,
// other files for context, and the text already typed → the token ids a FIM model was trained on.
// llama-server's /infill, Ollama's /api/generate `suffix` and anything else that completes code in
// the middle build their prompt here, so that every dialect gives the same tokens.
//
// The layout is the repo-level FIM pattern (Qwen2.5-Coder, arXiv 2409.12186), as llama-server
// builds it, token for token, so greedy answers match it:
//
//   [REP]myproject\n [SEP]file0\n text0 … [SEP]filename\n [BOS?] [PRE]prefix prompt [SUF]suffix [MID]
//
// Without a SEP token each extra file is introduced by a plain-text "--- snippet ---" line; without
// a REP token the project line is left out. Prefix, suffix and extra text are tokenized as text
// (never control tokens); the prompt (text typed at the cursor) parses special tokens, as there.
import type { ModelInfo } from "../../engine/types.ts";
import { badRequest } from "../errors.ts";

/** A vocabulary's FIM tokens (null where it has none) and whether it wants a BOS first. */
export interface FimTokens {
  pre: number | null;
  suf: number | null;
  mid: number | null;
  pad: number | null;
  rep: number | null;
  sep: number | null;
  bos: number | null;
  addBos: boolean;
}

/** Text, or text and token ids mixed (llama-server accepts both for prefix and suffix). */
export type FimText = string | Array<string | number>;

export interface InfillInput {
  /** Code before the cursor. */
  prefix: FimText;
  /** Code after the cursor. */
  suffix: FimText;
  /** Text already typed at the cursor, appended to the prefix (may hold control tokens). */
  prompt?: string;
  /** Other files, put before the prefix as context (the most recent last). */
  extra?: Array<{ filename?: string; text: string }>;
}

/** How much of the context the prompt may take (llama-server's batch, slot context and -n). */
export interface InfillBudget {
  nBatch: number;
  nCtx: number;
  /** The server's default output limit; -1 when it has none. */
  nPredict: number;
}

export type Tokenize = (text: string, addSpecial: boolean, parseSpecial: boolean) => Promise<number[]>;

const PROJECT_LINE = "myproject\n";
const CURRENT_FILE_LINE = "filename\n";
/** Separates extra files when the vocabulary has no file-separator token. */
const SNIPPET_SEPARATOR = "\n\n--- snippet ---\n\n";

/** 400 naming the model when it has no prefix, suffix or middle token: it was not trained for FIM. */
export function requireFim(info: Pick<ModelInfo, "fim">, modelId: string): FimTokens {
  const fim = info.fim;
  const missing = (["pre", "suf", "mid"] as const).filter(role => fim?.[role] == null);
  if (!fim || missing.length > 0) {
    throw badRequest(
      `the model '${modelId}' does not support fill-in-the-middle: its vocabulary has no FIM ${missing.join(", ")} token${missing.length > 1 ? "s" : ""}`,
      { param: "model", code: "infill_not_supported" },
    );
  }
  return fim;
}

async function tokenizeMixed(value: FimText, tokenize: Tokenize): Promise<number[]> {
  if (typeof value === "string") return tokenize(value, false, false);
  const out: number[] = [];
  for (const part of value) {
    if (typeof part === "number") out.push(part);
    else out.push(...(await tokenize(part, false, false)));
  }
  return out;
}

/**
 * The FIM prompt's token ids. The prefix keeps its last 3/4 of a batch, the suffix its first
 * quarter less the typed prompt, and extra files fill what the context has left after a batch
 * and twice the output limit (oldest dropped first), so that the prompt fits one slot.
 */
export async function infillTokens(input: InfillInput, fim: FimTokens, budget: InfillBudget, tokenize: Tokenize): Promise<number[]> {
  const [pre, suf, mid] = [fim.pre!, fim.suf!, fim.mid!];
  const prefix = await tokenizeMixed(input.prefix, tokenize);
  const suffix = await tokenizeMixed(input.suffix, tokenize);
  const typed = input.prompt ? await tokenize(input.prompt, false, true) : [];

  const extra: number[] = [];
  if (fim.rep != null) extra.push(fim.rep, ...(await tokenize(PROJECT_LINE, false, false)));
  for (const file of input.extra ?? []) {
    if (fim.sep != null) extra.push(fim.sep, ...(await tokenize(`${file.filename ?? "tmp"}\n`, false, false)));
    else extra.push(...(await tokenize(SNIPPET_SEPARATOR, false, false)));
    extra.push(...(await tokenize(file.text, false, false)));
  }
  if (fim.sep != null) extra.push(fim.sep, ...(await tokenize(CURRENT_FILE_LINE, false, false)));

  const quarter = Math.trunc(budget.nBatch / 4);
  const prefixTake = Math.min(prefix.length, 3 * quarter);
  const suffixTake = Math.min(suffix.length, Math.max(0, quarter - (2 + typed.length)));
  const extraTake = Math.min(Math.max(0, budget.nCtx - budget.nBatch - 2 * budget.nPredict), extra.length);

  // Extra files go before the BOS, as llama-server puts them (it adds BOS to the FIM part first).
  const out: number[] = [...extra.slice(extra.length - extraTake)];
  if (fim.addBos && fim.bos != null) out.push(fim.bos);
  out.push(pre, ...prefix.slice(prefix.length - prefixTake), ...typed);
  out.push(suf, ...suffix.slice(0, suffixTake));
  out.push(mid);
  return out;
}
