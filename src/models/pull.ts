// hearth pull: download a GGUF over HTTPS (Hugging Face or any URL) into the models folder.
// Resumes a partial download (HTTP Range) from `<file>.part`, checks sha256 when known, and
// renames to the final name only when complete: a file under its final name is always whole.
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export class PullError extends Error {
  override name = "PullError";
}

export interface PullOptions {
  /** https URL, or REPO/FILE.gguf (optionally REPO/FILE.gguf@revision) on Hugging Face. */
  source: string;
  /** Folder the file lands in. */
  dir: string;
  /** Expected sha256 (hex); when absent, Hugging Face's X-Linked-Etag is used if it is one. */
  sha256?: string;
  token?: string;
  hfEndpoint?: string;
  onProgress?: (done: number, total: number | null) => void;
}

/**
 * OWNER/REPO:QUANT → OWNER/REPO/FILE.gguf, choosing the repository's GGUF file whose name has that
 * quantization (Hugging Face's model API lists the files). Other sources pass through.
 */
export async function resolveQuant(source: string, hfEndpoint = "https://huggingface.co", token?: string): Promise<string> {
  const m = /^([^/:@\s]+\/[^/:@\s]+):([A-Za-z0-9_]+)$/.exec(source);
  if (!m) return source;
  const [, repo, quant] = m;
  const res = await fetch(`${hfEndpoint.replace(/\/$/, "")}/api/models/${repo}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (!res.ok) throw new PullError(`${repo}: HTTP ${res.status} listing the repository`);
  const body = (await res.json()) as { siblings?: Array<{ rfilename: string }> };
  const files = (body.siblings ?? []).map(s => s.rfilename).filter(f => f.toLowerCase().endsWith(".gguf"));
  const match = files.filter(f => f.toLowerCase().includes(quant!.toLowerCase())).sort((a, b) => a.length - b.length)[0];
  if (!match) throw new PullError(`${repo} has no ${quant} GGUF file (it has: ${files.join(", ") || "none"})`);
  return `${repo}/${match}`;
}

/** REPO/FILE.gguf → its Hugging Face resolve URL; URLs pass through. */
export function resolveSource(source: string, hfEndpoint = "https://huggingface.co"): { url: string; fileName: string } {
  if (/^https?:\/\//.test(source)) return { url: source, fileName: basename(new URL(source).pathname) };
  const [path, revision = "main"] = source.split("@");
  const parts = path!.split("/");
  if (parts.length < 3 || !parts.at(-1)!.endsWith(".gguf")) throw new PullError(`expected OWNER/REPO/FILE.gguf or a URL, got '${source}'`);
  const repo = parts.slice(0, 2).join("/");
  const file = parts.slice(2).join("/");
  return { url: `${hfEndpoint.replace(/\/$/, "")}/${repo}/resolve/${revision}/${file}`, fileName: basename(file) };
}

async function hashFile(path: string, hash: ReturnType<typeof createHash>): Promise<void> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
}

export async function pull(options: PullOptions): Promise<string> {
  const { url, fileName } = resolveSource(options.source, options.hfEndpoint);
  mkdirSync(options.dir, { recursive: true });
  const dest = join(options.dir, fileName);
  const part = `${dest}.part`;
  let offset = existsSync(part) ? statSync(part).size : 0;

  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (offset > 0) headers.range = `bytes=${offset}-`;
  const res = await fetch(url, { headers, redirect: "follow" });
  if (res.status === 416) {
    // The part already holds everything (or is larger than the file): start over.
    rmSync(part, { force: true });
    return pull(options);
  }
  if (!res.ok) throw new PullError(`${url}: HTTP ${res.status}`);
  if (res.status !== 206) offset = 0; // the server ignored Range: download from the start

  const length = Number(res.headers.get("content-length") ?? NaN);
  const total = Number.isFinite(length) ? offset + length : null;
  const etag = (res.headers.get("x-linked-etag") ?? "").replace(/"/g, "");
  const expected = options.sha256 ?? (/^[0-9a-f]{64}$/.test(etag) ? etag : undefined);

  const hash = createHash("sha256");
  if (offset > 0) await hashFile(part, hash);
  const fh = await open(part, offset > 0 ? "a" : "w");
  let done = offset;
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      await fh.write(chunk);
      hash.update(chunk);
      done += chunk.length;
      options.onProgress?.(done, total);
    }
  } finally {
    await fh.close();
  }
  if (total !== null && done !== total) throw new PullError(`${url}: got ${done} of ${total} bytes; run pull again to resume`);
  const actual = hash.digest("hex");
  if (expected && actual !== expected.toLowerCase()) {
    rmSync(part, { force: true });
    throw new PullError(`${fileName}: sha256 ${actual} does not match the expected ${expected}`);
  }
  mkdirSync(dirname(dest), { recursive: true });
  renameSync(part, dest);
  return dest;
}

/** A progress reporter: a redrawn bar with speed and ETA on a terminal, a line per 10 % otherwise. */
export function progressReporter(label: string, out: NodeJS.WriteStream = process.stderr): (done: number, total: number | null) => void {
  const start = performance.now();
  let lastTenth = -1;
  let lastDraw = 0;
  const mb = (n: number) => (n / 1048576).toFixed(1);
  return (done, total) => {
    const seconds = (performance.now() - start) / 1000;
    const speed = seconds > 0 ? done / seconds : 0;
    if (out.isTTY) {
      const now = performance.now();
      if (now - lastDraw < 100 && done !== total) return;
      lastDraw = now;
      const fraction = total ? done / total : 0;
      const bar = "#".repeat(Math.round(fraction * 30)).padEnd(30, "-");
      const eta = total && speed > 0 ? `${Math.ceil((total - done) / speed)} s` : "?";
      out.write(`\r${label} [${bar}] ${mb(done)}/${total ? mb(total) : "?"} MiB ${mb(speed)} MiB/s ETA ${eta}   ${done === total ? "\n" : ""}`);
    } else if (total) {
      const tenth = Math.floor((done / total) * 10);
      if (tenth !== lastTenth) {
        lastTenth = tenth;
        out.write(`${label}: ${tenth * 10}% (${mb(done)} of ${mb(total)} MiB, ${mb(speed)} MiB/s)\n`);
      }
    }
  };
}
