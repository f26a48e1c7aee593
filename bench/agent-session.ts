// Bench workloads for the prompt cache on disk: an agent's session that survives a restart of the
// server, and two agents whose models take turns under --max-loaded 1.
//
// An agent resends its whole prompt every turn (system prompt, tool definitions, the conversation:
// ~12k tokens here, as Claude Code's). Turn 1 is cold. Then the server restarts (or the model is
// swapped out and back), and turn 2 sends the same conversation plus the answer and one message.
// Both servers load the model before the clock starts (they are ready when they answer /health).
// Hearth saves the slot when its runner stops and reads it back for turn 2; llama-server, restarted
// the same way, has no automatic restore and prefills everything again. The figure to read is
// turn2_over_turn1: time to first token of turn 2 over turn 1's (the issue asks ≤ 0.1 for Hearth).
import type { Running } from "../test/helpers/server.ts";
import { streamChat, type ChatMessage, type StreamResult } from "./load.ts";

/**
 * Without a model: starts the server again with the same flags, and resolves once it is ready.
 * With one: makes that model the loaded one (Hearth: /models/load; a one-model server: a restart).
 */
export type Restart = (model?: "a" | "b") => Promise<Running>;

export interface AgentWorkload {
  name: string;
  /** Hearth's model flags and its own (--prompt-cache-dir, --max-loaded), given the files of models "a" and "b". */
  hearthModels: (a: string, b: string) => string[];
  /** Flags that override the bench's common ones on each server (they come last). */
  overrides?: { hearth: string[]; llamaServer: string[] };
  run(server: Running, restart: Restart): Promise<{ results: StreamResult[]; wallMs: number; extra?: Record<string, number> }>;
}

export const AGENT_PROMPT_TOKENS = 12_000;

/** One streamed /v1/completions request; the arrival time of every text chunk (one per token on both servers at Hearth's --stream-interval 0). */
async function streamCompletion(url: string, model: string, prompt: string, maxTokens: number): Promise<{ t0: number; arrivals: number[] }> {
  const t0 = performance.now();
  const res = await fetch(`${url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", connection: "close" },
    body: JSON.stringify({ model, prompt, max_tokens: maxTokens, temperature: 0, ignore_eos: true, stream: true }),
  });
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  const arrivals: number[] = [];
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(part, { stream: true });
    let cut: number;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, cut).trim();
      buffer = buffer.slice(cut + 2);
      if (!event.startsWith("data: {")) continue;
      if (JSON.parse(event.slice(6)).choices?.[0]?.text) arrivals.push(performance.now());
    }
  }
  return { t0, arrivals };
}

const asResult = (r: { t0: number; arrivals: number[] }, maxTokens: number): StreamResult => {
  const first = r.arrivals[0] ?? NaN;
  const last = r.arrivals.at(-1) ?? NaN;
  return {
    ttftMs: first - r.t0,
    decodeTps: r.arrivals.length > 1 ? ((r.arrivals.length - 1) * 1000) / (last - first) : 0,
    tokens: r.arrivals.length,
    totalMs: last - r.t0,
    serverPerTokenMs: null,
    failed: r.arrivals.length < maxTokens,
  };
};

const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
};

/** The conversation of an agent's turn 1: system prompt, tool definitions, earlier turns (~12k tokens together). */
async function conversation(server: Running, promptOfTokens: (server: Running, tokens: number, seed: number) => Promise<string>, seed: number): Promise<ChatMessage[]> {
  const part = (tokens: number, k: number) => promptOfTokens(server, tokens, seed + k);
  return [
    { role: "system", content: `${await part(2_000, 1)}\n\n# Tools\n${await part(4_000, 2)}` },
    { role: "user", content: await part(2_500, 3) },
    { role: "assistant", content: await part(1_000, 4) },
    { role: "user", content: await part(2_500, 5) },
  ];
}

const OUT = 16;

/**
 * The workloads. `ids` gives the model name a request carries for model "a" / "b" (llama-server
 * ignores it); `promptOfTokens` makes filler text of about that many tokens with the server's own
 * tokenizer.
 */
