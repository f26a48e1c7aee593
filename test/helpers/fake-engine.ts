// A fake engine and model source for model-free route tests: scripted text, real protocol.
import type { AcquiredModel, ModelListing, ModelSource } from "../../src/api/model-source.ts";
import { ChatRenderer } from "../../src/chat/renderer.ts";
import { EngineError, type Engine, type EngineHealth, type GenerateEvent, type GenerateRequest, type ModelInfo } from "../../src/engine/types.ts";
import { ModelNotFoundError } from "../../src/models/errors.ts";
import { ModelNames } from "../../src/models/model-names.ts";

export class FakeEngine implements Engine {
  requests: GenerateRequest[] = [];
  /** Pieces emitted one per step; the request's maxTokens cuts them. */
  constructor(
    public pieces: string[] = ["Hello", ",", " world", "!"],
    public failWith: GenerateEvent | null = null,
    public stepDelayMs = 0,
  ) {}

  async *generate(request: GenerateRequest, signal?: AbortSignal): AsyncGenerator<GenerateEvent> {
    this.requests.push(request);
    if (this.failWith) {
      yield this.failWith;
      return;
    }
    yield { kind: "accepted", promptTokens: 7 };
    const max = request.maxTokens ?? this.pieces.length;
    const choices = request.n ?? 1;
    let n = 0;
    for (const piece of this.pieces.slice(0, max)) {
      if (signal?.aborted) return;
      if (this.stepDelayMs) await Bun.sleep(this.stepDelayMs);
      n++;
      // Fake log-probabilities: the token's own, and `k` made-up alternatives below it.
      const logprobs =
        request.logprobs === undefined
          ? {}
          : {
              logprobs: [{
                token: n,
                bytes: Array.from(new TextEncoder().encode(piece)),
                logprob: -0.5,
                top: Array.from({ length: request.logprobs }, (_, i) => ({ token: 100 + i, bytes: [97 + i], logprob: -1 - i })),
              }],
            };
      for (let index = 0; index < choices; index++) {
        if (n < Math.min(max, this.pieces.length)) yield { kind: "text", index, text: piece, tokens: [n], ...logprobs };
        else {
          const finishReason = max < this.pieces.length ? "length" : "stop";
          const usage = { promptTokens: index === 0 ? 7 : 0, completionTokens: n, cachedTokens: 0 };
          const timings = { promptN: 7, promptMs: 1, predictedN: n, predictedMs: 2 };
          yield { kind: "done", index, text: piece, tokens: [n], ...logprobs, finishReason, usage, timings };
        }
      }
    }
  }
  async tokenize(text: string) {
    return Array.from(text, c => c.charCodeAt(0));
  }
  async tokenizePrompt(prompt: Array<{ text: string }>) {
    return Array.from(prompt.map(p => p.text).join(""), c => c.charCodeAt(0));
  }
  async detokenize(tokens: number[]) {
    return String.fromCharCode(...tokens);
  }
  async tokenPieces(tokens: number[]) {
    return tokens.map(t => new TextEncoder().encode(String.fromCharCode(t)));
  }
  /** Embeddings: a generative fake, so it refuses as the runner does. */
  async embed(): Promise<never> {
    throw new EngineError("invalid_request", "this model cannot produce embeddings: it declares no pooling type (a generative model)");
  }
  /** Reranking: a generative fake, so it refuses as the runner does. */
  async rerank(): Promise<never> {
    throw new EngineError("invalid_request", "this model is not a reranker: it declares no rank pooling");
  }
  async info() {
    return fakeInfo;
  }
  health(): EngineHealth {
    return { state: { state: "loaded", info: fakeInfo }, slotsTotal: 4, slotsBusy: 0, queued: 0, kvTokens: 0, kvCapacity: 4096, inFlight: 0 };
  }
  async close() {}
}

export const fakeInfo: ModelInfo = {
  nCtx: 4096,
  nCtxTrain: 4096,
  nVocab: 1000,
  nParams: 1234,
  sizeBytes: 5678,
  description: "fake",
  chatTemplate: null,
  bosText: "<s>",
  eosText: "</s>",
  metadata: { "general.architecture": "llama" },
  maxChoices: 16,
};

export class FakeModels implements ModelSource {
  constructor(
    public engine: Engine = new FakeEngine(),
    public id = "fake-model",
    public defaults?: AcquiredModel["defaults"],
    /** A Jinja chat template for the fake model (default: none, so the generic built-in). */
    public chatTemplate: string | null = null,
  ) {}
  defaultId() {
    return this.id;
  }
  async list(): Promise<ModelListing[]> {
    return [{ id: this.id, created: 1700000000, sizeBytes: 5678, state: "loaded", info: fakeInfo, family: "generic", chatTemplate: "builtin:generic" }];
  }
  /** A request's `model` as the registry resolves it (model-names.ts): omitted or empty is this model. */
  private resolve(name?: string | null): string {
    const id = new ModelNames().resolve(name, [this.id]);
    if (id !== this.id) throw new ModelNotFoundError(id);
    return id;
  }
  async acquire(name?: string | null): Promise<AcquiredModel> {
    const id = this.resolve(name);
    return {
      id,
      engine: this.engine,
      info: fakeInfo,
      chat: new ChatRenderer({ chatTemplate: this.chatTemplate, bosText: "<s>", eosText: "</s>", modelId: id }),
      fingerprint: "fp",
      defaults: this.defaults,
    };
  }
  health() {
    return { ok: true, models: [] };
  }
  async unload(name?: string | null) {
    this.resolve(name);
    return false;
  }
}
