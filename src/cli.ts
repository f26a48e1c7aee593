#!/usr/bin/env bun
// hearth — command line entry. `hearth serve` runs the HTTP server; `__runner` (hidden) is the
// per-model child process the server starts.
import { parseArgs } from "node:util";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { log, setLogFormat, setLogLevel } from "./util/log.ts";
import { LOAD_MODES, type LoadModeSetting } from "./engine/load-mode.ts";

const HELP = `hearth — a local OpenAI-compatible LLM server on llama.cpp

Usage:
  hearth serve [options]        serve models over HTTP
  hearth pull SOURCE            download a GGUF: OWNER/REPO/FILE.gguf[@rev] from Hugging Face, or a URL
                                (--sha256 HEX, --hf-endpoint URL, --dir DIR; HF_TOKEN honoured)
  hearth import DIR [--out FILE] [--quant q4_0|q8_0|f16|bf16|f32] [--threads N]
                                convert a Hugging Face checkpoint folder (safetensors, or
                                pytorch_model.bin / *.pt read by a restricted unpickler) to GGUF
                                (default: q4_0, into ~/.hearth/models/<folder>-<quant>.gguf)
  hearth list [--models-dir D]  the local models: family, size, quantization, context
  hearth ps [--url URL]         the models a running server has loaded (slots busy)
  hearth worker [--host H] [--port P] [--threads N] [--cache]
                                an RPC worker (llama.cpp's ggml-rpc-server) that holds layers of
                                a model served elsewhere with --rpc; binds 127.0.0.1:50052 by default
  hearth --help | --version

Options for serve:
  -m, --model PATH         a GGUF file, or a Hugging Face checkpoint folder, to serve (repeatable)
      --models-dir DIR     folder scanned for *.gguf and checkpoint folders (repeatable;
                           default ./models and ~/.hearth/models)
      --host HOST          address to bind (default 127.0.0.1)
      --port PORT          port (default 8080)
  -c, --ctx-size N         KV cache size in tokens, shared by the slots (default 4096)
  -np, --parallel N        sequences decoded at once (default 4)
  -t, --threads N          CPU threads (default: all cores)
  -b, --batch-size N       max tokens per decode step (default 512)
      --queue-size N       requests waiting for a slot before 503 (default 64)
  -ngl, --gpu-layers N     layers offloaded to the GPU and RPC workers (default all)
      --load-mode M        how weights reach memory: read (direct I/O, one copy), mmap
                           (map the file), or auto (default): read when the file takes
                           under half the free memory, else mmap; mmap on macOS
      --rpc HOST:PORT,...  RPC workers (hearth worker) that take the offloaded layers
  -ts, --tensor-split W,.. weights of the offload devices: RPC workers in --rpc order, then GPUs
      --rpc-timeout S      stop a runner whose RPC worker has not answered for S s (default 120)
      --api-key KEY        require this key (repeatable; also HEARTH_API_KEY)
      --api-key-file FILE  require one of the keys in FILE (one per line)
      --cors ORIGINS       let web pages from these origins use the API (comma separated,
                           or '*'); other sites' pages are refused (403)
      --allowed-hosts NAMES  Host names answered besides IP addresses and localhost (comma
                           separated, or '*' for any), e.g. a reverse proxy's; always checked
                           when bound to loopback (DNS-rebinding guard), elsewhere once given
      --max-body BYTES     largest request body (default 16 MiB)
      --chat-template T    a family name (qwen, gemma, llama2, llama3, chatglm3, glm4,
                           mistral, phi3, generic) or a .jinja file, instead of the GGUF's
      --parse-special-in-chat  let special-token text in chat messages become control
                           tokens, as llama-server does (off: messages are always text)
      -hf, --hf SOURCE     pull OWNER/REPO:QUANT, OWNER/REPO/FILE.gguf or a URL before serving
                           (repeatable; --hf-endpoint URL for a mirror, HF_TOKEN honoured)
      --config FILE        aliases and per-model settings (default ./hearth.json if present)
      --max-loaded N       keep at most N models loaded; the least recently used idle one
                           is unloaded first (default 0: no limit)
      --idle-unload S      unload a model idle for S seconds (default 0: never)
      --shutdown-timeout S on SIGTERM/SIGINT, let running requests finish for S seconds (default 30)
      --request-timeout S  cancel a generation request after S seconds: 504, or a final
                           error event in a stream (default 0: no limit)
      --max-stream-buffer BYTES  output a stream may hold for a client that is not reading
                           before the request is cancelled (default 4 MiB)
      --log-format F       pretty (default) or json: one object per line, one line per request
      --no-ui              do not serve the chat page at /
      --verbose            show llama.cpp's own log lines
`;

