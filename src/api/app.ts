// The HTTP app: routes, auth, CORS, limits, and the one error mapper. Knows nothing of FFI.
import { Elysia, t } from "elysia";
import { openapi } from "@elysiajs/openapi";
import { countTokens, messages } from "./anthropic/handler.ts";
import { anthropicErrorResponse, isAnthropicPath } from "./anthropic/errors.ts";
import { isOllamaPath, ollamaErrorResponse } from "./ollama/errors.ts";
import { ollamaRoutes } from "./ollama/routes.ts";
import { FileDigests } from "../models/digests.ts";
import { hearthHome } from "../util/home.ts";
import { join } from "node:path";
import { countTokensBody, messagesBody } from "./anthropic/schema.ts";
import { applyTemplate, applyTemplateBody } from "./apply-template/route.ts";
import { chatCompletionBody } from "./chat-completions/schema.ts";
import { chatCompletions } from "./chat-completions/handler.ts";
import { completionBody } from "./completions/schema.ts";
import { completions } from "./completions/handler.ts";
import { embeddings } from "./embeddings/handler.ts";
import { embeddingsBody } from "./embeddings/schema.ts";
import { ApiError, badRequest, errorResponse, modelNotFound, routeNotFound, toApiError, tooLarge, unauthorized } from "./errors.ts";
import type { GenerationContext } from "./generation.ts";
import { parseJsonBody } from "./json-body.ts";
import type { ModelSource } from "./model-source.ts";
import { counters, renderMetrics } from "./metrics.ts";
import { listModels, modelObject } from "./models/route.ts";
import { isNativePath, nativeErrorResponse } from "./llama-server/errors.ts";
import { llamaServerRoutes } from "./llama-server/routes.ts";
import { slotAction, slotActionBody } from "./llama-server/slot-actions.ts";
import { detokenize, detokenizeBody, tokenize, tokenizeBody } from "./tokenize/route.ts";
import { cancelResponse, createResponse, deleteResponse, inputTokens, listInputItems, retrieveResponse } from "./responses/handler.ts";
import { inputItemsQuery, inputTokensBody, responsesBody } from "./responses/schema.ts";
import { ResponseStore } from "./responses/store.ts";
import { log } from "../util/log.ts";
import { RequestTrace } from "./request-trace.ts";
import { routeLabeller } from "./route-labels.ts";
import { corsHeaders, keyAccepted, presentedKey } from "./security.ts";
import { crossSiteRefusal, hostRefusal } from "./browser-guard.ts";
import { chatPage } from "../ui/route.ts";
import { SERVE_DEFAULTS } from "../options/serve.ts";
import { HEARTH_VERSION } from "../util/version.ts";

export interface AppOptions {
  apiKeys: string[];
  /** Allowed origins; ["*"] for any; null = CORS off. Other origins' pages may not POST. */
  cors: string[] | null;
  /** Host names answered besides IP addresses (DNS-rebinding guard), from hostAllowList(); null or absent: any. */
  hostNames?: readonly string[] | null;
  maxBodyBytes: number;
  /** Let special-token text in chat messages become control tokens (llama-server's behaviour). Off by default. */
  parseSpecialInChat?: boolean;
  /** Generation requests are cancelled after this many ms (0: no limit). */
  requestTimeoutMs?: number;
  /** Bytes a stream may hold for a client that does not read before it is cancelled (default: --max-stream-buffer's). */
  maxStreamBufferBytes?: number;
  /** Serve the chat page at GET / (default true; `--no-ui` turns it off). */
  ui?: boolean;
  /** Milliseconds between an Anthropic stream's pings while it waits (a long prefill); default 5000. */
  anthropicPingMs?: number;
  /** Bytes of stored Responses-API responses kept for previous_response_id (default: --responses-store-size's). */
  responsesStoreBytes?: number;
  /** Fetch http(s) image URLs in requests (--allow-image-urls; chat-core/image-fetch.ts). Off by default. */
  allowImageUrls?: boolean;
  /** --slot-save-path: llama-server's POST /slots/{id}?action=… saves and restores there; absent: 501. */
  slotSavePath?: string;
  /** Ollama's API: $HEARTH_HOME (pulls, aliases.json, the digest cache; default hearthHome()) and --hf-endpoint for /api/pull. */
  ollama?: { home?: string; hfEndpoint?: string };
}

/** /models/load and /models/unload: `model` omitted or empty is the default model. */
const modelNameBody = t.Object({ model: t.Optional(t.String({ maxLength: 512 })) });

/** What needs no API key: the health check, and the chat page's own files (it asks for the key). */
function isPublic(request: Request, path: string, ui: boolean): boolean {
  if (path === "/health" || path === "/v1/health") return true;
  return ui && request.method === "GET" && (path === "/" || path.startsWith("/ui/"));
}

