#!/usr/bin/env bun
// hearth — command line entry. `hearth serve` runs the HTTP server; `__runner` (hidden) is the
// per-model child process the server starts.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { defaultCacheBytes } from "./engine/prompt-cache/budget.ts";
import { LIST, PS, PULL, SERVE, parseCommand } from "./options/commands.ts";
import { optionLines } from "./options/help.ts";
import { hearthHome } from "./util/home.ts";
import { log, setLogFormat, setLogLevel } from "./util/log.ts";
import { VERSION_LINE } from "./util/version.ts";

// Each command's own flags: `hearth COMMAND --help` (src/options/). Serve's are listed here too.
const HELP = `hearth — a local OpenAI-compatible LLM server on llama.cpp

Usage:
  hearth serve [options]        serve models over HTTP
  hearth pull [options] SOURCE  download a GGUF: OWNER/REPO/FILE.gguf[@rev] or OWNER/REPO:QUANT
                                from Hugging Face, or a URL (HF_TOKEN honoured)
  hearth import DIR [--out FILE] [--quant q4_0|q8_0|f16|bf16|f32] [--threads N]
                                convert a Hugging Face checkpoint folder (safetensors, or
                                pytorch_model.bin / *.pt read by a restricted unpickler) to GGUF
                                (default: q4_0, into $HEARTH_HOME/models/<folder>-<quant>.gguf)
  hearth list [options]         the local models: family, size, quantization, context
  hearth ps [options]           the models a running server has loaded (slots busy)
  hearth worker [options]       an RPC worker (llama.cpp's ggml-rpc-server) that holds layers of
                                a model served elsewhere with --rpc; binds 127.0.0.1 by default
  hearth COMMAND --help         the options of one command
  hearth --help | --version

Options for serve:
${optionLines(SERVE.options).join("\n")}
`;

async function hasModels(dirs: string[]): Promise<boolean> {
  const { discoverModels } = await import("./models/discover.ts");
  return discoverModels([], dirs).length > 0;
}

async function serve(argv: string[]): Promise<void> {
  const { values } = parseCommand(SERVE, argv);
  const rpc = await parseRpcFlag(values.rpc);
  const allowedHosts = await parseHostsFlag(values["allowed-hosts"] ?? []);
  const names = parseAliasFlags(values.alias ?? []);
  if (values["n-predict"] === 0) {
    console.error("hearth: --n-predict must be -1 (no limit) or a positive integer, got '0'");
    process.exit(2);
  }
  if (values.verbose) setLogLevel("debug");
  setLogFormat(values["log-format"]);
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
  const home = hearthHome();
  const dirs = values["models-dir"] ?? (values.model ? [] : ["./models", join(home, "models")].filter(d => existsSync(d)));
  const modelPaths = values.model ?? [];
  // -hf OWNER/REPO:QUANT | OWNER/REPO/FILE.gguf | URL: pull (or reuse) into $HEARTH_HOME/models first.
  for (const source of values.hf ?? []) modelPaths.push(await pullSource(source, values["hf-endpoint"]));
  // Nothing to serve anywhere: serve the embedded default model.
  if (modelPaths.length === 0 && !values["models-dir"] && !(await hasModels(dirs))) {
    const { embeddedModelPath } = await import("./models/embedded.ts");
    modelPaths.push(await embeddedModelPath(home));
  }
  // --api-key values, then HEARTH_API_KEY (the parser adds it), then the key file's.
  const keys = values["api-key"] ?? [];
  if (values["api-key-file"]) keys.push(...readKeyFile(values["api-key-file"]));
  await startServer({
    modelPaths,
    modelDirs: dirs,
    host: values.host,
    port: values.port,
    apiKeys: keys,
    cors: values.cors?.length ? values.cors : null,
    allowedHosts,
    maxBodyBytes: values["max-body"],
    chatTemplate: values["chat-template"],
    parseSpecialInChat: values["parse-special-in-chat"],
    ui: !values["no-ui"],
    shutdownTimeoutS: values["shutdown-timeout"],
    requestTimeoutS: values["request-timeout"],
    maxStreamBufferBytes: values["max-stream-buffer"],
    responsesStoreBytes: values["responses-store-size"],
    allowImageUrls: values["allow-image-urls"],
    slotSavePath: values["slot-save-path"],
    config,
    names: { ...names, defaultModel: values["default-model"] || undefined },
    hfEndpoint: values["hf-endpoint"],
    loadPolicy: { maxLoaded: values["max-loaded"], idleUnloadS: values["idle-unload"] },
    runner: {
      nCtx: values["ctx-size"],
      parallel: Math.max(1, values.parallel),
      nBatch: Math.max(1, values["batch-size"]),
      threads: Math.max(1, values.threads),
      gpuLayers: values["gpu-layers"],
      loadMode: values["load-mode"],
      cacheTypeK: values["cache-type-k"],
      cacheTypeV: values["cache-type-v"],
      flashAttn: values["flash-attn"],
      mmproj: values.mmproj,
      promptCache: promptCacheConfig(values["prompt-cache-dir"] ?? join(home, "cache", "kv"), values["prompt-cache-size"]),
      queueSize: values["queue-size"],
      streamIntervalMs: values["stream-interval"],
      nPredict: values["n-predict"],
      sampling: requestSampling(values.temp, values.seed),
      reasoningBudget: values["reasoning-budget"],
      verbose: values.verbose,
      rpc,
      tensorSplit: values["tensor-split"]?.length ? values["tensor-split"] : undefined,
      rpcTimeoutS: values["rpc-timeout"],
    },
  });
}

