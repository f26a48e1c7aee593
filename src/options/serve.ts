// The flags of `hearth serve`, each defined once. `hearth serve --help`, the flag block of
// docs/configuration.md (`bun scripts/gen-docs.ts`) and the parser come from this table, and
// modules that need a default when their caller gave none import it from SERVE_DEFAULTS.
// A new flag is one entry here plus its use in cli.ts (and, with `config`, its hearth.json key in
// src/models/config.ts, which the compiler then asks for).
import { LOAD_MODES } from "../engine/load-mode.ts";
import { FLASH_ATTN_MODES, KV_CACHE_TYPES } from "../llama/kv-cache-types.ts";
import type { LogFormat } from "../util/log.ts";
import { defaultsOf, type OptionSpec } from "./option.ts";

export const SERVE_OPTIONS = {
  model: { kind: "string", short: ["m"], arg: "PATH", repeat: true, help: "a GGUF file, or a Hugging Face checkpoint folder, to serve" },
  "models-dir": {
    kind: "string",
    arg: "DIR",
    repeat: true,
    defaultText: "./models and $HEARTH_HOME/models, unless --model is given",
    help: "folder scanned for *.gguf and checkpoint folders, recursively",
  },
  alias: {
    kind: "string",
    arg: "NAME[=MODEL]",
    repeat: true,
    help: "another name for a model, over hearth.json's aliases; NAME may hold * wildcards (claude-*=MODEL); a bare NAME names the default model",
  },
  "default-model": {
    kind: "string",
    arg: "ID",
    defaultText: "the only model served, if just one",
    help: "the model of a request whose `model` is omitted or empty (an id or alias)",
  },
  host: { kind: "string", arg: "HOST", default: "127.0.0.1", help: "address to bind" },
  port: { kind: "int", arg: "PORT", default: 8080, help: "port; 0 takes any free one" },
  "ctx-size": { kind: "int", short: ["c"], arg: "N", default: 4096, config: "ctx_size", help: "KV cache size in tokens, one cache shared by the slots" },
  parallel: { kind: "int", short: ["np"], arg: "N", default: 4, config: "parallel", help: "sequences decoded at once" },
  "n-predict": {
    kind: "int",
    short: ["n"],
    arg: "N",
    min: -1,
    default: -1,
    defaultMeans: "until end of generation or context",
    config: "max_tokens",
    help: "output limit of a request that sets no max_tokens",
  },
  "reasoning-budget": {
    kind: "int",
    arg: "N",
    min: -1,
    default: -1,
    defaultMeans: "no limit",
    config: "reasoning_budget",
    help: "most tokens a reasoning model thinks, for a request that sets no budget (llama-server's --reasoning-budget): then the thinking is closed and the answer begins; 0: no thinking",
  },
  temp: {
    kind: "string",
    arg: "T",
    defaultText: "the GGUF's or the family's, else 0.8",
    help: "sampling temperature of a request that sets none (llama-server's --temp); hearth.json's sampling.temperature wins for its model",
  },
  seed: { kind: "int", arg: "N", min: -1, default: -1, defaultMeans: "a random seed per request", help: "sampling seed of a request that sets none (llama-server's --seed)" },
  threads: { kind: "int", short: ["t"], arg: "N", default: () => navigator.hardwareConcurrency || 4, defaultText: "all cores", help: "CPU threads" },
  "batch-size": { kind: "int", short: ["b"], arg: "N", default: 512, help: "max tokens per decode step" },
  "queue-size": { kind: "int", arg: "N", default: 64, help: "requests waiting for a slot before 503" },
  "stream-interval": {
    kind: "int",
    arg: "MS",
    min: 0,
    default: 50,
    help: "once a stream's first text is out, its next tokens are sent together at most this often (each still its own event): fewer wake-ups per token, less CPU taken from decoding; the first text and the end go at once; 0: every token as it is decoded",
  },
  "gpu-layers": {
    kind: "int",
    short: ["ngl"],
    arg: "N",
    default: -1,
    defaultText: "all",
    config: "gpu_layers",
    help: "layers offloaded to the GPU and RPC workers; the first layers stay on the local CPU",
  },
  "load-mode": {
    kind: "enum",
    arg: "M",
    choices: LOAD_MODES,
    default: "auto",
    config: "load_mode",
    help: "how weights reach memory: read (direct I/O: one copy, page cache untouched), mmap (map the file), or auto: read when the file takes under half the free memory, else mmap; mmap on macOS",
  },
  "cache-type-k": {
    kind: "enum",
    short: ["ctk"],
    arg: "TYPE",
    choices: KV_CACHE_TYPES,
    default: "f16",
    config: "cache_type_k",
    help: "KV cache data type for K, as llama-server: q8_0 halves the cache, q4_0 quarters it",
  },
  "cache-type-v": {
    kind: "enum",
    short: ["ctv"],
    arg: "TYPE",
    choices: KV_CACHE_TYPES,
    default: "f16",
    config: "cache_type_v",
    help: "KV cache data type for V; a quantized type needs flash attention (on or auto)",
  },
  "flash-attn": {
    kind: "enum",
    short: ["fa"],
    arg: "on|off|auto",
    choices: FLASH_ATTN_MODES,
    default: "auto",
    config: "flash_attn",
    help: "flash attention; auto: where the backend supports it",
  },
  rpc: { kind: "string", arg: "HOST:PORT[,…]", config: "rpc", help: "RPC workers (`hearth worker`) that take the offloaded layers" },
  "tensor-split": {
    kind: "list",
    short: ["ts"],
    arg: "W,…",
    item: "number",
    maxItems: 16,
    config: "tensor_split",
    defaultText: "by free memory, as llama.cpp",
    help: "weights of the offload devices: RPC workers in --rpc order, then local GPUs",
  },
  "rpc-timeout": {
    kind: "int",
    arg: "S",
    default: 120,
    help: "stop a runner whose RPC worker has not answered for S seconds while requests wait; 0: never",
  },
  "api-key": { kind: "string", arg: "KEY", repeat: true, env: "HEARTH_API_KEY", help: "require this key" },
  "api-key-file": { kind: "string", arg: "FILE", help: "require one of the keys in FILE (one per line)" },
  cors: { kind: "list", arg: "ORIGINS", help: "let web pages from these origins use the API (comma separated, or '*'); other sites' pages are refused (403)" },
  "allowed-hosts": {
    kind: "list",
    arg: "NAMES",
    repeat: true,
    help: "Host names answered besides IP addresses and localhost (comma separated, or '*' for any), e.g. a reverse proxy's; always checked when bound to loopback (DNS-rebinding guard), elsewhere once given",
  },
  "max-body": { kind: "int", arg: "BYTES", default: 16 << 20, unit: "bytes", help: "largest request body" },
  "chat-template": {
    kind: "string",
    arg: "T",
    config: "chat_template",
    help: "a family name (qwen, gemma, llama2, llama3, chatglm3, glm4, mistral, phi3, generic) or a .jinja file, instead of the GGUF's",
  },
  mmproj: {
    kind: "string",
    arg: "FILE",
    config: "mmproj",
    defaultText: "an mmproj*.gguf beside the model whose metadata matches it",
    help: "vision projector (mmproj GGUF) of the model, as llama-server's --mmproj: the model then takes images",
  },
  "allow-image-urls": {
    kind: "bool",
    help: "fetch http(s) image URLs in requests (public addresses only, 20 MB and 10 s an image); off: images come as data: URLs",
  },
  "parse-special-in-chat": {
    kind: "bool",
    help: "let special-token text in chat messages become control tokens, as llama-server does (off: messages are always text)",
  },
  hf: { kind: "string", short: ["hf"], arg: "SOURCE", repeat: true, help: "pull OWNER/REPO:QUANT, OWNER/REPO/FILE.gguf or a URL before serving; HF_TOKEN honoured" },
  "hf-endpoint": { kind: "string", arg: "URL", env: "HF_ENDPOINT", defaultText: "https://huggingface.co", help: "where Hugging Face is reached, e.g. a mirror" },
  config: { kind: "string", arg: "FILE", defaultText: "./hearth.json if present", help: "aliases and per-model settings" },
  "max-loaded": { kind: "int", arg: "N", default: 0, defaultMeans: "no limit", help: "keep at most N models loaded; the least recently used idle one is unloaded first" },
  "idle-unload": { kind: "int", arg: "S", default: 0, defaultMeans: "never", help: "unload a model idle for S seconds" },
  "shutdown-timeout": { kind: "int", arg: "S", default: 30, help: "on SIGTERM/SIGINT, let running requests finish for S seconds" },
  "request-timeout": {
    kind: "int",
    arg: "S",
    default: 0,
    defaultMeans: "no limit",
    help: "cancel a generation after S seconds: 504 request_timeout, or a final error event in a stream",
  },
  "max-stream-buffer": {
    kind: "int",
    arg: "BYTES",
    default: 4 << 20,
    unit: "bytes",
    help: "output a stream may hold for a client that stopped reading before its request is cancelled",
  },
  "responses-store-size": {
    kind: "int",
    arg: "BYTES",
    default: 64 << 20,
    unit: "bytes",
    help: "memory for stored /v1/responses responses (previous_response_id, GET /v1/responses/{id}); the least recently used is dropped first",
  },
  "prompt-cache-dir": {
    kind: "string",
    arg: "DIR",
    defaultText: "$HEARTH_HOME/cache/kv",
    help: "where sequences' KV states are saved before they are lost (unload, restart, eviction) and restored from",
  },
  "slot-save-path": {
    kind: "string",
    arg: "DIR",
    defaultText: "none: slot actions off",
    help: "folder of llama-server's slot files: POST /slots/{id}?action=save|restore|erase with a filename (off without it: 501)",
  },
  "prompt-cache-size": {
    kind: "int",
    arg: "BYTES",
    unit: "bytes",
    defaultText: "the smaller of 8 GiB and 10% of the free disk",
    env: "HEARTH_PROMPT_CACHE_SIZE",
    help: "byte budget of the prompt cache directory, least recently used dropped first; 0 turns the prompt cache off",
  },
  "log-format": { kind: "enum", arg: "F", choices: ["pretty", "json"] as const satisfies readonly LogFormat[], default: "pretty", help: "pretty, or json: one object per line, one line per request" },
  "no-ui": { kind: "bool", help: "do not serve the chat page at /" },
  verbose: { kind: "bool", help: "show llama.cpp's own log lines" },
} as const satisfies Record<string, OptionSpec>;

export type ServeOptionName = keyof typeof SERVE_OPTIONS;

/** The hearth.json keys of a model's entry that stand for a flag. */
export type ServeConfigKey = { [K in ServeOptionName]: (typeof SERVE_OPTIONS)[K] extends { config: infer C extends string } ? C : never }[ServeOptionName];

/** Built-in defaults, for modules whose caller may leave a setting out. */
export const SERVE_DEFAULTS = defaultsOf(SERVE_OPTIONS);