/** /health's models; RPC workers' addresses only for a caller who could read them in /v1/models. */
function healthModels(models: ReturnType<ModelSource["health"]>["models"], reveal: boolean) {
  if (reveal) return models;
  return models.map(m => (m.devices ? { ...m, devices: m.devices.map(({ endpoint: _, ...d }) => d) } : m));
}

/** The id in /v1/models/{id}, percent-decoded once from the raw path (ids of models in sub-folders contain '/'). */
function modelIdFromPath(request: Request): string {
  const raw = new URL(request.url).pathname.slice("/v1/models/".length);
  try {
    return decodeURIComponent(raw);
  } catch {
    throw badRequest(`The model id '${raw}' in the path is not valid percent-encoding`, { param: "model", code: "invalid_value" });
  }
}

/** "/messages/0/role" → "messages[0].role", OpenAI's way of naming a field. */
function paramName(path: string | undefined): string | null {
  if (!path) return null;
  return path
    .split("/")
    .filter(Boolean)
    .map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`))
    .join("");
}

interface ValueErrorLike {
  path?: string;
  message?: string;
  errors?: Iterable<ValueErrorLike>[];
}

/** A union's own message ("Expected union value") says nothing: use its most telling branch. */
function mostSpecific(err: ValueErrorLike): ValueErrorLike {
  for (const branch of err.errors ?? []) {
    for (const inner of branch) {
      if (inner.message && !/Expected null/.test(inner.message)) return mostSpecific(inner);
    }
  }
  return err;
}

function validationError(error: unknown): ApiError {
  const e = error as { valueError?: ValueErrorLike; all?: ValueErrorLike[] };
  // Unknown fields are dropped once a body is valid, but the validator names them first when
  // something else is wrong: say what is wrong instead.
  const first = e.all?.find(x => x.message !== "Unexpected property") ?? e.valueError ?? e.all?.[0];
  const detail = first ? mostSpecific(first) : undefined;
  const param = paramName(detail?.path ?? first?.path);
  const what = detail?.message ?? "invalid value";
  const message = param ? `Invalid value for '${param}': ${what}` : `Invalid request body: ${what}`;
  return badRequest(message, { param, code: "invalid_value" });
}

/**
 * Elysia builds a failed validation's message with the offending value in a template string; a
 * JSON object with its own "toString" or "valueOf" key (never a function in JSON) cannot become a
 * string, and the TypeError thrown while building the message replaces the validation error.
 * It is still the client's bad value: a 400, not a 500.
 */
function isValidationMessageCrash(error: unknown): boolean {
  return error instanceof TypeError && /\b(mapValueError|ValidationError)\b/.test(error.stack ?? "");
}

/** An error in the envelope of the dialect the path speaks (Anthropic's on /v1/messages, else OpenAI's). */
function dialectError(request: Request, error: ApiError, headers: Record<string, string> = {}): Response {
  const path = new URL(request.url).pathname;
  if (isOllamaPath(path)) return ollamaErrorResponse(error, headers);
  if (isNativePath(path)) return nativeErrorResponse(error, headers);
  return isAnthropicPath(path) ? anthropicErrorResponse(error, headers) : errorResponse(error, headers);
}

/** A client's own X-Request-Id when it is a sane token, else a fresh one. */
function requestId(request: Request): string {
  const given = request.headers.get("x-request-id");
  return given && /^[\w.:-]{1,128}$/.test(given) ? given : crypto.randomUUID();
}

// Every body is JSON, read by the strict parser above; naming "json" on each route also tells
// the OpenAPI generator so (it cannot see into a parser function).
export function createApp(models: ModelSource, options: AppOptions) {
  const ui = options.ui ?? true;
  const images = { allowUrls: options.allowImageUrls === true };
  const anthropic = { protect: !options.parseSpecialInChat, pingMs: options.anthropicPingMs ?? 5000, images };
  const maxStreamBufferBytes = options.maxStreamBufferBytes || SERVE_DEFAULTS["max-stream-buffer"];
  const responses = { protect: !options.parseSpecialInChat, store: new ResponseStore(options.responsesStoreBytes ?? SERVE_DEFAULTS["responses-store-size"]), images };
  const responsesDetail = (summary: string) => ({ detail: { summary, tags: ["Responses"] } });
  const home = options.ollama?.home ?? hearthHome();
  const ollama = {
    protect: !options.parseSpecialInChat,
    home,
    pull: { dir: join(home, "models"), hfEndpoint: options.ollama?.hfEndpoint, token: process.env.HF_TOKEN },
    digests: new FileDigests(join(home, "cache", "digests.json")),
  };
  const traces = new WeakMap<Request, RequestTrace>();
  const traceOf = (request: Request) => {
    let trace = traces.get(request);
    if (!trace) traces.set(request, (trace = new RequestTrace(requestId(request), request.method, new URL(request.url).pathname)));
    return trace;
  };
  // Client gone, or --request-timeout passed (the signal's reason is then a TimeoutError).
  const generation = (request: Request): GenerationContext => ({
    signal: options.requestTimeoutMs ? AbortSignal.any([request.signal, AbortSignal.timeout(options.requestTimeoutMs)]) : request.signal,
    trace: traceOf(request),
    maxStreamBufferBytes,
  });
  /** Ends a request that never reached a handler. */
  const early = (request: Request, response: Response) => {
    counters.request(routeLabel(request), response.status);
    const trace = traceOf(request);
    response.headers.set("x-request-id", trace.id);
    // Anthropic's SDKs read the id from `request-id`.
    if (isAnthropicPath(new URL(request.url).pathname)) response.headers.set("request-id", trace.id);
    trace.end(response.status);
    return response;
  };
  const health = (request: Request) => {
    const h = models.health();
    // /health needs no key, so with one configured it keeps RPC workers' addresses to key holders.
    const reveal = options.apiKeys.length === 0 || keyAccepted(presentedKey(request), options.apiKeys);
    return { status: "ok", models: healthModels(h.models, reveal) };
  };
  // Metrics label each request by the registered route that serves its path (see route-labels.ts).
  const label = routeLabeller(() => app.routes.map(r => r.path));
  const routeLabel = (request: Request) => label(new URL(request.url).pathname);
  const app = new Elysia()
    .onRequest(({ request, set }) => {
      const url = new URL(request.url);
      const cors = corsHeaders(request, options.cors);
      set.headers["x-request-id"] = traceOf(request).id;
      const refusal = hostRefusal(request, options.hostNames ?? null) ?? crossSiteRefusal(request, options.cors);
      if (refusal) return early(request, dialectError(request, refusal, cors));
      if (request.method === "OPTIONS") return early(request, new Response(null, { status: 204, headers: cors }));
      const length = Number(request.headers.get("content-length") ?? 0);
      if (length > options.maxBodyBytes) {
        return early(request, dialectError(request, tooLarge(`request body of ${length} bytes exceeds the limit of ${options.maxBodyBytes}`), cors));
      }
      if (options.apiKeys.length > 0 && !isPublic(request, url.pathname, ui) && !keyAccepted(presentedKey(request), options.apiKeys)) {
        return early(request, dialectError(
          request,
          unauthorized("Incorrect or missing API key. Pass it as 'Authorization: Bearer KEY'."),
          { ...cors, "www-authenticate": "Bearer" },
        ));
      }
    })
    .onParse(async ({ request }, contentType) => {
      if (contentType.startsWith("application/json")) return parseJsonBody(new Uint8Array(await request.arrayBuffer()), options.maxBodyBytes);
    })
    .onAfterHandle(({ request, set }) => {
      Object.assign(set.headers, corsHeaders(request, options.cors));
    })
    .onAfterHandle(({ request, set }) => {
      const status = typeof set.status === "number" ? set.status : 200;
      counters.request(routeLabel(request), status);
      const trace = traceOf(request);
      if (!trace.streaming) trace.end(status);
    })
    .onError(({ code, error, request }) => {
      let api: ApiError;
      // Elysia wraps what our body parser throws in its ParseError: keep our own error.
      const own = error instanceof ApiError ? error : (error as { cause?: unknown }).cause;
      if (own instanceof ApiError) api = own;
      else if (code === "VALIDATION") api = validationError(error);
      else if (isValidationMessageCrash(error)) api = badRequest("Invalid request body: an object where a string is expected", { code: "invalid_value" });
      else if (code === "PARSE") api = badRequest("The request body is not valid JSON.", { code: "invalid_json" });
      else if (code === "NOT_FOUND") api = routeNotFound(`No route for ${request.method} ${new URL(request.url).pathname}`);
      else {
        api = toApiError(error);
        if (api.status === 500) log("error", `${request.method} ${new URL(request.url).pathname}: ${(error as Error)?.stack ?? String(error)}`);
      }
      counters.request(routeLabel(request), api.status);
      const trace = traceOf(request);
      trace.error = api.message;
      trace.end(api.status);
      return dialectError(request, api, { ...corsHeaders(request, options.cors), "x-request-id": trace.id });
    })
    // GET /openapi: the API described from the TypeBox schemas below, the ones requests are validated with.
    .use(
      openapi({
        provider: null,
        specPath: "/openapi",
        documentation: {
          info: { title: "Hearth", version: HEARTH_VERSION, description: "A local OpenAI-compatible LLM server on llama.cpp." },
          components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" }, apiKeyHeader: { type: "apiKey", in: "header", name: "X-Api-Key" } } },
          // Only enforced when the server runs with --api-key; /health and the page stay open.
          security: [{ bearer: [] }, { apiKeyHeader: [] }],
        },
      }),
    )
    .use(ui ? chatPage() : new Elysia())
    .use(ollamaRoutes(models, request => generation(request), ollama))
    .get("/health", ({ request }) => health(request))
    .get("/v1/health", ({ request }) => health(request), { detail: { summary: "/health, as llama-server also answers it" } })
    .get("/metrics", () => new Response(renderMetrics(models), { headers: { "content-type": "text/plain; version=0.0.4" } }))
    .get("/v1/models", async () => listModels(await models.list()))
    // llama-server answers its OpenAI routes without /v1 too (clients given a base URL without it).
    .get("/models", async () => listModels(await models.list()))
    .get("/v1/models/*", async ({ request }) => {
      const id = modelIdFromPath(request);
      const found = (await models.list()).find(m => m.id === id || m.aliases?.includes(id));
      if (!found) throw modelNotFound(`The model '${id}' does not exist`);
      return modelObject(found);
    }, { detail: { summary: "One model; * is its id or alias (ids of models in sub-folders contain '/')" } })
    .post("/v1/chat/completions", ({ body, request }) => chatCompletions(body, models, generation(request), !options.parseSpecialInChat, images), { parse: "json", body: chatCompletionBody })
    .post("/chat/completions", ({ body, request }) => chatCompletions(body, models, generation(request), !options.parseSpecialInChat, images), { parse: "json", body: chatCompletionBody })
    .use(llamaServerRoutes(models, generation, !options.parseSpecialInChat))
    .post("/slots/:id_slot", ({ params, query, body }) => slotAction(models, options.slotSavePath ?? null, params.id_slot, query, body), {
      body: slotActionBody,
      detail: { summary: "llama-server's slot save / restore / erase (action=…, filename in the body; needs --slot-save-path)", tags: ["llama-server"] },
    })
    .post("/v1/messages", ({ body, request }) => messages(body, models, generation(request), anthropic), {
      parse: "json",
      body: messagesBody,
      detail: { summary: "Anthropic Messages API (clients may add ?beta=true)", tags: ["Anthropic"] },
    })
    .post("/v1/messages/count_tokens", ({ body, request }) => countTokens(body, models, anthropic, traceOf(request).id), {
      parse: "json",
      body: countTokensBody,
      detail: { summary: "Anthropic's token count: the prompt tokens the same /v1/messages request would use", tags: ["Anthropic"] },
    })
    .post("/v1/responses", ({ body, request }) => createResponse(body, models, generation(request), responses), { parse: "json", body: responsesBody, ...responsesDetail("OpenAI Responses API") })
    .post("/responses", ({ body, request }) => createResponse(body, models, generation(request), responses), { parse: "json", body: responsesBody, ...responsesDetail("OpenAI Responses API (un-prefixed)") })
    .post("/v1/responses/input_tokens", ({ body, request }) => inputTokens(body, models, responses, traceOf(request).id), {
      parse: "json",
      body: inputTokensBody,
      ...responsesDetail("The prompt tokens the same /v1/responses request would decode"),
    })
    .get("/v1/responses/:id", ({ params }) => retrieveResponse(params.id, responses.store), responsesDetail("A stored response"))
    .delete("/v1/responses/:id", ({ params }) => deleteResponse(params.id, responses.store), responsesDetail("Forget a stored response"))
    .get("/v1/responses/:id/input_items", ({ params, query }) => listInputItems(params.id, query, responses.store), {
      query: inputItemsQuery,
      ...responsesDetail("A stored response's input items, a cursor page"),
    })
    .post("/v1/responses/:id/cancel", ({ params }) => cancelResponse(params.id, responses.store), responsesDetail("Cancel a background response (none are made here: a 400)"))
    .post("/v1/completions", ({ body, request }) => completions(body, models, generation(request)), { parse: "json", body: completionBody })
    .post("/v1/embeddings", ({ body }) => embeddings(body, models), { parse: "json", body: embeddingsBody })
    .post(
      "/models/load",
      async ({ body }) => {
        const model = await models.acquire(body.model);
        return { model: model.id, status: "loaded" };
      },
      { parse: "json", body: modelNameBody },
    )
    .post(
      "/models/unload",
      async ({ body }) => ({ model: body.model || models.defaultId(), status: (await models.unload(body.model)) ? "unloaded" : "not loaded" }),
      { parse: "json", body: modelNameBody },
    )
    .post("/apply-template", ({ body }) => applyTemplate(body, models, !options.parseSpecialInChat), { parse: "json", body: applyTemplateBody })
    .post("/tokenize", ({ body }) => tokenize(body, models), { parse: "json", body: tokenizeBody })
    .post("/detokenize", ({ body }) => detokenize(body, models), { parse: "json", body: detokenizeBody });
  return app;
}