/** --temp and --seed as request defaults (a seed of -1 is llama-server's "random"). */
function requestSampling(temp: string | undefined, seed: number): { temperature?: number; seed?: number } {
  const out: { temperature?: number; seed?: number } = {};
  if (temp !== undefined) {
    const t = Number(temp);
    if (temp.trim() === "" || !Number.isFinite(t) || t < 0 || t > 2) {
      console.error(`hearth: --temp must be a number from 0 to 2, got '${temp}'`);
      process.exit(2);
    }
    out.temperature = t;
  }
  if (seed >= 0) out.seed = seed;
  return out;
}

/** --prompt-cache-dir / --prompt-cache-size; the budget's default depends on the disk (prompt-cache/budget.ts). */
function promptCacheConfig(dir: string, maxBytes: number | undefined): { dir: string; maxBytes: number } {
  return { dir: resolve(dir), maxBytes: maxBytes ?? defaultCacheBytes(dir) };
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

/** --alias NAME=MODEL (NAME may be a * pattern) or a bare --alias NAME (the default model), repeatable. */
function parseAliasFlags(flags: string[]): { aliases: Record<string, string>; bareAliases: string[] } {
  const aliases: Record<string, string> = {};
  const bareAliases: string[] = [];
  for (const flag of flags) {
    const eq = flag.indexOf("=");
    const [name, model] = eq < 0 ? [flag, undefined] : [flag.slice(0, eq), flag.slice(eq + 1)];
    if (!name || model === "" || model?.includes("*")) {
      console.error(`hearth: --alias must be NAME=MODEL (a model id, no *) or NAME, got '${flag}'`);
      process.exit(2);
    }
    if (model === undefined) bareAliases.push(name);
    else aliases[name] = model;
  }
  return { aliases, bareAliases };
}

/** --rpc HOST:PORT,…: checked here so a typo stops the server at once. */
async function parseRpcFlag(flag?: string): Promise<string[] | undefined> {
  if (flag === undefined) return undefined;
  const { parseEndpointList } = await import("./engine/rpc-workers.ts");
  try {
    const rpc = parseEndpointList(flag);
    return rpc.length ? rpc : undefined;
  } catch (err) {
    console.error(`hearth: --rpc: ${(err as Error).message}`);
    process.exit(2);
  }
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

/** Downloads a model unless it is already in $HEARTH_HOME/models; returns its path. */
async function pullSource(source: string, hfEndpoint?: string): Promise<string> {
  const { pull, progressReporter, resolveQuant, resolveSource } = await import("./models/pull.ts");
  const resolved = await resolveQuant(source, hfEndpoint, process.env.HF_TOKEN);
  const { fileName } = resolveSource(resolved, hfEndpoint);
  const dir = join(hearthHome(), "models");
  const path = existsSync(join(dir, fileName)) ? join(dir, fileName) : await pull({ source: resolved, dir, token: process.env.HF_TOKEN, hfEndpoint, onProgress: progressReporter(fileName) });
  await pullProjectorOf(source, path, hfEndpoint);
  return path;
}

/** A vision repository's projector, beside the model just pulled (models/projector-pull.ts). */
async function pullProjectorOf(source: string, modelPath: string, hfEndpoint?: string): Promise<void> {
  const { progressReporter } = await import("./models/pull.ts");
  const { pullProjector } = await import("./models/projector-pull.ts");
  const projector = await pullProjector(source, modelPath, { token: process.env.HF_TOKEN, hfEndpoint, onProgress: progressReporter("projector") });
  if (projector) console.error(`vision projector: ${projector}`);
}

async function pullCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand(PULL, argv);
  if (positionals.length !== 1) {
    console.error("hearth pull: give one OWNER/REPO/FILE.gguf or URL");
    process.exit(2);
  }
  const { pull, progressReporter, resolveQuant, resolveSource } = await import("./models/pull.ts");
  const hfEndpoint = values["hf-endpoint"];
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
  await pullProjectorOf(positionals[0]!, path, hfEndpoint);
  console.log(path);
}

async function listCommand(argv: string[]): Promise<void> {
  const { values } = parseCommand(LIST, argv);
  const { ModelRegistry } = await import("./models/registry.ts");
  const dirs = values["models-dir"] ?? ["./models", join(hearthHome(), "models")].filter(d => existsSync(d));
  // Listing reads GGUF headers only: these runner settings are never used.
  const registry = new ModelRegistry([], dirs, { nCtx: 0, parallel: 1, nBatch: 1, threads: 1, gpuLayers: 0, queueSize: 0, verbose: false });
  const rows = (await registry.list()).map(m => [m.id, m.family ?? "?", `${(m.sizeBytes / 1048576).toFixed(1)} MiB`, m.quantization ?? "?", String(m.contextLength ?? "?")]);
  printTable(["MODEL", "FAMILY", "SIZE", "QUANT", "CTX"], rows);
}

async function psCommand(argv: string[]): Promise<void> {
  const { values } = parseCommand(PS, argv);
  const key = process.env.HEARTH_API_KEY;
  const res = await fetch(`${values.url}/v1/models`, { headers: key ? { authorization: `Bearer ${key}` } : {} }).catch(() => null);
  if (!res?.ok) {
    console.error(`hearth ps: no Hearth server answering at ${values.url}${res ? ` (HTTP ${res.status})` : ""}`);
    process.exit(1);
  }
  const body = (await res.json()) as { data: Array<{ id: string; meta: any }> };
  const rows = body.data
    .filter(m => m.meta.state === "loaded")
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
      console.log(VERSION_LINE);
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
