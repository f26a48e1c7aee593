// The models this server can serve, and one engine (runner process) per model, started on
// first use. Concurrent first requests share one load. Implements the API's ModelSource.
// A model's state is its engine's (engine/lifecycle.ts); listings and /health read it from there.
// (Past 350 lines on purpose: finding a file, loading it, the --max-loaded and --idle-unload
// policies and the listing all read and change the same entries map; name resolution is already
// model-names.ts, discovery discover.ts, header reading gguf.ts.)
import { existsSync, rmSync } from "node:fs";
import type { AcquiredModel, ModelListing, ModelSource } from "../api/model-source.ts";
import { detectFamily, samplingDefaults } from "../chat/families.ts";
import { ChatRenderer } from "../chat/renderer.ts";
import type { RunnerConfig } from "../engine/runner-protocol.ts";
import { statSync } from "node:fs";
import { cachedImport, ensureImported } from "./checkpoint-cache.ts";
import { LIFECYCLE, type ModelState } from "../engine/lifecycle.ts";
import { RunnerEngine, type SupervisorOptions } from "../engine/runner-engine.ts";
import { EngineError } from "../engine/types.ts";
import { discoverModels, foldersChanged, type FolderStamps, type ModelFile } from "./discover.ts";
import { readGgufHeader, summarize, type GgufSummary } from "./gguf.ts";
import type { HearthConfig, ModelSettings } from "./config.ts";
import { ModelNotFoundError, ModelNotNamedError, ModelUnavailableError } from "./errors.ts";
import { ModelNames, type NameRules } from "./model-names.ts";
import { DeletionRefused, deletionRefusal, modelFiles } from "./removal.ts";
import { log } from "../util/log.ts";

export type RunnerDefaults = Omit<RunnerConfig, "modelPath"> & {
  /** --temp and --seed: request defaults between a model's hearth.json sampling and its GGUF's / family's. */
  sampling?: { temperature?: number; seed?: number };
  /** --reasoning-budget: thinking budget of a request that sets none (-1: no limit); hearth.json's reasoning_budget wins. */
  reasoningBudget?: number;
};

/** How many models stay loaded, and for how long an idle one is kept. */
export interface LoadPolicy {
  /** Most models loaded at once; the least recently used idle one is unloaded first. 0 = no limit. */
  maxLoaded: number;
  /** Unload a model idle for this many seconds. 0 = never. */
  idleUnloadS: number;
  /** The idle clock, in ms (default Date.now; tests move it by hand). */
  now?: () => number;
}

/** When a request for an id not in the last scan may scan the model folders again. */
export interface RescanPolicy {
  /** At most one such scan per this many ms, unless a scanned folder's mtime shows a change. */
  minIntervalMs: number;
  /** The clock, in ms (tests move it by hand). */
  now: () => number;
}

const DEFAULT_RESCAN: RescanPolicy = { minIntervalMs: 2000, now: () => performance.now() };

interface Entry {
  engine: RunnerEngine;
  /**
   * When the model last became idle (LoadPolicy.now): its load ended, a request took it, or its
   * last request in flight ended. Never touched while it is busy.
   */
  idleSince: number;
  /** The load under way (making room, then the engine's start), shared by concurrent requests. */
  loading: Promise<AcquiredModel> | null;
  acquired: AcquiredModel | null;
  /**
   * Ollama's keep_alive for this model, seconds: negative keeps it loaded, 0 unloads it once idle,
   * more is its own idle-unload time. Unset: --idle-unload's.
   */
  keepAliveS?: number;
}

/** States in which a model holds (or is about to hold) memory, for --max-loaded. */
const RESIDENT: ReadonlySet<ModelState["state"]> = new Set(["importing", "loading", "loaded"]);

export class ModelRegistry implements ModelSource {
  private files: ModelFile[] = [];
  private readonly entries = new Map<string, Entry>();
  /** The folders the last scan read, and when it ran (rescanPolicy's clock). */
  private stamps: FolderStamps = new Map();
  private lastScan = 0;

