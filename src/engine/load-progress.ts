// The runner's stderr, read by the supervisor: load-progress lines from the native loader
// ("\x1ehearth-load <permille>") become a progress bar on a terminal; every other line is passed
// through unchanged.
const MARK = "\x1ehearth-load ";

export function relayRunnerStderr(
  stream: ReadableStream<Uint8Array>,
  label: string,
  out: NodeJS.WriteStream = process.stderr,
  /** Sees every passed-through line (the supervisor keeps the last ones to explain a crash). */
  onLine?: (line: string) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  let pending = "";
  let drawn = false;
  const show = (permille: number) => {
    if (!out.isTTY) return; // not a terminal: the supervisor logs one line when loading ends
    const bar = "#".repeat(Math.round(permille / 1000 * 30)).padEnd(30, "-");
    out.write(`\rloading ${label} [${bar}] ${Math.floor(permille / 10)}%${permille >= 1000 ? "\n" : ""}`);
    drawn = permille < 1000;
  };
  return (async () => {
    for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
      pending += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line.startsWith(MARK)) show(Number(line.slice(MARK.length)));
        else {
          if (drawn) out.write("\n");
          drawn = false;
          out.write(`${line}\n`);
          onLine?.(line);
        }
      }
    }
    if (pending) out.write(pending);
  })().catch(() => {});
}
