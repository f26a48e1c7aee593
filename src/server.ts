// Starts the HTTP server over a model registry, and stops it cleanly on SIGINT/SIGTERM.
import { createApp } from "./api/app.ts";
import { hostAllowList } from "./api/browser-guard.ts";
import type { HearthConfig } from "./models/config.ts";
import type { NameRules } from "./models/model-names.ts";
import { SERVE_DEFAULTS } from "./options/serve.ts";
import { ModelRegistry, type LoadPolicy, type RunnerDefaults } from "./models/registry.ts";
import { log } from "./util/log.ts";
import { aliasFilePath, readAliasFile } from "./models/alias-file.ts";
import { hearthHome } from "./util/home.ts";

export interface ServerConfig {
  modelPaths: string[];
  modelDirs: string[];
  host: string;
  port: number;
  apiKeys: string[];
  cors: string[] | null;
  /** --allowed-hosts: names (or "*") answered besides IP addresses and localhost. */
  allowedHosts?: string[];
  maxBodyBytes: number;
  runner: RunnerDefaults;
  /** --chat-template NAME|FILE */
  chatTemplate?: string;
  parseSpecialInChat?: boolean;
  /** Serve the chat page at GET / (off with --no-ui). */
  ui?: boolean;
  /** Seconds in-flight generations may take to finish after SIGTERM/SIGINT. */
  shutdownTimeoutS?: number;
  /** Seconds a generation request may take (0: no limit). */
  requestTimeoutS?: number;
  maxStreamBufferBytes?: number;
  /** --responses-store-size */
  responsesStoreBytes?: number;
  /** --allow-image-urls */
  allowImageUrls?: boolean;
  /** --slot-save-path: the folder of llama-server's slot files (POST /slots/{id}); absent: off. */
  slotSavePath?: string;
  loadPolicy?: LoadPolicy;
  config?: HearthConfig;
  /** --alias and --default-model. */
  names?: NameRules;
  /** --hf-endpoint, where Ollama's /api/pull downloads from. */
  hfEndpoint?: string;
}

/**
 * Elysia 1.4 finds the path by searching for "/" from index 11 of the URL, so a request whose
 * Host is shorter than 4 characters (`Host: ai`) routes to 404. Such requests get a longer host.
 */
function withRoutableUrl(request: Request): Request {
  if (request.url.indexOf("/", 8) >= 11) return request;
  const url = new URL(request.url);
  url.host = "localhost";
  return new Request(url, request);
}

export async function startServer(config: ServerConfig) {
  // Names given with Ollama's /api/copy (aliases.json) come under hearth.json's and --alias.
  const modelConfig = { ...config.config, aliases: { ...readAliasFile(aliasFilePath(hearthHome())), ...config.config?.aliases } };
  const registry = new ModelRegistry(config.modelPaths, config.modelDirs, config.runner, config.chatTemplate, config.loadPolicy, modelConfig, undefined, undefined, config.names);
  const models = await registry.list();
  if (models.length === 0) log("warn", "no models found: pass --model PATH or put .gguf files in ./models");
  if (registry.bareAliasesUnresolved) throw new Error(`a bare --alias NAME names the one served model, and ${models.length} are served: give NAME=MODEL or --default-model`);
  const defaultModel = models.find(m => m.id === registry.defaultId());
  const wanted = config.names?.defaultModel;
  if (wanted && !defaultModel) log("warn", `--default-model ${wanted}: no such model (yet); requests that name no model get 404`);
  if (config.apiKeys.length === 0 && config.host !== "127.0.0.1" && config.host !== "localhost" && config.host !== "::1") {
    log("warn", `listening on ${config.host} WITHOUT an API key: anyone who can reach this port can use it (set --api-key; --allowed-hosts NAME,… also refuses DNS-rebinding web pages)`);
  }
  const app = createApp(registry, {
    apiKeys: config.apiKeys,
    cors: config.cors,
    hostNames: hostAllowList(config.host, config.allowedHosts ?? []),
    maxBodyBytes: config.maxBodyBytes,
    parseSpecialInChat: config.parseSpecialInChat,
    requestTimeoutMs: (config.requestTimeoutS ?? 0) * 1000,
    maxStreamBufferBytes: config.maxStreamBufferBytes,
    responsesStoreBytes: config.responsesStoreBytes,
    allowImageUrls: config.allowImageUrls,
    slotSavePath: config.slotSavePath,
    ui: config.ui ?? true,
    ollama: { hfEndpoint: config.hfEndpoint ?? process.env.HF_ENDPOINT },
  });
  const server = Bun.serve({
    hostname: config.host,
    port: config.port,
    fetch: request => app.fetch(withRoutableUrl(request)),
    maxRequestBodySize: config.maxBodyBytes + 1024,
    idleTimeout: 0,
  });
  log("info", `hearth listening on http://${config.host}:${server.port} — models: ${models.map(m => m.id).join(", ") || "none"}`);
  if (config.ui ?? true) log("info", `chat page: http://${config.host === "0.0.0.0" ? "127.0.0.1" : config.host}:${server.port}/`);
  // Load the default (else the first) model now, so the first request does not wait for it.
  const first = defaultModel ?? models[0];
  if (first) registry.acquire(first.id).catch(err => log("error", (err as Error).message));

  // Graceful stop: no new connections, in-flight generations may finish within the timeout; what
  // is still running then ends with an error event when the runners stop. Exit 0.
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    const deadline = Date.now() + (config.shutdownTimeoutS ?? SERVE_DEFAULTS["shutdown-timeout"]) * 1000;
    log("info", "shutting down: waiting for in-flight requests");
    void server.stop(false);
    const busy = () => registry.health().models.some(m => m.inFlight > 0);
    while (busy() && Date.now() < deadline) await Bun.sleep(50);
    if (busy()) log("warn", "shutdown timeout reached: cancelling the requests still running");
    await registry.close();
    // Let the streams just failed by the runners' exit write their final error events.
    await Bun.sleep(100);
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  return { server, registry, stop };
}
