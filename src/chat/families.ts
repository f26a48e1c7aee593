// Model families as data: how a family's turns are written (a Jinja template used when the GGUF
// carries none), which tokens end an assistant turn, and how the family is recognised from GGUF
// metadata. The model's own template always comes first; these are the fallback.
import { chatmlTemplate } from "./chatml.ts";

export type Family = "qwen" | "gemma" | "llama2" | "llama3" | "chatglm3" | "glm4" | "mistral" | "phi3" | "generic";

/** Sampling defaults a family's model card recommends (a request's own fields always win). */
export interface SamplingDefaults {
  temperature: number;
  topP: number;
  topK: number;
  minP: number;
  /** Seed of a request that sets none (--seed); unset: a random one. */
  seed?: number;
}

/** llama-server's built-in defaults, used where neither the GGUF nor the family says otherwise. */
export const builtinSampling: SamplingDefaults = { temperature: 0.8, topP: 0.95, topK: 40, minP: 0.05 };

export interface ChatFamily {
  /** From the family's model cards (Qwen2.5, Gemma 3, Llama 3 generation configs). */
  sampling?: Partial<SamplingDefaults>;
  /** Jinja template for a GGUF without one (system turns folded where the family has no system role). */
  template: string;
  /** Texts of the control tokens that end an assistant turn (merged with the vocab's EOG set). */
  stopTokens: string[];
}

const foldSystem = "{%- set ns = namespace(sys='') -%}{%- if messages[0]['role'] == 'system' -%}{%- set ns.sys = messages[0]['content'] + '\\n' -%}{%- set messages = messages[1:] -%}{%- endif -%}";

export const families = {
  qwen: { template: chatmlTemplate, stopTokens: ["<|im_end|>", "<|endoftext|>"], sampling: { temperature: 0.7, topP: 0.8, topK: 20, minP: 0 } },
  generic: { template: chatmlTemplate, stopTokens: ["<|im_end|>", "<|endoftext|>"] },
  gemma: {
    template:
      foldSystem +
      "{%- for m in messages -%}{%- set role = 'model' if m['role'] == 'assistant' else m['role'] -%}" +
      "{{ '<start_of_turn>' + role + '\\n' + (ns.sys if loop.first else '') + m['content'] | trim + '<end_of_turn>\\n' }}{%- endfor -%}" +
      "{%- if add_generation_prompt -%}{{ '<start_of_turn>model\\n' }}{%- endif -%}",
    stopTokens: ["<end_of_turn>", "<turn|>"],
    sampling: { temperature: 1.0, topP: 0.95, topK: 64, minP: 0 },
  },
  llama3: {
    template:
      "{{- bos_token }}{%- set ns = namespace(sys='') -%}{%- if messages[0]['role'] == 'system' -%}{%- set ns.sys = messages[0]['content'] | trim -%}{%- set messages = messages[1:] -%}{%- endif -%}" +
      "{{- '<|start_header_id|>system<|end_header_id|>\\n\\nCutting Knowledge Date: December 2023\\nToday Date: ' + date_string + '\\n\\n' + ns.sys + '<|eot_id|>' -}}" +
      "{%- for m in messages -%}{{- '<|start_header_id|>' + m['role'] + '<|end_header_id|>\\n\\n' + m['content'] | trim + '<|eot_id|>' -}}{%- endfor -%}" +
      "{%- if add_generation_prompt -%}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}{%- endif -%}",
    stopTokens: ["<|eot_id|>", "<|eom_id|>"],
    sampling: { temperature: 0.6, topP: 0.9 },
  },
  llama2: {
    template:
      "{%- set ns = namespace(sys='') -%}{%- if messages[0]['role'] == 'system' -%}{%- set ns.sys = '<<SYS>>\\n' + messages[0]['content'] + '\\n<</SYS>>\\n\\n' -%}{%- set messages = messages[1:] -%}{%- endif -%}" +
      "{%- for m in messages -%}{%- if m['role'] == 'user' -%}{{ bos_token + '[INST] ' + (ns.sys if loop.first else '') + m['content'] | trim + ' [/INST]' }}" +
      "{%- else -%}{{ m['content'] | trim + eos_token }}{%- endif -%}{%- endfor -%}",
    stopTokens: ["</s>"],
  },
  mistral: {
    template:
      "{%- set ns = namespace(sys='') -%}{%- if messages[0]['role'] == 'system' -%}{%- set ns.sys = messages[0]['content'] + '\\n\\n' -%}{%- set messages = messages[1:] -%}{%- endif -%}" +
      "{{- bos_token -}}{%- for m in messages -%}{%- if m['role'] == 'user' -%}{{- '[INST]' + (ns.sys if loop.last else '') + m['content'] + '[/INST]' -}}" +
      "{%- else -%}{{- m['content'] + eos_token -}}{%- endif -%}{%- endfor -%}",
    stopTokens: ["</s>"],
  },
  phi3: {
    template:
      "{%- for m in messages -%}{{ '<|' + m['role'] + '|>\\n' + m['content'] + '<|end|>\\n' }}{%- endfor -%}" +
      "{%- if add_generation_prompt -%}{{ '<|assistant|>\\n' }}{%- endif -%}",
    stopTokens: ["<|end|>", "<|endoftext|>"],
  },
  chatglm3: {
    template:
      "[gMASK]sop{%- for m in messages -%}{{ '<|' + m['role'] + '|>\\n ' + m['content'] }}{%- endfor -%}" +
      "{%- if add_generation_prompt -%}{{ '<|assistant|>' }}{%- endif -%}",
    stopTokens: ["<|user|>", "<|observation|>"],
  },
  glm4: {
    template:
      "[gMASK]<sop>{%- for m in messages -%}{%- if m['role'] == 'assistant' -%}{{ '<|assistant|>\\n<think></think>\\n' + m['content'] }}" +
      "{%- else -%}{{ '<|' + m['role'] + '|>\\n' + m['content'] }}{%- endif -%}{%- endfor -%}" +
      "{%- if add_generation_prompt -%}{{ '<|assistant|>' }}{%- endif -%}",
    stopTokens: ["<|user|>", "<|observation|>", "<|endoftext|>"],
  },
} satisfies Record<Family, ChatFamily>;

