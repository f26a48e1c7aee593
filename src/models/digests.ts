// sha256 of model files for Ollama's `digest`, computed in the background one file at a time and
// never awaited by a listing: a digest is absent until known. Cached by path, size and mtime (a
// changed file is hashed again), in memory and in $HEARTH_HOME/cache/digests.json across restarts.
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { log } from "../util/log.ts";

interface Known {
  size: number;
  mtimeMs: number;
  sha256: string;
}

export class FileDigests {
  private readonly known = new Map<string, Known>();
  private readonly queue: Array<{ path: string; size: number; mtimeMs: number }> = [];
  private readonly queued = new Set<string>();
  private running: Promise<void> | null = null;

  /** `cacheFile`: where digests persist (null: memory only). */
  constructor(private readonly cacheFile: string | null) {
    if (cacheFile && existsSync(cacheFile)) {
      try {
        for (const [path, k] of Object.entries(JSON.parse(readFileSync(cacheFile, "utf8")) as Record<string, Known>)) {
          if (typeof k?.sha256 === "string" && typeof k.size === "number" && typeof k.mtimeMs === "number") this.known.set(path, k);
        }
      } catch (err) {
        log("warn", `${cacheFile}: digest cache ignored (${(err as Error).message})`);
      }
    }
  }

  /** The file's sha256 if known for this size and mtime; otherwise undefined, and hashing is queued. */
  get(path: string, size: number, mtimeMs: number): string | undefined {
    const k = this.known.get(path);
    if (k && k.size === size && k.mtimeMs === mtimeMs) return k.sha256;
    const key = `${path}\0${size}\0${mtimeMs}`;
    if (!this.queued.has(key)) {
      this.queued.add(key);
      this.queue.push({ path, size, mtimeMs });
      this.running ??= this.drain().finally(() => (this.running = null));
    }
    return undefined;
  }

  /** Resolves when every queued file is hashed (tests; a listing never waits). */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    for (let next = this.queue.shift(); next; next = this.queue.shift()) {
      try {
        const hash = createHash("sha256");
        for await (const chunk of createReadStream(next.path)) hash.update(chunk as Buffer);
        this.known.set(next.path, { size: next.size, mtimeMs: next.mtimeMs, sha256: hash.digest("hex") });
        this.save();
      } catch (err) {
        log("debug", `digest of ${next.path} not computed: ${(err as Error).message}`);
      } finally {
        this.queued.delete(`${next.path}\0${next.size}\0${next.mtimeMs}`);
      }
    }
  }

  private save(): void {
    if (!this.cacheFile) return;
    try {
      mkdirSync(dirname(this.cacheFile), { recursive: true });
      const tmp = `${this.cacheFile}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(Object.fromEntries(this.known)));
      renameSync(tmp, this.cacheFile);
    } catch (err) {
      log("warn", `${this.cacheFile}: digest cache not written (${(err as Error).message})`);
    }
  }
}