export function agentWorkloads(
  ids: { a: string; b: string },
  promptOfTokens: (server: Running, tokens: number, seed: number) => Promise<string>,
  cacheDir: string,
): AgentWorkload[] {
  return [
    {
      // Four slots: three streams decode while a fourth request takes the slot that holds a ~12k-token
      // sequence, which Hearth saves to disk first (a state copy in the token loop, then a
      // background write) and llama-server copies into its RAM prompt cache. The streams' time
      // between tokens: median (one decode step), p99, and the largest gap over the median. Hearth
      // sends every token as it is decoded here (--stream-interval 0): the question is whether the
      // save stalls the decode steps, which tokens sent together would hide.
      name: `streams while a ~${AGENT_PROMPT_TOKENS / 1000}k-token sequence is saved: 3 streams of 128 tokens, a 4th request takes the slot holding it (--parallel 4)`,
      hearthModels: a => ["--model", a, "--prompt-cache-dir", cacheDir],
      overrides: { hearth: ["--parallel", "4", "--stream-interval", "0"], llamaServer: ["-np", "4"] },
      async run(server) {
        const seed = Math.floor(Math.random() * 1e6);
        const OUT_STREAM = 128;
        // Each prompt starts with its own word, so no stream shares a first token with the long sequence's slot.
        const long = `Archive. ${await promptOfTokens(server, AGENT_PROMPT_TOKENS, seed)}`;
        await streamCompletion(server.url, ids.a, long, 1);
        const t0 = performance.now();
        const streams = [1, 2, 3].map(async i => streamCompletion(server.url, ids.a, `Question ${i}. ${await promptOfTokens(server, 64, seed + i)}`, OUT_STREAM));
        // Once the streams are decoding, the fourth request arrives.
        await Bun.sleep(300);
        const interrupt = streamCompletion(server.url, ids.a, `Interrupt. ${await promptOfTokens(server, 64, seed + 9)}`, 4);
        const done = await Promise.all(streams);
        const fourth = await interrupt;
        const gaps = done.flatMap(r => r.arrivals.slice(1).map((t, k) => t - r.arrivals[k]!));
        const p50 = pct(gaps, 50);
        return {
          results: [...done.map(r => asResult(r, OUT_STREAM)), asResult(fourth, 4)],
          wallMs: performance.now() - t0,
          extra: { tbt_p50_ms: p50, tbt_p99_ms: pct(gaps, 99), tbt_max_ms: Math.max(...gaps), tbt_max_over_p50: Math.max(...gaps) / p50 },
        };
      },
    },
    {
      name: `agent session after a restart: ~${AGENT_PROMPT_TOKENS / 1000}k-token prompt, turn 1 cold, restart, turn 2 = the conversation + 1 message, ${OUT} out`,
      hearthModels: a => ["--model", a, "--prompt-cache-dir", cacheDir],
      async run(server, restart) {
        const seed = Math.floor(Math.random() * 1e6);
        const history = await conversation(server, promptOfTokens, seed);
        const t0 = performance.now();
        const turn1 = await streamChat(server.url, ids.a, history, OUT);
        const restarted = await restart();
        history.push({ role: "assistant", content: turn1.text }, { role: "user", content: await promptOfTokens(restarted, 64, seed + 9) });
        const turn2 = await streamChat(restarted.url, ids.a, history, OUT);
        return {
          results: [turn1, turn2],
          wallMs: performance.now() - t0,
          extra: { turn1_ttft_ms: turn1.ttftMs, turn2_ttft_ms: turn2.ttftMs, turn2_over_turn1: turn2.ttftMs / turn1.ttftMs },
        };
      },
    },
    {
      name: `model swap under --max-loaded 1: two agents (~${AGENT_PROMPT_TOKENS / 1000}k-token prompts) on two models taking turns, turn 2 of each after the other's, ${OUT} out`,
      hearthModels: (a, b) => ["--model", a, "--model", b, "--max-loaded", "1", "--prompt-cache-dir", cacheDir],
      async run(server, restart) {
        const seed = Math.floor(Math.random() * 1e6);
        const histories = { a: await conversation(server, promptOfTokens, seed), b: await conversation(server, promptOfTokens, seed + 50) };
        const t0 = performance.now();
        // Before each turn the model is loaded, untimed: Hearth loads it (/models/load; the other
        // model is unloaded and its slot saved), llama-server, which serves one model, restarts
        // with it, as a user of it would have to.
        let current = server;
        const turn = async (m: "a" | "b") => {
          current = await restart(m);
          const r = await streamChat(current.url, ids[m], histories[m], OUT);
          histories[m].push({ role: "assistant", content: r.text }, { role: "user", content: await promptOfTokens(current, 64, seed + (m === "a" ? 7 : 8)) });
          return r;
        };
        const a1 = await turn("a");
        const b1 = await turn("b");
        const a2 = await turn("a");
        const b2 = await turn("b");
        const cold = (a1.ttftMs + b1.ttftMs) / 2;
        const warm = (a2.ttftMs + b2.ttftMs) / 2;
        return {
          results: [a1, b1, a2, b2],
          wallMs: performance.now() - t0,
          extra: { turn1_ttft_ms: cold, turn2_ttft_ms: warm, turn2_over_turn1: warm / cold },
        };
      },
    },
  ];
}
