// The one logger. Quiet by default (warnings and errors); --verbose shows info and debug,
// including llama.cpp's own lines routed from the native layer.
export type LogLevel = "debug" | "info" | "warn" | "error";
const rank: Record<LogLevel, number> = { debug: 1, info: 2, warn: 3, error: 4 };

let minimum: LogLevel = (process.env.HEARTH_LOG_LEVEL as LogLevel) in rank ? (process.env.HEARTH_LOG_LEVEL as LogLevel) : "info";

export function setLogLevel(level: LogLevel): void {
  minimum = level;
}

export function logLevel(): LogLevel {
  return minimum;
}

export function log(level: LogLevel, message: string): void {
  if (rank[level] < rank[minimum]) return;
  const line = `${new Date().toISOString()} ${level.padEnd(5)} ${message}\n`;
  process.stderr.write(line);
}
