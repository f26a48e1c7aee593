// The models this server can serve, and one engine (runner process) per model, started on
// first use. Concurrent first requests share one load. Implements the API's ModelSource.
import type { AcquiredModel, ModelListing, ModelSource } from "../api/model-source.ts";
import { detectFamily, samplingDefaults } from "../chat/families.ts";
import { ChatRenderer } from "../chat/renderer.ts";
import type { RunnerConfig } from "../engine/runner-protocol.ts";
import { RunnerEngine } from "../engine/runner-engine.ts";
import { EngineError } from "../engine/types.ts";
import { discoverModels, type ModelFile } from "./discover.ts";
import { ModelNotFoundError, ModelUnavailableError } from "./errors.ts";

export type RunnerDefaults = Omit<RunnerConfig, "modelPath">;

interface Entry {
  engine: RunnerEngine;
  loading: Promise<AcquiredModel> | null;
  acquired: AcquiredModel | null;
}

export class ModelRegistry implements ModelSource {
  private files: ModelFile[] = [];
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly paths: string[],
    private readonly dirs: string[],
    private readonly defaults: RunnerDefaults,
    /** --chat-template NAME|FILE for every model. */
    private readonly chatTemplate?: string,
  ) {
    this.rescan();
  }

  /** Re-reads the model folders: files added while the server runs appear without a restart. */
  rescan(): ModelFile[] {
    this.files = discoverModels(this.paths, this.dirs);
    return this.files;
  }

  find(id: string): ModelFile | undefined {
    return this.files.find(f => f.id === id) ?? this.rescan().find(f => f.id === id);
  }

  defaultId(): string | undefined {
    return this.files[0]?.id;
  }

  list(): ModelListing[] {
    return this.rescan().map(file => {
      const entry = this.entries.get(file.id);
      const health = entry?.engine.health();
      const loaded = entry?.acquired != null && entry.engine.loaded;
      const state: ModelListing["state"] = loaded ? "loaded" : entry?.loading ? "loading" : health?.state === "failed" ? "failed" : "available";
      return {
        id: file.id,
        created: Math.floor(file.mtimeMs / 1000),
        sizeBytes: file.sizeBytes,
        loaded,
        state,
        error: state === "failed" ? health?.error : undefined,
        slots: loaded && health ? { total: health.slotsTotal, busy: health.slotsBusy } : undefined,
        info: entry?.acquired?.info,
        family: entry?.acquired?.chat.family,
        chatTemplate: entry?.acquired?.chat.templateSource,
      };
    });
  }

  async acquire(id: string): Promise<AcquiredModel> {
    const file = this.find(id);
    if (!file) {
      throw new ModelNotFoundError(id);
    }
    let entry = this.entries.get(file.id);
    if (!entry) {
      entry = { engine: new RunnerEngine({ ...this.defaults, modelPath: file.path }), loading: null, acquired: null };
      this.entries.set(file.id, entry);
    }
    if (entry.acquired && entry.engine.loaded) return entry.acquired;
    const e = entry;
    e.loading ??= this.start(file, e).finally(() => (e.loading = null));
    return e.loading;
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
    entry.acquired = {
      id: file.id,
      engine: entry.engine,
      info,
      defaults: samplingDefaults(info.metadata, family),
      chat:
        entry.acquired?.chat ??
        new ChatRenderer({
          chatTemplate: info.chatTemplate,
          bosText: info.bosText,
          eosText: info.eosText,
          modelId: file.id,
          family,
          override: this.chatTemplate,
        }),
      fingerprint: `hearth-${Math.round(file.mtimeMs).toString(36)}-${file.sizeBytes.toString(36)}`,
    };
    return entry.acquired;
  }

  health() {
    const models = [...this.entries.entries()].map(([id, e]) => {
      const h = e.engine.health();
      return { id, state: e.engine.loaded ? "loaded" : h.state, slotsBusy: h.slotsBusy, slotsTotal: h.slotsTotal, queued: h.queued };
    });
    return { ok: true, models };
  }

  async unload(id: string): Promise<boolean> {
    const entry = this.entries.get(id);
    if (!entry) return false;
    this.entries.delete(id);
    await entry.engine.close();
    return true;
  }

  async close(): Promise<void> {
    await Promise.all([...this.entries.keys()].map(id => this.unload(id)));
  }
}
