// The checkpoint's tokenizer, special tokens and chat template, read from its folder:
// tokenizer.model (SentencePiece) or tokenizer.json, plus tokenizer_config.json,
// chat_template.jinja and generation_config.json when present.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ImportError } from "../errors.ts";
import { postProcessorAddsBos, vocabFromTokenizerJson } from "./hf-json.ts";
import { vocabFromSentencePiece } from "./spm-model.ts";
import type { GgufVocab } from "./vocab.ts";

export { padVocab, TokenType, type GgufVocab } from "./vocab.ts";

type TokenRef = string | { content: string } | null | undefined;
const refText = (t: TokenRef) => (typeof t === "string" ? t : t?.content);

function readJson(path: string): Record<string, unknown> | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new ImportError(`${path}: not valid JSON (${(err as Error).message})`);
  }
}

function chatTemplateOf(dir: string, cfg: Record<string, unknown> | undefined): string | undefined {
  const file = join(dir, "chat_template.jinja");
  if (existsSync(file)) return readFileSync(file, "utf8");
  const t = cfg?.chat_template;
  if (typeof t === "string") return t;
  // A list of named templates: llama.cpp uses the default one as tokenizer.chat_template.
  if (Array.isArray(t)) return (t.find(x => x?.name === "default") ?? t[0])?.template;
  return undefined;
}

export interface CheckpointTokenizer {
  vocab: GgufVocab;
  chatTemplate?: string;
}

export function loadTokenizer(dir: string): CheckpointTokenizer {
  const jsonPath = join(dir, "tokenizer.json");
  const spmPath = join(dir, "tokenizer.model");
  let vocab: GgufVocab;
  let jsonText: string | undefined;
  // A SentencePiece model is the tokenizer's own source: prefer it to its tokenizer.json export.
  if (existsSync(spmPath)) vocab = vocabFromSentencePiece(new Uint8Array(readFileSync(spmPath)));
  else if (existsSync(jsonPath)) vocab = vocabFromTokenizerJson((jsonText = readFileSync(jsonPath, "utf8")));
  else throw new ImportError(`${dir}: no tokenizer (neither tokenizer.json nor tokenizer.model)`);

  const cfg = readJson(join(dir, "tokenizer_config.json"));
  const gen = readJson(join(dir, "generation_config.json"));
  const ids = new Map<string, number>();
  vocab.tokens.forEach((t, i) => { if (!ids.has(t)) ids.set(t, i); });
  const idOf = (ref: TokenRef, role: string): number | undefined => {
    const text = refText(ref);
    if (text === undefined) return undefined;
    const id = ids.get(text);
    if (id === undefined) throw new ImportError(`tokenizer_config.json: ${role} "${text}" is not in the vocabulary`);
    return id;
  };
  const s = vocab.special;
  s.bos = idOf(cfg?.bos_token as TokenRef, "bos_token") ?? (typeof gen?.bos_token_id === "number" ? gen.bos_token_id : undefined);
  const genEos = Array.isArray(gen?.eos_token_id) ? gen.eos_token_id[0] : gen?.eos_token_id;
  s.eos = idOf(cfg?.eos_token as TokenRef, "eos_token") ?? (typeof genEos === "number" ? genEos : undefined);
  s.unk = idOf(cfg?.unk_token as TokenRef, "unk_token") ?? s.unk;
  s.pad = idOf(cfg?.pad_token as TokenRef, "pad_token");
  const bosText = refText(cfg?.bos_token as TokenRef);
  s.addBos = typeof cfg?.add_bos_token === "boolean"
    ? cfg.add_bos_token
    : jsonText ? postProcessorAddsBos(jsonText, bosText) : undefined;
  s.addEos = typeof cfg?.add_eos_token === "boolean" ? cfg.add_eos_token : undefined;
  return { vocab, chatTemplate: chatTemplateOf(dir, cfg) };
}
