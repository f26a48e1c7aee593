// A per-sequence llama.cpp sampler chain, in the order llama.cpp's common sampler builds it:
// logit bias → penalties → top-k → top-p → min-p → temperature → dist (or greedy).
import { type Pointer } from "bun:ffi";
import { cString } from "./cstring.ts";
import { layout } from "./layout.ts";
import { native } from "./library.ts";
import type { Vocab } from "./vocab.ts";

/** Below these, float32 logits overflow (see the sampler chain). */
export const MIN_TEMPERATURE = 1e-4;
export const MIN_REPEAT_PENALTY = 0.01;

export interface SamplingParams {
  /** 0 = greedy. */
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
  seed: number;
  repeatPenalty: number;
  presencePenalty: number;
  frequencyPenalty: number;
  /** How many recent tokens the penalties look at. */
  penaltyLastN: number;
  logitBias?: ReadonlyMap<number, number>;
  /** GBNF grammar constraining the output (root rule "root"). */
  grammar?: string;
}

export const defaultSampling: SamplingParams = {
  temperature: 0.8,
  topK: 40,
  topP: 0.95,
  minP: 0.05,
  seed: 0xffffffff,
  repeatPenalty: 1,
  presencePenalty: 0,
  frequencyPenalty: 0,
  penaltyLastN: 64,
};

export class Sampler {
  private handle: Pointer | null;

  constructor(vocab: Vocab, params: SamplingParams) {
    const { llama, shim } = native();
    const chain = shim.hearth_sampler_chain_new() as Pointer;
    const add = (s: Pointer | bigint | null) => {
      if (!s) throw new Error("sampler construction failed");
      llama.llama_sampler_chain_add(chain, s as Pointer);
    };
    try {
      if (params.grammar) {
        const g = llama.llama_sampler_init_grammar(vocab.ptr, cString(params.grammar), cString("root"));
        if (!g) throw new SyntaxError("invalid grammar");
        add(g);
      }
      if (params.logitBias && params.logitBias.size > 0) {
        const stride = layout["llama_logit_bias.size"];
        const buf = new ArrayBuffer(stride * params.logitBias.size);
        const view = new DataView(buf);
        let i = 0;
        for (const [token, bias] of params.logitBias) {
          view.setInt32(i * stride + layout["llama_logit_bias.token"], token, true);
          view.setFloat32(i * stride + layout["llama_logit_bias.bias"], bias, true);
          i++;
        }
        add(llama.llama_sampler_init_logit_bias(vocab.nTokens, params.logitBias.size, new Uint8Array(buf)));
      }
      // Logits are float32. A repeat penalty or temperature that rounds to 0 (or nearly) divides
      // them to inf, softmax makes NaN of that, and llama.cpp's sort on NaN is undefined
      // behaviour: seen here as a runner growing past 20 GB. Such a temperature is greedy in all
      // but name; the API refuses such penalties, and this floor guards every other caller.
      const repeatPenalty = Math.max(params.repeatPenalty, MIN_REPEAT_PENALTY);
      if (repeatPenalty !== 1 || params.presencePenalty !== 0 || params.frequencyPenalty !== 0) {
        add(llama.llama_sampler_init_penalties(vocab.nTokens, params.penaltyLastN, repeatPenalty, params.frequencyPenalty, params.presencePenalty));
      }
      if (params.temperature < MIN_TEMPERATURE) {
        add(llama.llama_sampler_init_greedy());
      } else {
        if (params.topK > 0) add(llama.llama_sampler_init_top_k(params.topK));
        if (params.topP < 1) add(llama.llama_sampler_init_top_p(params.topP, 1));
        if (params.minP > 0) add(llama.llama_sampler_init_min_p(params.minP, 1));
        add(llama.llama_sampler_init_temp(params.temperature));
        add(llama.llama_sampler_init_dist(params.seed >>> 0));
      }
    } catch (err) {
      llama.llama_sampler_free(chain);
      throw err;
    }
    this.handle = chain;
  }

  get ptr(): Pointer {
    if (!this.handle) throw new Error("sampler used after dispose()");
    return this.handle;
  }

  /** Samples from the logits of batch index i of ctx, and accepts the token into the chain's state. */
  sample(ctx: Pointer, i: number): number {
    // llama_sampler_sample also calls accept on the chain.
    return native().llama.llama_sampler_sample(this.ptr, ctx, i);
  }

  /** Feeds a token the sampler did not pick (e.g. prompt tokens for the penalties' history). */
  accept(token: number): void {
    native().llama.llama_sampler_accept(this.ptr, token);
  }

  dispose(): void {
    if (!this.handle) return;
    native().llama.llama_sampler_free(this.handle);
    this.handle = null;
  }
}
