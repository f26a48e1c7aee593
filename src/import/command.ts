// `hearth import SRC [--out FILE] [--quant Q] [--threads N]`: argument parsing and progress output
// (a bar on a terminal, one line per stage otherwise).
import { mkdirSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { QuantType } from "../llama/index.ts";
import { ImportError } from "./errors.ts";
import { DEFAULT_QUANT, importCheckpoint, QUANT_TYPES, type Stage } from "./import.ts";

const STAGE_TEXT: Record<Stage, string> = {
  read: "reading config and weights",
  tokenizer: "reading the tokenizer",
  write: "writing tensors",
  quantize: "quantizing",
  done: "done",
};

function reporter(): (stage: Stage, done?: number, total?: number) => void {
  const tty = process.stderr.isTTY;
  let last: Stage | undefined;
  return (stage, done, total) => {
    if (tty && stage === "write" && total) {
      const width = 30;
      const fill = Math.round((width * (done ?? 0)) / total);
      process.stderr.write(`\r${STAGE_TEXT.write} [${"#".repeat(fill)}${" ".repeat(width - fill)}] ${done}/${total}`);
      if (done === total) process.stderr.write("\n");
      last = stage;
      return;
    }
    if (stage === last) return;
    last = stage;
    process.stderr.write(`hearth import: ${STAGE_TEXT[stage]}${stage === "write" && total ? ` (${total} tensors)` : ""}\n`);
  };
}

export async function importCommand(argv: string[], home: string): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { out: { type: "string", short: "o" }, quant: { type: "string", short: "q" }, threads: { type: "string", short: "t" } },
  });
  if (positionals.length !== 1) {
    console.error("hearth import: give one Hugging Face model folder");
    process.exit(2);
  }
  const quant = (values.quant ?? DEFAULT_QUANT) as QuantType;
  if (!(QUANT_TYPES as readonly string[]).includes(quant)) {
    console.error(`hearth import: --quant must be one of ${QUANT_TYPES.join(", ")}, got '${values.quant}'`);
    process.exit(2);
  }
  const src = resolve(positionals[0]!);
  const out = resolve(values.out ?? join(home, "models", `${basename(src)}-${quant}.gguf`));
  mkdirSync(dirname(out), { recursive: true });
  try {
    const r = importCheckpoint({ src, out, quant, threads: values.threads ? Number(values.threads) : 0, onProgress: reporter() });
    console.log(r.path);
  } catch (err) {
    if (!(err instanceof ImportError) && (err as Error).name !== "QuantizeError") throw err;
    console.error(`hearth import: ${(err as Error).message}`);
    process.exit(1);
  }
}
