// hearth pull: download a GGUF over HTTPS (Hugging Face or any URL) into the models folder.
// Resumes a partial download (HTTP Range) from `<file>.part`, checks sha256 when known, and
// renames to the final name only when complete: a file under its final name is always whole.
// HF_TOKEN goes only over https to the Hugging Face endpoint's own host: redirects are followed by
// hand and the token is decided again for every hop (the CDN hops carry signed URLs instead).
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { isProjectorName } from "./discover.ts";

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
  /** The name the file is saved under (default: its own). */
  fileName?: string;
}

export const DEFAULT_HF_ENDPOINT = "https://huggingface.co";
const MAX_REDIRECTS = 10;

/**
 * Whether the token may go with a request to `url`: only over https, and only to the host (and
 * port) of the Hugging Face endpoint — which must itself be https. Anything unparsable: no.
 */
export function shouldSendToken(url: string | URL, endpoint: string = DEFAULT_HF_ENDPOINT): boolean {
  let target: URL;
  let hub: URL;
  try {
    target = new URL(url);
    hub = new URL(endpoint);
  } catch {
    return false;
  }
  return target.protocol === "https:" && hub.protocol === "https:" && target.host === hub.host;
}

/**
 * GET `url`, following redirects one hop at a time. The token goes with a hop only while every hop
 * so far, this one included, passes shouldSendToken: once a redirect leaves the endpoint, no later
 * hop gets it, even one that leads back. Returns the final response and the first X-Linked-Etag
 * seen (Hugging Face puts it on its redirect, not on the CDN's answer).
 */
async function hubFetch(url: string, headers: Record<string, string>, token: string | undefined, endpoint: string): Promise<{ res: Response; linkedEtag: string | null }> {
  let current = url;
  let trusted = true;
  let linkedEtag: string | null = null;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    trusted &&= shouldSendToken(current, endpoint);
    const res = await fetch(current, { headers: token && trusted ? { ...headers, authorization: `Bearer ${token}` } : headers, redirect: "manual" });
    linkedEtag ??= res.headers.get("x-linked-etag");
    const location = res.headers.get("location");
    if (res.status < 300 || res.status > 399 || res.status === 304 || !location) return { res, linkedEtag };
    await res.body?.cancel();
    current = new URL(location, current).href;
  }
  throw new PullError(`${url}: more than ${MAX_REDIRECTS} redirects`);
}

/** OWNER/REPO:QUANT, Hugging Face's way of naming a repository's file by its quantization. */
export const QUANT_SOURCE = /^([^/:@\s]+\/[^/:@\s]+):([A-Za-z0-9_]+)$/;

/** The GGUF files of a Hugging Face repository (its model API lists them). */
export async function repoGgufFiles(repo: string, hfEndpoint = DEFAULT_HF_ENDPOINT, token?: string): Promise<string[]> {
  const { res } = await hubFetch(`${hfEndpoint.replace(/\/$/, "")}/api/models/${repo}`, {}, token, hfEndpoint);
  if (!res.ok) throw new PullError(`${repo}: HTTP ${res.status} listing the repository`);
  const body = (await res.json()) as { siblings?: Array<{ rfilename: string }> };
  return (body.siblings ?? []).map(s => s.rfilename).filter(f => f.toLowerCase().endsWith(".gguf"));
}

/**
 * OWNER/REPO:QUANT → OWNER/REPO/FILE.gguf, choosing the repository's GGUF file whose name has that
 * quantization (Hugging Face's model API lists the files). Other sources pass through.
 */
export async function resolveQuant(source: string, hfEndpoint = DEFAULT_HF_ENDPOINT, token?: string): Promise<string> {
  const m = QUANT_SOURCE.exec(source);
  if (!m) return source;
  const [, repo, quant] = m;
  // A vision repository's projector (mmproj-….gguf) is no model, whatever quantization its name says.
  const files = (await repoGgufFiles(repo!, hfEndpoint, token)).filter(f => !isProjectorName(basename(f)));
  const match = files.filter(f => f.toLowerCase().includes(quant!.toLowerCase())).sort((a, b) => a.length - b.length)[0];
  if (!match) throw new PullError(`${repo} has no ${quant} GGUF file (it has: ${files.join(", ") || "none"})`);
  return `${repo}/${match}`;
}

/** REPO/FILE.gguf → its Hugging Face resolve URL; URLs pass through. */
export function resolveSource(source: string, hfEndpoint = DEFAULT_HF_ENDPOINT): { url: string; fileName: string } {
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
  const resolved = resolveSource(options.source, options.hfEndpoint);
  const url = resolved.url;
  const fileName = options.fileName ?? resolved.fileName;
  mkdirSync(options.dir, { recursive: true });
  const dest = join(options.dir, fileName);
  const part = `${dest}.part`;
  let offset = existsSync(part) ? statSync(part).size : 0;

  const headers: Record<string, string> = {};
  if (offset > 0) headers.range = `bytes=${offset}-`;
  const { res, linkedEtag } = await hubFetch(url, headers, options.token, options.hfEndpoint ?? DEFAULT_HF_ENDPOINT);
  if (res.status === 416) {
    // The part already holds everything (or is larger than the file): start over.
    rmSync(part, { force: true });
    return pull(options);
  }
  if (!res.ok) throw new PullError(`${url}: HTTP ${res.status}`);
  if (res.status !== 206) offset = 0; // the server ignored Range: download from the start

  const length = Number(res.headers.get("content-length") ?? NaN);
  const total = Number.isFinite(length) ? offset + length : null;
  const etag = (linkedEtag ?? "").replace(/"/g, "");
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
