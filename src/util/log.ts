// The one logger, on stderr. Level "info" by default (--verbose: debug, incl. llama.cpp's own
// lines). `--log-format json` writes one JSON object per line for log collectors; "pretty" writes
// `time level message key=value…` for people.
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFormat = "pretty" | "json";
export type LogFields = Record<string, string | number | boolean | null | undefined>;

const rank: Record<LogLevel, number> = { debug: 1, info: 2, warn: 3, error: 4 };

let minimum: LogLevel = (process.env.HEARTH_LOG_LEVEL as LogLevel) in rank ? (process.env.HEARTH_LOG_LEVEL as LogLevel) : "info";
let format: LogFormat = process.env.HEARTH_LOG_FORMAT === "json" ? "json" : "pretty";

export function setLogLevel(level: LogLevel): void {
  minimum = level;
}

export function logLevel(): LogLevel {
  return minimum;
}

/** Also exported to HEARTH_LOG_FORMAT so that runner processes write the same format. */
export function setLogFormat(f: LogFormat): void {
  format = f;
  process.env.HEARTH_LOG_FORMAT = f;
}

export function log(level: LogLevel, message: string, fields: LogFields = {}): void {
  if (rank[level] < rank[minimum]) return;
  const time = new Date().toISOString();
  let line: string;
  if (format === "json") {
    line = JSON.stringify({ time, level, msg: message, ...fields });
  } else {
    const extra = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${typeof v === "string" && /[\s"=]/.test(v) ? JSON.stringify(v) : v}`)
      .join(" ");
    line = `${time} ${level.padEnd(5)} ${message}${extra ? " " + extra : ""}`;
  }
  process.stderr.write(line + "\n");
}
