// Rewrites the flag reference in docs/configuration.md from the option tables (src/options/).
//   bun scripts/gen-docs.ts          write it
//   bun scripts/gen-docs.ts --check  exit 1 when the file is out of date
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DOCS_FILE, withFlagsRegion } from "../src/options/docs.ts";

const path = join(import.meta.dir, "..", DOCS_FILE);
const text = readFileSync(path, "utf8");
const fresh = withFlagsRegion(text);
if (process.argv.includes("--check")) {
  if (fresh !== text) {
    console.error(`${DOCS_FILE} differs from the option tables: run bun scripts/gen-docs.ts`);
    process.exit(1);
  }
} else if (fresh !== text) {
  writeFileSync(path, fresh);
  console.log(`${DOCS_FILE}: flags rewritten`);
}
