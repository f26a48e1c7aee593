// llama-server's generation fields → the chat core's generation options (its names, its `samplers`
// list, its logit_bias forms), and back out as the `generation_settings` object its answers and
// /props report. Samplers Hearth does not have (DRY, XTC, typical, top-n-sigma, mirostat, dynamic
// temperature) are accepted only at their neutral values, so no request silently samples otherwise.
import type { GenerateRequest, ModelInfo } from "../../engine/types.ts";
import { resolveGeneration, type SamplingOptions } from "../chat-core/sampling.ts";
import { badRequest } from "../errors.ts";
import type { AcquiredModel } from "../model-source.ts";
import { requestGrammar } from "../response-format.ts";
import type { NativeGenerationFields } from "./completion-schema.ts";

/** llama-server's default sampler chain; Hearth's runs the same order (neutral ones are no-ops). */
export const DEFAULT_SAMPLERS = ["penalties", "dry", "top_n_sigma", "top_k", "typ_p", "top_p", "min_p", "xtc", "temperature"];
/** The samplers Hearth's chain applies, in its order. */
const ACTIVE = ["penalties", "top_k", "top_p", "min_p", "temperature"];
/** One-letter names of the string form (common/sampling.cpp). */
const LETTERS: Record<string, string> = { e: "penalties", d: "dry", s: "top_n_sigma", k: "top_k", y: "typ_p", p: "top_p", m: "min_p", x: "xtc", t: "temperature" };
const ALIASES: Record<string, string> = { typical_p: "typ_p", typical: "typ_p", nucleus: "top_p", temp: "temperature", top_n_sigma: "top_n_sigma" };

/** Biases below this are "never": JSON cannot carry -Infinity, and the sampler adds it in f32. */
const NEVER = -1e30;

function samplerNames(samplers: string[] | string): string[] {
  const names = typeof samplers === "string" ? [...samplers].map(c => LETTERS[c] ?? c) : samplers.map(s => s.toLowerCase().replaceAll("-", "_"));
  return names.map(n => {
    const name = ALIASES[n] ?? n;
    if (!DEFAULT_SAMPLERS.includes(name)) throw badRequest(`unknown sampler '${n}' (known: ${DEFAULT_SAMPLERS.join(", ")})`, { param: "samplers" });
    return name;
  });
}

/** Sampling options with the samplers a `samplers` list leaves out made neutral; 400 for another order. */
function applySamplers(list: string[], s: SamplingOptions): SamplingOptions {
  const active = list.filter(n => ACTIVE.includes(n));
  const order = ACTIVE.filter(n => active.includes(n));
  if (active.join() !== order.join()) {
    throw badRequest(`samplers must keep the order ${ACTIVE.join(", ")} (Hearth's chain is fixed); leaving samplers out is fine`, { param: "samplers" });
  }
  const out = { ...s };
  if (!active.includes("penalties")) Object.assign(out, { repeatPenalty: 1, presencePenalty: 0, frequencyPenalty: 0 });
  if (!active.includes("top_k")) out.topK = 0;
  if (!active.includes("top_p")) out.topP = 1;
  if (!active.includes("min_p")) out.minP = 0;
  if (!active.includes("temperature")) out.temperature = 1;
  return out;
}

function checkNeutral(body: NativeGenerationFields): void {
  const off: Array<[keyof NativeGenerationFields, boolean]> = [
    ["typical_p", body.typical_p != null && body.typical_p !== 1],
    ["mirostat", body.mirostat != null && body.mirostat !== 0],
    ["dry_multiplier", body.dry_multiplier != null && body.dry_multiplier !== 0],
    ["xtc_probability", body.xtc_probability != null && body.xtc_probability !== 0],
    ["dynatemp_range", body.dynatemp_range != null && body.dynatemp_range !== 0],
    ["top_n_sigma", body.top_n_sigma != null && body.top_n_sigma > 0],
  ];
  const used = off.find(([, on]) => on);
  if (used) throw badRequest(`${used[0]} is not supported: Hearth has no such sampler (leave it out or at its neutral value)`, { param: used[0] });
}

/** llama-server's logit_bias (pairs or an object; ids or text; false = never) → id → bias. */
async function logitBias(
  bias: NativeGenerationFields["logit_bias"],
  tokenize: (text: string) => Promise<number[]>,
): Promise<Record<string, number> | undefined> {
  if (bias == null) return undefined;
  const entries: Array<[unknown, unknown]> = Array.isArray(bias) ? bias.map(pair => [pair[0], pair[1]]) : Object.entries(bias);
  const out: Record<string, number> = {};
  for (const [key, value] of entries) {
    if (typeof value === "boolean" && value) continue; // true: no bias (as llama-server)
    const b = value === false ? NEVER : value;
    if (typeof b !== "number") throw badRequest("logit_bias values are numbers or false", { param: "logit_bias" });
    if (typeof key === "number" || (typeof key === "string" && Array.isArray(bias) === false && /^\d+$/.test(key))) {
      out[String(key)] = b;
    } else if (typeof key === "string") {
      for (const id of await tokenize(key)) out[String(id)] = b;
    } else {
      throw badRequest("logit_bias keys are token ids or text", { param: "logit_bias" });
    }
  }
  return out;
}

