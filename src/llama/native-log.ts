// Routes llama.cpp's log output (buffered in C by the shim) into our logger.
import { log, logLevel, type LogLevel } from "../util/log.ts";
import { native } from "./library.ts";

const ggmlLevel: Record<LogLevel, number> = { debug: 1, info: 2, warn: 3, error: 4 };
const levelOfDigit: Record<string, LogLevel> = { "1": "debug", "2": "info", "3": "warn", "4": "error" };
const drainBuffer = new Uint8Array(1 << 16);
const decoder = new TextDecoder();
let pending = "";

/** Installs the C log callback; llama.cpp lines below our log level are dropped in C. */
export function initNativeLog(): void {
  // llama.cpp's info lines are chatty (hundreds per model load): only --verbose (debug) shows them.
  const level = logLevel() === "debug" ? ggmlLevel.debug : ggmlLevel.warn;
  native().shim.hearth_log_init(level);
}

/**
 * Moves buffered native log lines into our logger. Call after native work (load, decode errors).
 * Returns the error lines among them (llama.cpp's only account of why a call returned nothing).
 */
export function drainNativeLog(): string[] {
  const errors: string[] = [];
  const { shim } = native();
  for (;;) {
    const n = shim.hearth_log_drain(drainBuffer, drainBuffer.length);
    if (n <= 0) break;
    pending += decoder.decode(drainBuffer.subarray(0, n), { stream: true });
    if (n < drainBuffer.length) break;
  }
  // Records start with a level digit; a record may span several lines through CONT pieces.
  let newline: number;
  while ((newline = pending.indexOf("\n")) >= 0) {
    const record = pending.slice(0, newline);
    pending = pending.slice(newline + 1);
    const level = levelOfDigit[record[0] ?? ""];
    const text = level ? record.slice(1) : record;
    if (text.trim()) log(level ?? "info", `[llama.cpp] ${text}`);
    if (level === "error" && text.trim()) errors.push(text.trim());
  }
  return errors;
}