function int(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`hearth: --${name} must be a non-negative integer, got '${value}'`);
    process.exit(2);
  }
  return n;
}

// Short flags with two letters (llama-server's -np, -ngl) become their long forms.
function normalizeArgs(argv: string[]): string[] {
  const aliases: Record<string, string> = { "-np": "--parallel", "-ngl": "--gpu-layers", "-hf": "--hf", "-ts": "--tensor-split" };
  return argv.map(a => aliases[a] ?? a);
}

async function hasModels(dirs: string[]): Promise<boolean> {
  const { discoverModels } = await import("./models/discover.ts");
  return discoverModels([], dirs).length > 0;
}

async function serve(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: normalizeArgs(argv),
    options: {
      model: { type: "string", short: "m", multiple: true },
      "models-dir": { type: "string", multiple: true },
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "8080" },
      "ctx-size": { type: "string", short: "c" },
      parallel: { type: "string" },
      threads: { type: "string", short: "t" },
      "batch-size": { type: "string", short: "b" },
      "queue-size": { type: "string" },
      "gpu-layers": { type: "string" },
      "load-mode": { type: "string", default: "auto" },
      "api-key": { type: "string", multiple: true },
      "api-key-file": { type: "string" },
      cors: { type: "string" },
      "allowed-hosts": { type: "string", multiple: true },
      "max-body": { type: "string" },
      verbose: { type: "boolean", default: false },
      "no-ui": { type: "boolean", default: false },
      "chat-template": { type: "string" },
      "parse-special-in-chat": { type: "boolean", default: false },
      "shutdown-timeout": { type: "string" },
      "max-loaded": { type: "string" },
      config: { type: "string" },
      hf: { type: "string", multiple: true },
      "hf-endpoint": { type: "string" },
      "idle-unload": { type: "string" },
      "request-timeout": { type: "string" },
      "max-stream-buffer": { type: "string" },
      "log-format": { type: "string", default: "pretty" },
      rpc: { type: "string" },
      "tensor-split": { type: "string" },
      "rpc-timeout": { type: "string" },
    },
    strict: true,
  });
  const { rpc, tensorSplit } = await parseSplitFlags(values.rpc, values["tensor-split"]);
  const allowedHosts = await parseHostsFlag(values["allowed-hosts"] ?? []);
  if (values.verbose) setLogLevel("debug");
  if (values["log-format"] !== "pretty" && values["log-format"] !== "json") {
    console.error(`hearth: --log-format must be 'pretty' or 'json', got '${values["log-format"]}'`);
    process.exit(2);
  }
  setLogFormat(values["log-format"]);
  const loadMode = values["load-mode"] as LoadModeSetting;
  if (!LOAD_MODES.includes(loadMode)) {
    console.error(`hearth: --load-mode must be one of ${LOAD_MODES.join(", ")}, got '${loadMode}'`);
    process.exit(2);
  }
  const { startServer } = await import("./server.ts");
  const { loadConfig, ConfigError } = await import("./models/config.ts");
  const configPath = values.config ?? (existsSync("hearth.json") ? "hearth.json" : undefined);
  let config;
  try {
    config = configPath ? loadConfig(configPath) : undefined;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`hearth: ${err.message}`);
    process.exit(2);
  }
  const home = process.env.HEARTH_HOME ?? join(homedir(), ".hearth");
  const dirs = values["models-dir"] ?? (values.model ? [] : ["./models", join(home, "models")].filter(d => existsSync(d)));
  const modelPaths = values.model ?? [];
  // -hf OWNER/REPO:QUANT | OWNER/REPO/FILE.gguf | URL: pull (or reuse) into $HEARTH_HOME/models first.
  for (const source of values.hf ?? []) modelPaths.push(await pullSource(source, values["hf-endpoint"]));
  // Nothing to serve anywhere: serve the embedded default model.
  if (modelPaths.length === 0 && !values["models-dir"] && !(await hasModels(dirs))) {
    const { embeddedModelPath } = await import("./models/embedded.ts");
    modelPaths.push(await embeddedModelPath(home));
  }
  const keys = [...(values["api-key"] ?? [])];
  if (process.env.HEARTH_API_KEY) keys.push(process.env.HEARTH_API_KEY);
  if (values["api-key-file"]) keys.push(...readKeyFile(values["api-key-file"]));
  await startServer({
    modelPaths,
    modelDirs: dirs,
    host: values.host!,
    port: int(values.port, "port", 8080),
    apiKeys: keys,
    cors: values.cors ? values.cors.split(",").map(s => s.trim()) : null,
    allowedHosts,
    maxBodyBytes: int(values["max-body"], "max-body", 16 * 1024 * 1024),
    chatTemplate: values["chat-template"],
    parseSpecialInChat: values["parse-special-in-chat"],
    ui: !values["no-ui"],
    shutdownTimeoutS: int(values["shutdown-timeout"], "shutdown-timeout", 30),
    requestTimeoutS: int(values["request-timeout"], "request-timeout", 0),
    maxStreamBufferBytes: int(values["max-stream-buffer"], "max-stream-buffer", 4 << 20),
    config,
    loadPolicy: { maxLoaded: int(values["max-loaded"], "max-loaded", 0), idleUnloadS: int(values["idle-unload"], "idle-unload", 0) },
    runner: {
      nCtx: int(values["ctx-size"], "ctx-size", 4096),
      parallel: Math.max(1, int(values.parallel, "parallel", 4)),
      nBatch: Math.max(1, int(values["batch-size"], "batch-size", 512)),
      threads: Math.max(1, int(values.threads, "threads", navigator.hardwareConcurrency || 4)),
      gpuLayers: values["gpu-layers"] === undefined ? -1 : int(values["gpu-layers"], "gpu-layers", -1),
      loadMode,
      queueSize: int(values["queue-size"], "queue-size", 64),
      verbose: values.verbose!,
      rpc,
      tensorSplit,
      rpcTimeoutS: int(values["rpc-timeout"], "rpc-timeout", 120),
    },
  });
}

