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
  /** Hearth's flags beyond the common ones (the models included), and llama-server's model for "a" and "b". */
  hearthModels: (a: string, b: string) => string[];
  run(server: Running, restart: Restart): Promise<{ results: StreamResult[]; wallMs: number; extra?: Record<string, number> }>;
}

export const AGENT_PROMPT_TOKENS = 12_000;

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