const byArchitecture: Array<[RegExp, Family]> = [
  [/^qwen/, "qwen"],
  [/^gemma/, "gemma"],
  [/^glm4/, "glm4"],
  [/^phi3/, "phi3"],
];

/** Markers in a chat template, most specific first. */
const byTemplate: Array<[string, Family]> = [
  ["<|im_start|>", "qwen"],
  ["<start_of_turn>", "gemma"],
  ["<|turn>", "gemma"],
  ["<|start_header_id|>", "llama3"],
  ["[gMASK]<sop>", "glm4"],
  ["[gMASK]sop", "chatglm3"],
  ["<<SYS>>", "llama2"],
  ["[INST]", "mistral"],
  ["<|assistant|>", "phi3"],
];

/** Tokens whose presence in the vocabulary names the family. */
const byToken: Array<[string, Family]> = [
  ["<|start_header_id|>", "llama3"],
  ["<start_of_turn>", "gemma"],
  ["<|im_start|>", "qwen"],
  ["<|end|>", "phi3"],
];

/**
 * The family of a model from its GGUF metadata: architecture, then chat template markers, then
 * special tokens, then general.name (a hint, like the file name, never decisive above the rest).
 */
export function detectFamily(meta: Record<string, string>, hasToken: (text: string) => boolean = () => false, fileName = ""): Family {
  const arch = meta["general.architecture"] ?? "";
  for (const [re, family] of byArchitecture) if (re.test(arch)) return family;
  if (arch === "chatglm") return meta["tokenizer.chat_template"]?.includes("[gMASK]<sop>") ? "glm4" : "chatglm3";
  const template = meta["tokenizer.chat_template"] ?? "";
  for (const [marker, family] of byTemplate) if (template.includes(marker)) return family;
  for (const [token, family] of byToken) if (hasToken(token)) return family;
  const name = `${meta["general.name"] ?? ""} ${fileName}`.toLowerCase();
  if (/llama[- ]?2/.test(name)) return "llama2";
  if (/llama[- ]?3/.test(name)) return "llama3";
  if (/mistral|mixtral/.test(name)) return "mistral";
  return "generic";
}

/** Sampling defaults for a model: its GGUF's general.sampling.* keys, then its family's, then llama-server's. */
export function samplingDefaults(meta: Record<string, string>, family: Family): SamplingDefaults {
  const fromGguf = (key: string) => {
    const n = Number(meta[`general.sampling.${key}`]);
    return meta[`general.sampling.${key}`] !== undefined && Number.isFinite(n) ? n : undefined;
  };
  const fam = (families[family] as ChatFamily).sampling ?? {};
  return {
    temperature: fromGguf("temp") ?? fam.temperature ?? builtinSampling.temperature,
    topP: fromGguf("top_p") ?? fam.topP ?? builtinSampling.topP,
    topK: fromGguf("top_k") ?? fam.topK ?? builtinSampling.topK,
    minP: fromGguf("min_p") ?? fam.minP ?? builtinSampling.minP,
  };
}