/** One key a line; blank lines and # comments skipped. A file given but unreadable or empty stops the start. */
function readKeyFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    console.error(`hearth: cannot read --api-key-file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    process.exit(2);
  }
  const keys = text.split("\n").map(l => l.trim()).filter(l => l && !l.startsWith("#"));
  if (keys.length === 0) {
    console.error(`hearth: --api-key-file ${path} holds no keys`);
    process.exit(2);
  }
  return keys;
}

/** --rpc HOST:PORT,… and --tensor-split W,…: checked here so a typo stops the server at once. */
async function parseSplitFlags(rpcFlag?: string, splitFlag?: string): Promise<{ rpc?: string[]; tensorSplit?: number[] }> {
  const { parseEndpointList } = await import("./engine/rpc-workers.ts");
  let rpc: string[] | undefined;
  try {
    rpc = rpcFlag === undefined ? undefined : parseEndpointList(rpcFlag);
  } catch (err) {
    console.error(`hearth: --rpc: ${(err as Error).message}`);
    process.exit(2);
  }
  const tensorSplit = splitFlag?.split(",").map(Number);
  if (tensorSplit && (tensorSplit.length > 16 || tensorSplit.some(w => !Number.isFinite(w) || w < 0))) {
    console.error(`hearth: --tensor-split must be up to 16 non-negative numbers separated by commas, got '${splitFlag}'`);
    process.exit(2);
  }
  return { rpc: rpc?.length ? rpc : undefined, tensorSplit };
}

/** --allowed-hosts NAME[:PORT],… (repeatable): checked here so a typo stops the server at once. */
async function parseHostsFlag(flags: string[]): Promise<string[]> {
  const { parseAllowedHosts } = await import("./api/browser-guard.ts");
  try {
    return parseAllowedHosts(flags);
  } catch (err) {
    console.error(`hearth: --allowed-hosts: ${(err as Error).message}`);
    process.exit(2);
  }
}

function hearthHome(): string {
  return process.env.HEARTH_HOME ?? join(homedir(), ".hearth");
}

/** Downloads a model unless it is already in $HEARTH_HOME/models; returns its path. */
async function pullSource(source: string, endpoint?: string): Promise<string> {
  const { pull, progressReporter, resolveQuant, resolveSource } = await import("./models/pull.ts");
  const hfEndpoint = endpoint ?? process.env.HF_ENDPOINT;
  const resolved = await resolveQuant(source, hfEndpoint, process.env.HF_TOKEN);
  const { fileName } = resolveSource(resolved, hfEndpoint);
  const dir = join(hearthHome(), "models");
  if (existsSync(join(dir, fileName))) return join(dir, fileName);
  return pull({ source: resolved, dir, token: process.env.HF_TOKEN, hfEndpoint, onProgress: progressReporter(fileName) });
}

async function pullCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { sha256: { type: "string" }, "hf-endpoint": { type: "string" }, dir: { type: "string" } },
  });
  if (positionals.length !== 1) {
    console.error("hearth pull: give one OWNER/REPO/FILE.gguf or URL");
    process.exit(2);
  }
  const { pull, progressReporter, resolveQuant, resolveSource } = await import("./models/pull.ts");
  const hfEndpoint = values["hf-endpoint"] ?? process.env.HF_ENDPOINT;
  const source = await resolveQuant(positionals[0]!, hfEndpoint, process.env.HF_TOKEN);
  const { fileName } = resolveSource(source, hfEndpoint);
  const path = await pull({
    source,
    dir: values.dir ?? join(hearthHome(), "models"),
    sha256: values.sha256,
    token: process.env.HF_TOKEN,
    hfEndpoint,
    onProgress: progressReporter(fileName),
  });
  console.log(path);
}

async function listCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { "models-dir": { type: "string", multiple: true } } });
  const { ModelRegistry } = await import("./models/registry.ts");
  const dirs = values["models-dir"] ?? ["./models", join(hearthHome(), "models")].filter(d => existsSync(d));
  const registry = new ModelRegistry([], dirs, { nCtx: 0, parallel: 1, nBatch: 512, threads: 1, gpuLayers: 0, queueSize: 0, verbose: false });
  const rows = (await registry.list()).map(m => [m.id, m.family ?? "?", `${(m.sizeBytes / 1048576).toFixed(1)} MiB`, m.quantization ?? "?", String(m.contextLength ?? "?")]);
  printTable(["MODEL", "FAMILY", "SIZE", "QUANT", "CTX"], rows);
}

async function psCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { url: { type: "string", default: "http://127.0.0.1:8080" } } });
  const key = process.env.HEARTH_API_KEY;
  const res = await fetch(`${values.url}/v1/models`, { headers: key ? { authorization: `Bearer ${key}` } : {} }).catch(() => null);
  if (!res?.ok) {
    console.error(`hearth ps: no Hearth server answering at ${values.url}${res ? ` (HTTP ${res.status})` : ""}`);
    process.exit(1);
  }
  const body = (await res.json()) as { data: Array<{ id: string; meta: any }> };
  const rows = body.data
    .filter(m => m.meta.loaded)
    .map(m => [m.id, m.meta.family ?? "?", `${(m.meta.size_bytes / 1048576).toFixed(1)} MiB`, `${m.meta.slots?.busy ?? 0}/${m.meta.slots?.total ?? "?"}`, String(m.meta.n_ctx ?? "?")]);
  printTable(["MODEL", "FAMILY", "SIZE", "SLOTS BUSY", "CTX"], rows);
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => r[i]!.length)));
  for (const row of [header, ...rows]) console.log(row.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd());
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case "__runner": {
      const { runnerMain } = await import("./engine/runner.ts");
      return runnerMain();
    }
    case "serve":
      return serve(rest);
    case "pull":
      return pullCommand(rest);
    case "list":
      return listCommand(rest);
    case "import": {
      const { importCommand } = await import("./import/command.ts");
      return importCommand(rest, hearthHome());
    }
    case "ps":
      return psCommand(rest);
    case "worker": {
      const { workerCommand } = await import("./worker.ts");
      return workerCommand(rest);
    }
    case "--version":
    case "-v":
      console.log("hearth 0.1.0 (llama.cpp v0.5.0)");
      return;
    case undefined:
    case "--help":
    case "-h":
    case "help":
      process.stdout.write(HELP);
      return;
    default:
      console.error(`hearth: unknown command '${command}'\n`);
      process.stderr.write(HELP);
      process.exit(2);
  }
}

main().catch(err => {
  log("error", (err as Error).message);
  process.exit(1);
});