  constructor(
    private readonly paths: string[],
    private readonly dirs: string[],
    private readonly defaults: RunnerDefaults,
    /** --chat-template NAME|FILE for every model. */
    private readonly chatTemplate?: string,
    private readonly policy: LoadPolicy = { maxLoaded: 0, idleUnloadS: 0 },
    private readonly config: HearthConfig = {},
    private readonly rescanPolicy: RescanPolicy = DEFAULT_RESCAN,
    /** How engines start their runners (tests: a fake runner). */
    private readonly supervisor: Pick<SupervisorOptions, "command"> = {},
    /** --alias and --default-model; the config's aliases come first, flags' aliases over them. */
    names: NameRules = {},
  ) {
    this.nameRules = { ...names, aliases: { ...config.aliases, ...names.aliases } };
    this.names = new ModelNames(this.nameRules);
    this.rescan();
    if (policy.idleUnloadS > 0) {
      this.idleTimer = setInterval(() => void this.unloadIdle(), Math.min(5000, policy.idleUnloadS * 250));
      this.idleTimer.unref?.();
    }
  }

  private idleTimer: ReturnType<typeof setInterval> | null = null;
  private nameRules: NameRules;
  private names: ModelNames;

  private now(): number {
    return this.policy.now?.() ?? Date.now();
  }

  private stateOf(entry: Entry): ModelState {
    return entry.engine.health().state;
  }

  /** A loaded model with no running or queued request. */
  private isIdle(entry: Entry): boolean {
    return entry.loading === null && this.stateOf(entry).state === "loaded" && entry.engine.health().inFlight === 0;
  }

  /**
   * Unloads the models idle for --idle-unload. The clock runs from the end of the last load or
   * generation (Entry.idleSince), so a load or a generation longer than that is not cut short.
   * Runs on a timer; tests call it after moving the clock.
   */
  async unloadIdle(): Promise<void> {
    for (const [id, entry] of this.entries) {
      const limit = this.idleLimitS(entry);
      if (limit !== null && this.isIdle(entry) && entry.idleSince < this.now() - limit * 1000) {
        log("info", `unloading ${id}: idle for ${limit} s`);
        await this.stop(id);
      }
    }
  }

  /** Seconds a model may stay idle before it is unloaded; null: it stays. */
  private idleLimitS(entry: Entry): number | null {
    const s = entry.keepAliveS ?? (this.policy.idleUnloadS > 0 ? this.policy.idleUnloadS : null);
    return s === null || s < 0 ? null : s;
  }

