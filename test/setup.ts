// Preloaded by bun test (bunfig.toml): tests that start servers and reference binaries need
// more than the default 5 s on a 2-core machine.
import { setDefaultTimeout } from "bun:test";

setDefaultTimeout(120_000);
