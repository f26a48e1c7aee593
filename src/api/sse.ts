// Server-Sent Events written straight to the client's socket, with a bound on what a client that
// stops reading may hold. The transport under every streaming endpoint and dialect: it knows
// nothing of what the events mean.
import { ApiError, internalError } from "./errors.ts";
import type { RequestTrace } from "./request-trace.ts";
import { log } from "../util/log.ts";

/**
 * A Server-Sent Events response whose body is produced by `produce`, written straight to the socket
 * (Bun's "direct" stream, the only kind that reports backpressure). A client that stops reading
 * may hold `maxBufferedBytes` beyond the kernel's buffers; past that its request is cancelled, so
 * one stalled reader cannot grow the server's memory. Other streams never wait on it.
 */
export function sseResponse(
  produce: (send: (data: unknown, event?: string) => void) => Promise<void>,
  onCancel: () => void,
  maxBufferedBytes: number,
  trace?: RequestTrace,
  /** How an error after the first byte is sent, as [event name or undefined, data] (default: OpenAI's data-only event). */
  errorEvent: (e: ApiError) => [string | undefined, unknown] = openaiErrorEvent,
  /** Another framing over the same transport (Ollama's NDJSON: one JSON object a line). */
  framing: StreamFraming = SSE_FRAMING,
): Response {
  const source: Bun.DirectUnderlyingSource = {
    type: "direct",
    async pull(controller) {
      let buffered = 0;
      let gone = false;
      const send = (data: unknown, event?: string) => {
        if (gone) return;
        const payload = typeof data === "string" ? data : JSON.stringify(data);
        // The frame goes to the socket as a string: Bun encodes it into its own buffer, with no
        // Uint8Array made per event (one per token on a stream).
        const frame = framing.frame(payload, event);
        const written = controller.write(frame);
        if (written === 0) {
          gone = true; // the client disconnected
          onCancel();
        } else if (written instanceof Promise) {
          buffered += Buffer.byteLength(frame);
          // It resolves once everything written so far has drained.
          void written.then(() => (buffered = 0), () => {});
          if (buffered > maxBufferedBytes) {
            gone = true;
            log("warn", "client is not reading its stream: cancelled", { id: trace?.id, buffered_bytes: buffered });
            if (trace) trace.error = "client not reading";
            onCancel();
          }
        }
      };
      let status = 200;
      try {
        await produce(send);
      } catch (err) {
        // After the first byte an error can only be an event, then the end.
        const e = err instanceof ApiError ? err : internalError("internal error while streaming");
        if (!(err instanceof ApiError)) log("error", `stream failed: ${(err as Error)?.stack ?? String(err)}`, { id: trace?.id });
        status = e.status;
        if (trace) trace.error ??= e.message;
        const [event, data] = errorEvent(e);
        send(data, event);
      }
      trace?.end(status);
      try {
        controller.close();
      } catch {
        /* the client is gone */
      }
    },
    cancel() {
      onCancel();
    },
  };
  // lib.dom's ReadableStream constructor hides bun-types' overload for direct sources.
  return new Response(new ReadableStream(source as unknown as UnderlyingDefaultSource<Uint8Array>), {
    headers: { "content-type": framing.contentType, "cache-control": "no-cache", connection: "keep-alive", "x-accel-buffering": "no" },
  });
}

/** How each event is written: its content type, and one event's bytes as text. */
export interface StreamFraming {
  contentType: string;
  frame: (payload: string, event?: string) => string;
}

const SSE_FRAMING: StreamFraming = { contentType: "text/event-stream", frame: (payload, event) => `${event ? `event: ${event}\n` : ""}data: ${payload}\n\n` };

/** OpenAI's error event: `data: {"error":{…}}` with the envelope's four keys. */
function openaiErrorEvent(e: ApiError): [undefined, unknown] {
  return [undefined, { error: { message: e.message, type: e.type, param: e.param, code: e.code } }];
}
