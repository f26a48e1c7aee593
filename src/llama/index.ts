// The thin bun:ffi binding to libllama. Only this folder knows about pointers.
export { Batch, DecodeError, LlamaContext, maxSequences, type ContextOptions } from "./context.ts";
export { NativeLibraryError, findLibraryDir } from "./library.ts";
export { LlamaModel, ModelLoadError, initBackend, type ModelLoadOptions } from "./model.ts";
export { drainNativeLog } from "./native-log.ts";
export { GrammarStop, Sampler, defaultSampling, grammarBounds, grammarError, tooAmbiguousMessage, type GrammarParams, type SamplingParams } from "./sampler.ts";
export { Vocab, type SpecialToken } from "./vocab.ts";
export { applyBuiltinChatTemplate } from "./chat-template.ts";
export { RpcUnsupportedError, addRpcServer, listDevices, takeLayerPlacement, type BackendDevice, type DeviceType } from "./devices.ts";
export { LLAMA_FTYPE, QuantizeError, quantizeModel, type QuantType } from "./quantize.ts";