export type NativeParams = Omit<GenerateRequest, "prompt" | "addSpecial">;

/** The engine parameters of a native request (prompt aside). */
export async function nativeParams(body: NativeGenerationFields, model: AcquiredModel): Promise<NativeParams> {
  checkNeutral(body);
  const limit = body.n_predict ?? body.max_tokens ?? -1;
  const seed = body.seed == null || body.seed === -1 || body.seed === 4294967295 ? undefined : body.seed;
  let sampling: SamplingOptions = {
    temperature: body.temperature ?? undefined,
    topK: body.top_k ?? undefined,
    topP: body.top_p ?? undefined,
    minP: body.min_p ?? undefined,
    seed,
    repeatPenalty: body.repeat_penalty ?? undefined,
    presencePenalty: body.presence_penalty ?? undefined,
    frequencyPenalty: body.frequency_penalty ?? undefined,
    penaltyLastN: body.repeat_last_n ?? undefined,
    logitBias: await logitBias(body.logit_bias, text => model.engine.tokenize(text, false, false)),
  };
  const defaults = model.defaults;
  if (body.samplers != null) {
    // Neutralize over the model's defaults, not over "unset".
    const filled = {
      temperature: defaults?.temperature, topK: defaults?.topK, topP: defaults?.topP, minP: defaults?.minP,
      ...Object.fromEntries(Object.entries(sampling).filter(([, v]) => v !== undefined)),
    } as SamplingOptions;
    sampling = applySamplers(samplerNames(body.samplers), filled);
  }
  const grammar = requestGrammar(body);
  const params = resolveGeneration(
    {
      maxTokens: limit === -1 ? null : limit,
      stop: body.stop ?? [],
      ignoreEos: body.ignore_eos ?? undefined,
      cachePrompt: body.cache_prompt ?? undefined,
      postSamplingProbs: body.post_sampling_probs ?? undefined,
      sampling,
    },
    model.info.nVocab,
    defaults,
  );
  const nProbs = body.n_probs ?? 0;
  return {
    ...(grammar ? { grammar } : {}),
    ...params,
    ...(nProbs > 0 ? { logprobs: nProbs } : {}),
    // id_slot: the request runs in that slot (the engine waits for it; -1 or absent: any).
    ...(body.id_slot != null && body.id_slot >= 0 ? { slot: body.id_slot } : {}),
  };
}

/** llama-server's `generation_settings` for a request's resolved parameters. */
export function generationSettings(p: NativeParams, info: ModelInfo, extra: { stream: boolean; nPredict: number; samplers?: string[] }) {
  const s = p.sampling;
  const bias = s.logitBias.map(([token, b]) => ({ bias: b <= NEVER ? null : b, token }));
  if (p.ignoreEos) for (const token of info.eogTokens ?? []) bias.push({ bias: null, token });
  return {
    seed: s.seed ?? 4294967295,
    temperature: s.temperature,
    dynatemp_range: 0,
    dynatemp_exponent: 1,
    top_k: s.topK,
    top_p: s.topP,
    min_p: s.minP,
    top_n_sigma: -1,
    xtc_probability: 0,
    xtc_threshold: 0.1,
    typical_p: 1,
    repeat_last_n: s.penaltyLastN,
    repeat_penalty: s.repeatPenalty,
    presence_penalty: s.presencePenalty,
    frequency_penalty: s.frequencyPenalty,
    dry_multiplier: 0,
    dry_base: 1.75,
    dry_allowed_length: 2,
    dry_penalty_last_n: -1,
    dry_sequence_breakers: ["\n", ":", "\"", "*"],
    mirostat: 0,
    mirostat_tau: 5,
    mirostat_eta: 0.1,
    adaptive_target: -1,
    adaptive_decay: 0.9,
    stop: p.stop,
    max_tokens: extra.nPredict,
    n_predict: extra.nPredict,
    n_keep: 0,
    n_discard: 0,
    ignore_eos: p.ignoreEos,
    stream: extra.stream,
    logit_bias: bias,
    n_probs: p.logprobs ?? 0,
    min_keep: 0,
    grammar: p.grammar?.gbnf ?? "",
    grammar_lazy: p.grammar?.lazy !== undefined,
    samplers: extra.samplers ?? DEFAULT_SAMPLERS,
    timings_per_token: false,
    post_sampling_probs: p.postSamplingProbs ?? false,
    lora: [],
  };
}
