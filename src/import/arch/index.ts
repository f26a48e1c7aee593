// The supported architectures, by the class name in config.json's "architectures".
import { ImportError } from "../errors.ts";
import type { MetaValue, TensorPlan } from "../gguf-writer.ts";
import type { HParams, HfConfig, TensorTable } from "./common.ts";
import { gemma2, gemma3 } from "./gemma.ts";
import { glm4 } from "./glm4.ts";
import { llama } from "./llama.ts";
import { qwen2, qwen3 } from "./qwen.ts";

export interface Architecture {
  hfClasses: string[];
  ggufArch: string;
  convert(cfg: HfConfig, table: TensorTable): { meta: Map<string, MetaValue>; tensors: TensorPlan[]; hparams: HParams };
}

export const ARCHITECTURES: Architecture[] = [llama, qwen2, qwen3, gemma2, gemma3, glm4];

export const supportedClasses = (): string[] => ARCHITECTURES.flatMap(a => a.hfClasses);

export function architectureFor(cfg: HfConfig): Architecture {
  const names = Array.isArray(cfg.architectures) ? (cfg.architectures as string[]) : [];
  const arch = ARCHITECTURES.find(a => names.some(n => a.hfClasses.includes(n)));
  if (!arch) {
    const what = names.length ? names.join(", ") : `model_type ${JSON.stringify(cfg.model_type)} (no "architectures")`;
    throw new ImportError(`unsupported architecture ${what}; supported: ${supportedClasses().join(", ")}`);
  }
  return arch;
}
