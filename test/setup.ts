// Preloaded by bun test (bunfig.toml): tests that start servers and reference binaries need
// more than the default 5 s on a 2-core machine.
import { setDefaultTimeout } from "bun:test";

setDefaultTimeout(120_000);

// Servers that tests start keep no prompt cache on disk unless a test passes --prompt-cache-*: one
// test's server must not restore what another's saved, nor write into ~/.hearth.
process.env.HEARTH_PROMPT_CACHE_SIZE ??= "0";
