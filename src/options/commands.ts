// The subcommands whose flags come from a table: what each is for, its usage line, its table.
// `hearth import` parses its own few flags (src/import/command.ts).
import { parseOptions, UsageError } from "./parse.ts";
import { commandHelp } from "./help.ts";
import type { OptionSpec, OptionTable, OptionValues } from "./option.ts";
import { SERVE_OPTIONS } from "./serve.ts";

export interface Command<T extends OptionTable = OptionTable> {
  /** Prefix of its error messages: "hearth", "hearth worker". */
  prefix: string;
  usage: string;
  summary: string;
  options: T;
  positionals?: boolean;
  /** One-line recipes shown in --help between the summary and the flags. */
  examples?: readonly string[];
}

export const SERVE: Command<typeof SERVE_OPTIONS> = {
  prefix: "hearth",
  usage: "hearth serve [options]",
  summary: "Serve the models over HTTP: OpenAI-compatible and Anthropic APIs, chat page, one runner process per loaded model.",
  options: SERVE_OPTIONS,
  examples: [
    "hearth serve -m ~/models/qwen2.5-7b-instruct-q4_0.gguf --parallel 8",
    "Claude Code: hearth serve -m qwen3-coder.gguf -c 65536 --alias 'claude-*=qwen3-coder', then",
    "  ANTHROPIC_BASE_URL=http://127.0.0.1:8080 ANTHROPIC_AUTH_TOKEN=x claude   (docs/anthropic.md)",
  ],
};

export const WORKER = {
  prefix: "hearth worker",
  usage: "hearth worker [options]",
  summary: "An RPC worker (llama.cpp's ggml-rpc-server) that holds layers of a model served elsewhere with --rpc.",
  options: {
    host: { kind: "string", short: ["H"], arg: "HOST", default: "127.0.0.1", help: "address to bind; any other than loopback gets a warning: RPC has no authentication" },
    port: { kind: "int", short: ["p"], arg: "PORT", min: 1, max: 65535, default: 50052, help: "port" },
    threads: { kind: "int", short: ["t"], arg: "N", min: 1, defaultText: "llama.cpp's", help: "CPU threads" },
    cache: { kind: "bool", help: "keep received tensors in a local file cache (ggml-rpc-server --cache)" },
  } as const satisfies Record<string, OptionSpec>,
};

export const PULL = {
  prefix: "hearth pull",
  usage: "hearth pull [options] SOURCE",
  summary: "Download a GGUF: OWNER/REPO/FILE.gguf[@rev] or OWNER/REPO:QUANT from Hugging Face, or a URL (HF_TOKEN honoured).",
  options: {
    sha256: { kind: "string", arg: "HEX", help: "the file's expected SHA-256 (else the Hub's when it gives one)" },
    "hf-endpoint": SERVE_OPTIONS["hf-endpoint"],
    dir: { kind: "string", arg: "DIR", defaultText: "$HEARTH_HOME/models", help: "where the file goes" },
  } as const satisfies Record<string, OptionSpec>,
  positionals: true,
};

export const LIST = {
  prefix: "hearth list",
  usage: "hearth list [options]",
  summary: "The local models: family, size, quantization, context.",
  options: { "models-dir": { ...SERVE_OPTIONS["models-dir"], defaultText: "./models and $HEARTH_HOME/models" } },
};

export const PS = {
  prefix: "hearth ps",
  usage: "hearth ps [options]",
  summary: "The models a running server has loaded, and their busy slots (HEARTH_API_KEY sent when set).",
  options: {
    url: { kind: "string", arg: "URL", default: "http://127.0.0.1:8080", help: "the server" },
  } as const satisfies Record<string, OptionSpec>,
};

/** Parses a command's arguments; --help prints its help and exits 0, a bad flag exits 2 with a message. */
export function parseCommand<T extends OptionTable>(command: Command<T>, argv: readonly string[]): { values: OptionValues<T>; positionals: string[] } {
  try {
    const parsed = parseOptions(command.options, argv, { positionals: command.positionals });
    if (parsed.help) {
      process.stdout.write(commandHelp(command.usage, command.summary, command.options, command.examples));
      process.exit(0);
    }
    return parsed;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${command.prefix}: ${err.message}`);
    process.exit(2);
  }
}
