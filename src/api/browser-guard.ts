// What keeps a web page from using a Hearth that the visitor's browser can reach (a server on
// 127.0.0.1 with no key is the default): the Host check refuses DNS-rebinding pages (a name of the
// attacker's that now resolves to this machine), and the cross-site check refuses state-changing
// requests that another origin's page sends — a text/plain or form POST needs no CORS preflight,
// so CORS alone would not stop it. Non-browser clients (curl, SDKs) send neither Origin nor
// Sec-Fetch-Site and are not affected.
import { isIP } from "node:net";
import { ApiError, forbidden } from "./errors.ts";

/** The hostname of `HOST[:PORT]`, lowercase, brackets kept around IPv6, no trailing dot; null if it is not one. */
function hostnameOf(hostPort: string): string | null {
  let url: URL;
  try {
    url = new URL(`http://${hostPort}`);
  } catch {
    return null;
  }
  if (url.username || url.password || url.pathname !== "/" || url.search || url.hash || !url.hostname) return null;
  return url.hostname.replace(/\.$/, "");
}

const isIpLiteral = (hostname: string) => isIP(hostname.replace(/^\[(.*)\]$/, "$1")) !== 0;

function isLoopback(bindHost: string): boolean {
  const h = bindHost.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  return h === "localhost" || h === "::1" || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(h);
}

/** `--allowed-hosts NAME[:PORT],…` (repeatable) → hostnames, or "*" for any; throws on a malformed entry. */
export function parseAllowedHosts(flags: readonly string[]): string[] {
  const names: string[] = [];
  for (const entry of flags.flatMap(f => f.split(",")).map(s => s.trim()).filter(Boolean)) {
    const name = entry === "*" ? "*" : hostnameOf(entry);
    if (!name) throw new Error(`'${entry}' is not a host name (NAME or NAME:PORT)`);
    names.push(name);
  }
  return names;
}

/**
 * The host names a server bound to `bindHost` answers besides IP addresses (a DNS-rebinding
 * attack needs a name it controls, so an IP-address Host is always safe); null: any Host.
 * Bound to loopback the check is always on. Bound to a network address (0.0.0.0, a LAN address)
 * clients reach the server by names it cannot know (LAN, Docker and Kubernetes names), so, as
 * Ollama does, the check is on only when `--allowed-hosts` names some; the API key guards it there.
 */
export function hostAllowList(bindHost: string, allowedHosts: readonly string[]): string[] | null {
  if (allowedHosts.includes("*")) return null;
  if (!isLoopback(bindHost) && allowedHosts.length === 0) return null;
  const bound = hostnameOf(bindHost.includes(":") && !bindHost.startsWith("[") ? `[${bindHost}]` : bindHost);
  return [...new Set(["localhost", ...(bound && !isIpLiteral(bound) ? [bound] : []), ...allowedHosts])];
}

/** The request's Host header (a URL's host for requests built in-process, which have none). */
function hostHeader(request: Request): string {
  return request.headers.get("host") ?? new URL(request.url).host;
}

/** 403 for a request whose Host is not an IP address or a name in `allowed` (null: any Host). */
export function hostRefusal(request: Request, allowed: readonly string[] | null): ApiError | null {
  if (!allowed) return null;
  const host = hostHeader(request);
  const name = hostnameOf(host);
  if (name && (isIpLiteral(name) || allowed.includes(name))) return null;
  return forbidden(
    `The Host header '${host}' is not a name of this server, so the request is refused (protection against DNS rebinding). ` +
      `If you reach Hearth through this name (a reverse proxy, a hosts entry), start it with --allowed-hosts ${name ?? "NAME"}.`,
    "host_not_allowed",
  );
}

/** True when an Origin (`scheme://host[:port]`) names the same host and port the request was sent to. */
function isOwnOrigin(origin: string, host: string): boolean {
  try {
    const o = new URL(origin);
    return o.host === new URL(`${o.protocol}//${host}`).host;
  } catch {
    return false; // "null" (sandboxed frames, file:// pages) and anything malformed
  }
}

/** Whether a browser page from `origin` may use this server: its own page, or an origin --cors allows. */
function originAllowed(request: Request, origin: string, cors: readonly string[] | null): boolean {
  return isOwnOrigin(origin, hostHeader(request)) || cors?.includes("*") === true || cors?.includes(origin) === true;
}

/**
 * 403 for a state-changing request (any method but GET and HEAD) that a browser sends from another
 * site's page, unless --cors allows that origin; a preflight (OPTIONS) from such a page is refused
 * as its request would be. The Origin header decides when there is one; otherwise Sec-Fetch-Site
 * (same-site counts as foreign: another port on localhost is another application). GETs stay
 * open: they change nothing, a foreign page cannot read their answers without CORS, and a link to
 * the chat page from anywhere must keep working.
 */
export function crossSiteRefusal(request: Request, cors: readonly string[] | null): ApiError | null {
  if (request.method === "GET" || request.method === "HEAD") return null;
  const origin = request.headers.get("origin");
  if (origin !== null) return originAllowed(request, origin, cors) ? null : foreignOrigin(`Origin: ${origin}`, origin);
  const site = request.headers.get("sec-fetch-site");
  if ((site === "cross-site" || site === "same-site") && !cors?.includes("*")) return foreignOrigin(`Sec-Fetch-Site: ${site}`, null);
  return null;
}

function foreignOrigin(header: string, origin: string | null): ApiError {
  return forbidden(
    `A web page from another origin (${header}) may not use this server. ` +
      `To allow it, start Hearth with --cors ${origin && origin !== "null" ? origin : "ORIGIN"} (or --cors '*' for any page).`,
    "cross_origin_forbidden",
  );
}
