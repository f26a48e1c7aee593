// Bounds a GBNF text must keep before llama.cpp parses it. llama.cpp's grammar parser and its
// left-recursion check recurse (per parenthesis level, per rule reference): a deep enough
// grammar overflows the stack and kills the runner, which no try/catch can stop.

/** Largest GBNF text accepted (JSON schemas of real APIs convert to a few KiB). */
export const MAX_GRAMMAR_BYTES = 256 * 1024;
/** Deepest parenthesis nesting accepted. */
export const MAX_GRAMMAR_NESTING = 256; // 50,000 levels crash here; 5,000 do not

/** Why the grammar is out of bounds, or null when it is within them. Syntax is llama.cpp's to judge. */
export function grammarLimitError(gbnf: string): string | null {
  if (Buffer.byteLength(gbnf, "utf8") > MAX_GRAMMAR_BYTES) return `the grammar is larger than ${MAX_GRAMMAR_BYTES} bytes`;
  let depth = 0;
  for (let i = 0; i < gbnf.length; i++) {
    const c = gbnf[i];
    if (c === "#") {
      while (i < gbnf.length && gbnf[i] !== "\n") i++;
    } else if (c === '"' || c === "[") {
      const close = c === '"' ? '"' : "]";
      for (i++; i < gbnf.length && gbnf[i] !== close; i++) if (gbnf[i] === "\\") i++;
    } else if (c === "(") {
      if (++depth > MAX_GRAMMAR_NESTING) return `the grammar nests parentheses deeper than ${MAX_GRAMMAR_NESTING} levels`;
    } else if (c === ")") {
      depth = Math.max(0, depth - 1);
    }
  }
  return null;
}
