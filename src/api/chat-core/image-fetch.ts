// Fetching an image part's http(s) URL: off unless --allow-image-urls, and then never to loopback,
// private, link-local or otherwise non-public addresses (the server must not become a way into
// its own network), at most 20 MB and 10 s per image, redirects followed by hand (each hop checked).
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { badRequest } from "../errors.ts";

export interface ImageFetchPolicy {
  /** --allow-image-urls */
  allowUrls: boolean;
  /** Test hook: addresses the check lets through anyway (a local test server). */
  allowAddresses?: string[];
}

export const IMAGE_FETCH_TIMEOUT_MS = 10_000;
const MAX_BYTES = 20 * 1024 * 1024;
const MAX_REDIRECTS = 3;

/** Whether an IP address is one a server should not be made to reach for a client. */
export function isNonPublicAddress(ip: string): boolean {
  if (isIP(ip) === 4) {
    const [a, b] = ip.split(".").map(Number) as [number, number];
    return a === 0 || a === 10 || a === 127 || (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 198 && (b === 18 || b === 19)) || a >= 224;
  }
  const v6 = ip.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(v6);
  if (mapped) return isNonPublicAddress(mapped[1]!);
  return v6 === "::" || v6 === "::1" || /^f[cd]/.test(v6) || /^fe[89ab]/.test(v6) || v6.startsWith("ff");
}

async function checkHost(url: URL, param: string, policy: ImageFetchPolicy): Promise<void> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map(a => a.address);
  } catch {
    throw badRequest(`${param}: the image URL's host ${host} does not resolve`, { param, code: "invalid_image_url" });
  }
  for (const ip of addresses) {
    if (isNonPublicAddress(ip) && !policy.allowAddresses?.includes(ip)) {
      throw badRequest(`${param}: the image URL's host ${host} is a loopback or private address (${ip}); Hearth fetches only public addresses`, { param, code: "invalid_image_url" });
    }
  }
}

/** The bytes at an image part's URL, or a 400 naming the part. */
export async function fetchImage(raw: string, param: string, policy: ImageFetchPolicy, signal?: AbortSignal): Promise<Uint8Array> {
  if (!policy.allowUrls) {
    throw badRequest(`${param}: image URLs are off on this server; send the image as a data: URL (data:image/png;base64,…), or start Hearth with --allow-image-urls`, { param, code: "image_urls_disabled" });
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw badRequest(`${param}: not a URL`, { param, code: "invalid_image_url" });
  }
  const timeout = AbortSignal.timeout(IMAGE_FETCH_TIMEOUT_MS);
  const abort = signal ? AbortSignal.any([signal, timeout]) : timeout;
  try {
    for (let hop = 0; ; hop++) {
      if (url.protocol !== "http:" && url.protocol !== "https:") throw badRequest(`${param}: image URLs must be http(s) or data:`, { param, code: "invalid_image_url" });
      await checkHost(url, param, policy);
      const res = await fetch(url, { redirect: "manual", signal: abort });
      if (res.status >= 300 && res.status < 400 && res.headers.get("location")) {
        if (hop >= MAX_REDIRECTS) throw badRequest(`${param}: the image URL redirects more than ${MAX_REDIRECTS} times`, { param, code: "invalid_image_url" });
        url = new URL(res.headers.get("location")!, url);
        continue;
      }
      if (!res.ok) throw badRequest(`${param}: fetching the image answered HTTP ${res.status}`, { param, code: "invalid_image_url" });
      return await readBounded(res, param);
    }
  } catch (err) {
    if (timeout.aborted) throw badRequest(`${param}: the image took longer than ${IMAGE_FETCH_TIMEOUT_MS / 1000} s to fetch`, { param, code: "invalid_image_url" });
    if ((err as Error).name === "ApiError" || signal?.aborted) throw err;
    throw badRequest(`${param}: the image could not be fetched (${(err as Error).message})`, { param, code: "invalid_image_url" });
  }
}

async function readBounded(res: Response, param: string): Promise<Uint8Array> {
  const declared = Number(res.headers.get("content-length") ?? 0);
  const tooBig = () => badRequest(`${param}: the image is larger than ${MAX_BYTES} bytes`, { param, code: "invalid_image" });
  if (declared > MAX_BYTES) throw tooBig();
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (!res.body) return new Uint8Array(0);
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > MAX_BYTES) throw tooBig();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