  /**
   * Ollama's keep_alive for a loaded model: negative keeps it, 0 unloads it now if idle (else when
   * its requests end), more sets its own idle-unload time. A model not loaded is left alone.
   */
  async keepAlive(id: string, seconds: number): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry) return;
    entry.keepAliveS = seconds;
    if (seconds === 0 && this.isIdle(entry)) {
      log("info", `unloading ${id}: keep_alive 0`);
      await this.stop(id);
    } else if (seconds > 0 && !this.idleTimer) {
      this.idleTimer = setInterval(() => void this.unloadIdle(), 1000);
      this.idleTimer.unref?.();
    }
  }

  /** When a loaded model will be unloaded if it stays idle (ms since epoch); null: not planned. */
  expiresAt(id: string): number | null {
    const entry = this.entries.get(id);
    const limit = entry ? this.idleLimitS(entry) : null;
    return entry && limit !== null ? entry.idleSince + limit * 1000 : null;
  }

  /** A name for a model, from now on (Ollama's /api/copy; the caller keeps it in aliases.json). */
  addAlias(name: string, id: string): void {
    this.nameRules = { ...this.nameRules, aliases: { ...this.nameRules.aliases, [name]: id } };
    this.names = new ModelNames(this.nameRules);
  }

  /** Keeps at most maxLoaded models: unloads the least recently used idle ones, never `keep`. */
  private async enforceMaxLoaded(keep: string): Promise<void> {
    if (this.policy.maxLoaded <= 0) return;
    const loaded = [...this.entries].filter(([id, e]) => id !== keep && (RESIDENT.has(this.stateOf(e).state) || e.loading));
    const excess = loaded.length + 1 - this.policy.maxLoaded;
    if (excess <= 0) return;
    const victims = loaded
      .filter(([id, e]) => id !== keep && this.isIdle(e))
      .sort(([, a], [, b]) => a.idleSince - b.idleSince)
      .slice(0, excess);
    for (const [id] of victims) {
      log("info", `unloading ${id}: --max-loaded ${this.policy.maxLoaded}`);
      await this.stop(id);
    }
  }

  /** Re-reads the model folders: files added while the server runs appear without a restart. */
  rescan(): ModelFile[] {
    const stamps: FolderStamps = new Map();
    this.files = discoverModels(this.paths, this.dirs, stamps);
    this.stamps = stamps;
    this.lastScan = this.rescanPolicy.now();
    return this.files;
  }

  /**
   * The files after a request for an id the last scan did not find. A walk of every folder per
   * unknown id would let anyone keep the server busy, so it rescans only when a folder changed
   * since (one stat per folder: a pulled or copied file changes its folder's mtime) or the last
   * scan is older than the interval (for a change the mtime could not show).
   */
  private rescanOnMiss(): ModelFile[] {
    const { minIntervalMs, now } = this.rescanPolicy;
    if (now() - this.lastScan >= minIntervalMs || foldersChanged(this.stamps)) return this.rescan();
    return this.files;
  }

  /**
   * The model file a request's `model` names (model-names.ts: alias, id, pattern, or the default
   * model when omitted or empty). ModelNotNamedError when it names none and no default applies.
   */
  find(name?: string | null): ModelFile | undefined {
    const lookup = (files: ModelFile[]) => {
      const id = this.names.resolve(name, files.map(f => f.id));
      return files.find(f => f.id === id);
    };
    let found;
    try {
      found = lookup(this.files);
    } catch (err) {
      // No model to default to may mean that none was there at the last scan.
      if (!(err instanceof ModelNotNamedError && this.files.length === 0)) throw err;
    }
    return found ?? lookup(this.rescanOnMiss());
  }

  /** The error for a name that matches no model: it names the model the request was sent to. */
  private notFound(name?: string | null): ModelNotFoundError {
    return new ModelNotFoundError(name || this.names.resolve(name, this.files.map(f => f.id)));
  }

  private settings(id: string): ModelSettings {
    return this.config.models?.[id] ?? {};
  }

  /** The model of a request that names none: --default-model, else the only model; undefined when neither applies. */
  defaultId(): string | undefined {
    return this.names.defaultId(this.files.map(f => f.id));
  }

  /** Whether the names given need a default model that is not there (a bare --alias with several models). */
  get bareAliasesUnresolved(): boolean {
    return this.names.hasBareAliases && this.defaultId() === undefined;
  }

  private readonly headers = new Map<string, { mtimeMs: number; summary: GgufSummary | null }>();

  /** The file's header summary, read once per file version; null for a file that is not valid GGUF. */
  private async summary(file: ModelFile): Promise<GgufSummary | null> {
    const cached = this.headers.get(file.path);
    if (cached && cached.mtimeMs === file.mtimeMs) return cached.summary;
    const summary = await readGgufHeader(file.path).then(summarize, (err: Error) => {
      log("warn", `${file.path}: not a readable GGUF header, listed without its metadata: ${err.message}`);
      return null;
    });
    this.headers.set(file.path, { mtimeMs: file.mtimeMs, summary });
    return summary;
  }

  /** The GGUF behind a listing: the file itself, or a checkpoint's cached import (null: none yet). */
  private ggufOf(file: ModelFile): ModelFile | null {
    if (!file.checkpoint) return file;
    const path = cachedImport(file.path);
    return path ? { ...file, path, mtimeMs: statSync(path).mtimeMs } : null;
  }

  async list(): Promise<ModelListing[]> {
    const files = this.rescan();
    const ids = files.map(f => f.id);
    const ggufs = files.map(f => this.ggufOf(f));
    const summaries = await Promise.all(ggufs.map(g => (g ? this.summary(g) : null)));
    return files.map((file, i) => {
      const header = summaries[i];
      const entry = this.entries.get(file.id);
      const health = entry?.engine.health();
      // A model no request has asked for yet is in its first state.
      const state: ModelState = health?.state ?? { state: ggufs[i] ? "unloaded" : "needs-import" };
      return {
        id: file.id,
        created: Math.floor(file.mtimeMs / 1000),
        sizeBytes: file.sizeBytes,
        file: file.checkpoint ? undefined : { path: file.path, mtimeMs: file.mtimeMs },
        state: LIFECYCLE[state.state].listed,
        error: state.state === "failed" ? state.error : undefined,
        workers: this.settings(file.id).rpc ?? this.defaults.rpc,
        slots: state.state === "loaded" && health ? { total: health.slotsTotal, busy: health.slotsBusy } : undefined,
        info: state.state === "loaded" ? state.info : entry?.acquired?.info,
        family: entry?.acquired?.chat.family ?? (header ? detectFamily(header.metadata, undefined, file.path) : undefined),
        architecture: header?.architecture ?? null,
        parameters: header?.parameters,
        quantization: header?.quantization ?? null,
        contextLength: header?.contextLength ?? null,
        aliases: this.names.aliasesOf(file.id, ids),
        chatTemplate: entry?.acquired?.chat.templateSource ?? (header ? (header.hasChatTemplate ? "gguf" : undefined) : undefined),
      };
    });
  }

  async acquire(name?: string | null): Promise<AcquiredModel> {
    let file = this.find(name);
    // A file deleted since the last scan: a loaded model answers from memory; anything else rescans.
    const known = file && this.entries.get(file.id);
    if (file && !(known && this.stateOf(known).state === "loaded") && !existsSync(file.path)) {
      this.entries.delete(file.id);
      file = this.rescan().find(f => f.id === file!.id);
    }
    if (!file) throw this.notFound(name);
    let entry = this.entries.get(file.id);
    if (!entry) entry = this.newEntry(file);
    entry.idleSince = this.now();
    if (entry.acquired && this.stateOf(entry).state === "loaded") return entry.acquired;
    const e = entry;
    if (!e.loading) {
      // Make room before loading, and concurrent first requests share this one load.
      e.loading = this.enforceMaxLoaded(file.id)
        .then(() => this.start(file, e))
        .finally(() => (e.loading = null));
    }
    return e.loading;
  }

  /** A model's entry and engine; a checkpoint's engine imports it before each start (cached after the first). */
  private newEntry(file: ModelFile): Entry {
    const s = this.settings(file.id);
    const runner = {
      ...this.defaults,
      nCtx: s.ctx_size ?? this.defaults.nCtx,
      parallel: s.parallel ?? this.defaults.parallel,
      gpuLayers: s.gpu_layers ?? this.defaults.gpuLayers,
      loadMode: s.load_mode ?? this.defaults.loadMode,
      cacheTypeK: s.cache_type_k ?? this.defaults.cacheTypeK,
      cacheTypeV: s.cache_type_v ?? this.defaults.cacheTypeV,
      flashAttn: s.flash_attn ?? this.defaults.flashAttn,
      mmproj: s.mmproj ?? this.defaults.mmproj,
      rpc: s.rpc ?? this.defaults.rpc,
      tensorSplit: s.tensor_split ?? this.defaults.tensorSplit,
      nPredict: s.max_tokens ?? this.defaults.nPredict,
      modelPath: file.path,
    };
    const prepare = () => {
      log("info", `importing ${file.path} (first use; cached for later starts)`);
      return ensureImported(file.path);
    };
    const entry: Entry = {
      engine: new RunnerEngine(runner, {
        ...this.supervisor,
        ...(file.checkpoint ? { prepare, needsImport: !cachedImport(file.path) } : {}),
        onIdle: () => {
          entry.idleSince = this.now();
          // keep_alive 0 asked while other requests ran: unload now they are done.
          if (entry.keepAliveS === 0 && this.entries.get(file.id) === entry) void this.keepAlive(file.id, 0);
        },

      }),
      idleSince: this.now(),
      loading: null,
      acquired: null,
    };
    this.entries.set(file.id, entry);
    return entry;
  }

  private async start(file: ModelFile, entry: Entry): Promise<AcquiredModel> {
    let info;
    try {
      info = await entry.engine.start();
    } catch (err) {
      const message = err instanceof EngineError ? err.message : String(err);
      throw new ModelUnavailableError(file.id, message);
    }
    const family = detectFamily(info.metadata, undefined, file.path);
    const settings = this.settings(file.id);
    const sampling = samplingDefaults(info.metadata, family);
    const configured = settings.sampling ?? {};
    entry.acquired = {
      id: file.id,
      engine: entry.engine,
      info,
      defaults: {
        temperature: configured.temperature ?? this.defaults.sampling?.temperature ?? sampling.temperature,
        topP: configured.top_p ?? sampling.topP,
        topK: configured.top_k ?? sampling.topK,
        minP: configured.min_p ?? sampling.minP,
        ...(this.defaults.sampling?.seed !== undefined ? { seed: this.defaults.sampling.seed } : {}),
      },
      chat:
        entry.acquired?.chat ??
        new ChatRenderer({
          chatTemplate: info.chatTemplate,
          bosText: info.bosText,
          eosText: info.eosText,
          modelId: file.id,
          family,
          override: settings.chat_template ?? this.chatTemplate,
        }),
      // "b…" as llama-server's build tag (its clients check the prefix), then the file's identity.
      reasoningBudget: settings.reasoning_budget ?? this.defaults.reasoningBudget ?? -1,
      fingerprint: `b-hearth-${Math.round(file.mtimeMs).toString(36)}-${file.sizeBytes.toString(36)}`,
      path: file.path,
    };
    return entry.acquired;
  }

  health() {
    const models = [...this.entries.entries()].map(([id, e]) => {
      const h = e.engine.health();
      const devices = h.state.state === "loaded" ? h.state.info.devices : undefined;
      return { id, state: LIFECYCLE[h.state.state].health, slotsBusy: h.slotsBusy, slotsTotal: h.slotsTotal, queued: h.queued, inFlight: h.inFlight, kvTokens: h.kvTokens, kvCapacity: h.kvCapacity, devices };
    });
    return { ok: true, models };
  }

  async unload(name?: string | null): Promise<boolean> {
    const file = this.find(name);
    if (!file) throw this.notFound(name);
    return this.stop(file.id);
  }

  /**
   * Deletes a model's file(s), unloading it first: only a file Hearth pulled or imported into
   * `home`/models (removal.ts); anything else is refused with DeletionRefused.
   */
  async remove(name: string, home: string): Promise<string> {
    const file = this.find(name);
    if (!file) throw this.notFound(name);
    const refusal = file.checkpoint ? `${file.path} is a checkpoint folder, not a file Hearth pulled (remove it yourself)` : deletionRefusal(file.path, home);
    if (refusal) throw new DeletionRefused(refusal);
    await this.stop(file.id);
    for (const path of modelFiles(file.path)) rmSync(path, { force: true });
    this.headers.delete(file.path);
    this.rescan();
    return file.id;
  }

  /** Stops a model's runner and forgets it (its in-flight requests end with an error). */
  private async stop(id: string): Promise<boolean> {
    const entry = this.entries.get(id);
    if (!entry) return false;
    this.entries.delete(id);
    await entry.engine.close();
    return true;
  }

  async close(): Promise<void> {
    if (this.idleTimer) clearInterval(this.idleTimer);
    await Promise.all([...this.entries.keys()].map(id => this.stop(id)));
  }
}
