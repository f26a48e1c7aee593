// Talks to Hearth's OpenAI-compatible API: the API key (kept in this browser only), streamed
// completions read as Server-Sent Events, and server errors turned into plain words.
const KEY = "hearth.apiKey";

export const apiKey = {
  get: () => localStorage.getItem(KEY) ?? "",
  set: key => (key ? localStorage.setItem(KEY, key) : localStorage.removeItem(KEY)),
};

export class ApiError extends Error {
  constructor(message, { status = 0, code = null } = {}) {
    super(message);
    this.status = status;
    this.code = code;
  }
  get needsKey() {
    return this.status === 401;
  }
}

/** What an OpenAI error envelope means for the person reading the page. */
export function plainWords(status, error = {}) {
  const detail = error.message ? ` (${error.message})` : "";
  switch (error.code) {
    case "context_length_exceeded":
      return `This conversation no longer fits in the model's context window. Start a new chat, delete earlier messages or lower "max tokens".${detail}`;
    case "model_not_found":
      return `This server has no such model. Pick another one above.${detail}`;
    case "model_unavailable":
      return `The model could not be loaded.${detail}`;
    case "queue_full":
      return "The server is busy with other requests. Try again in a moment.";
    case "invalid_api_key":
      return "This server needs an API key. Enter it above.";
    case "engine_failure":
      return `The model stopped with an internal error.${detail}`;
  }
  if (status >= 500) return `The server ran into a problem (HTTP ${status}).${detail}`;
  return error.message ? `The server refused the request: ${error.message}` : `The request failed (HTTP ${status}).`;
}

function headers(withBody) {
  const h = {};
  if (withBody) h["content-type"] = "application/json";
  const key = apiKey.get();
  if (key) h.authorization = `Bearer ${key}`;
  return h;
}

/** fetch with the key; a non-2xx answer or an unreachable server throws an ApiError. */
export async function request(path, { method = "GET", body, signal } = {}) {
  let res;
  try {
    res = await fetch(path, { method, headers: headers(body !== undefined), body: body === undefined ? undefined : JSON.stringify(body), signal });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError("Cannot reach the Hearth server. Is it still running?");
  }
  if (!res.ok) {
    let error = {};
    try {
      error = (await res.json()).error ?? {};
    } catch {
      /* not JSON: keep the status alone */
    }
    throw new ApiError(plainWords(res.status, error), { status: res.status, code: error.code ?? null });
  }
  return res;
}

/** The parsed events of a streamed completion, until [DONE]; an error event throws. */
export async function* events(res) {
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replaceAll("\r\n", "\n");
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const event = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = event
          .split("\n")
          .filter(line => line.startsWith("data:"))
          .map(line => line.slice(5).trimStart())
          .join("\n");
        if (!data) continue;
        if (data === "[DONE]") return;
        const json = JSON.parse(data);
        if (json.error) throw new ApiError(plainWords(0, json.error), { code: json.error.code ?? null });
        yield json;
      }
    }
  } finally {
    reader.releaseLock();
  }
}
