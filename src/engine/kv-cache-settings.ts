// The KV cache's types and flash attention (-ctk / -ctv / -fa) as context options, checked first:
// llama.cpp refuses some combinations with only a log line, and the runner's load error should
// name the flag.
import type { ContextOptions } from "../llama/context.ts";
import { flashAttnValue, kvCacheProblem, type KvCacheSettings } from "../llama/kv-cache-types.ts";

export function kvCacheContextOptions(settings: KvCacheSettings | undefined): Pick<ContextOptions, "typeK" | "typeV" | "flashAttn"> {
  if (!settings) return {};
  const problem = kvCacheProblem(settings);
  if (problem) throw new Error(problem);
  return { typeK: settings.typeK, typeV: settings.typeV, flashAttn: flashAttnValue(settings.flashAttn) };
}
