// The load generator: streaming chat requests with fixed output lengths, timed on the client.
export interface StreamResult {
  ttftMs: number;
  /** Client-observed decode rate after the first token (tokens/s). */
  decodeTps: number;
  tokens: number;
  totalMs: number;
  /** Server-reported time per generated token (its own `timings`), when present. */
  serverPerTokenMs: number | null;
  /** An error event in the stream (e.g. the server ran out of KV cache), or a short answer. */
  failed: boolean;
}

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/** One streaming chat request; tokens as its usage chunk counts them (content chunks where there is none). */
export async function streamChat(baseUrl: string, model: string, messages: ChatMessage[], maxTokens: number): Promise<StreamResult & { text: string }> {
  const t0 = performance.now();
  // One connection per request (for both servers): a reused keep-alive socket that the server
  // closed meanwhile makes fetch fail with ECONNRESET.
  const res = await fetch(`${baseUrl}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", connection: "close" },
    body: JSON.stringify({
      model,
      messages,
      max_tokens: maxTokens,
      temperature: 0,
      ignore_eos: true,
      stream: true,
      stream_options: { include_usage: true },
    }),
  });
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  const decoder = new TextDecoder();
  let buffer = "";
  let first = 0;
  let last = 0;
  let chunks = 0;
  let tokens = 0;
  let text = "";
  let serverPerTokenMs: number | null = null;
  let failed = false;
  for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(part, { stream: true });
    let cut: number;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, cut).trim();
      buffer = buffer.slice(cut + 2);
      if (!event.startsWith("data: ") || event === "data: [DONE]") continue;
      const json = JSON.parse(event.slice(6));
      if (json.error) failed = true;
      const content = json.choices?.[0]?.delta?.content;
      if (content) {
        const now = performance.now();
        if (!first) first = now;
        last = now;
        chunks++;
        text += content;
      }
      if (json.usage) tokens = json.usage.completion_tokens;
      if (json.timings?.predicted_per_token_ms) serverPerTokenMs = json.timings.predicted_per_token_ms;
    }
  }
  tokens ||= chunks;
  const decodeMs = last - first;
  return {
    ttftMs: first - t0,
    // Tokens, not chunks: a chunk may carry several tokens (Hearth's --stream-interval joins a
    // stream's text between sends); the first chunk's arrival starts the clock.
    decodeTps: decodeMs > 0 ? ((tokens - 1) * 1000) / decodeMs : 0,
    tokens,
    totalMs: performance.now() - t0,
    serverPerTokenMs,
    failed: failed || tokens < maxTokens,
    text,
  };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export const median = (values: number[]) => percentile(values, 50);

/** Deterministic filler text of roughly n tokens (about 1.3 tokens per word for BPE vocabularies). */
export function fillerText(words: number, seed: number): string {
  const vocab = ["river", "mountain", "lantern", "quiet", "engine", "garden", "silver", "window", "harbor", "pencil", "thunder", "meadow", "copper", "violet", "anchor", "canvas"];
  let x = seed * 2654435761 % 4294967296;
  const out: string[] = [];
  for (let i = 0; i < words; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out.push(vocab[x % vocab.length]!);
  }
  return out.join(" ");
}
