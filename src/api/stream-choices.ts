// OpenAI's streaming shape over SSE: one chunk header for a response's chunks, each choice's
// pieces as they come, the last with finish_reason, an optional usage chunk, then [DONE]. Chat
// and text completions differ only in their pieces (answer deltas or text) and StreamShape.
import type { Timings, TokenLogprob, Usage } from "../engine/types.ts";
import { sumUsage, timedOut, timeoutError, timingsJson, type ChunkHeader, type GenerationContext } from "./generation.ts";
import { sseResponse } from "./sse.ts";

/** What the framing needs of a piece: its choice, and on the choice's last piece its usage. */
export interface Piece {
  index: number;
  logprobs?: TokenLogprob[];
  done?: { usage: Usage; timings: Timings };
}

/** How an endpoint writes its pieces as choice objects. */
export interface StreamShape<P extends Piece> {
  /** Sent for each choice before any piece (chat's role delta, completions' echo), or null. */
  opening(index: number): object | null;
  /** The choice objects of one piece (on the last one, with its finish_reason); each makes a chunk. */
  piece(piece: P): object | object[];
}

/**
 * Streams `choices` choices' pieces as one SSE response, OpenAI's way: one header for all chunks,
 * pieces as they come, an optional usage chunk, then [DONE]. Ending early (the client left)
 * returns `pieces`, which ends the generations.
 */
export function streamChoices<P extends Piece>(
  pieces: AsyncIterable<P>,
  choices: number,
  ctx: GenerationContext,
  header: ChunkHeader,
  shape: StreamShape<P>,
  usage: { include: boolean; promptTokens: number },
): Response {
  // A chunk is the header's fields, then choices, then any extra fields: the header is
  // serialized once per response, not once per token.
  const head = JSON.stringify(header).slice(0, -1);
  const chunk = (objects: unknown[], extra?: object) => {
    const rest = extra ? JSON.stringify(extra).slice(1) : "}";
    return `${head},"choices":${JSON.stringify(objects)}${rest === "}" ? "" : ","}${rest}`;
  };
  const controller = new AbortController();
  ctx.signal.addEventListener("abort", () => controller.abort(), { once: true });
  ctx.trace.streaming = true;
  return sseResponse(async send => {
    for (let index = 0; index < choices; index++) {
      const opening = shape.opening(index);
      if (opening) send(chunk([opening]));
    }
    const usages: Usage[] = [];
    for await (const p of pieces) {
      if (controller.signal.aborted) break;
      const objects = [shape.piece(p)].flat();
      // The choice's timings travel on choice 0's last chunk.
      const timings = p.done && p.index === 0 ? { timings: timingsJson(p.done.timings) } : undefined;
      objects.forEach((c, i) => send(chunk([c], i === objects.length - 1 ? timings : undefined)));
      if (p.done) usages.push(p.done.usage);
    }
    // The timeout ends the stream with an error event; a client that left gets nothing more.
    if (timedOut(ctx.signal)) throw timeoutError();
    if (controller.signal.aborted) {
      ctx.trace.error ??= "client disconnected";
      return;
    }
    if (usage.include) send(chunk([], { usage: sumUsage(usages, usage.promptTokens) }));
    send("[DONE]");
  }, () => controller.abort(), ctx.maxStreamBufferBytes, ctx.trace);
}
