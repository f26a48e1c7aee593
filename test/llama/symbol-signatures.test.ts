// Every libllama function the binding declares takes exactly the parameters llama.h (and our
// shim's source) declares. A missing argument is no FFI error: the callee reads a stray register
// (seen: llama_sampler_init_penalties lost n_vocab and read a garbage ring-buffer size).
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { llamaSymbols, shimSymbols } from "../../src/llama/symbols.ts";
import { llamaSrc, repoRoot } from "../helpers/paths.ts";

/** Parameter count of each function declared in a C source or header. */
function declaredArity(source: string): Map<string, number> {
  const text = source.replace(/\/\/[^\n]*/g, "").replace(/\/\*[\s\S]*?\*\//g, "");
  const arity = new Map<string, number>();
  for (const m of text.matchAll(/\b(\w+)\s*\(([^;{}()]*)\)\s*[;{]/g)) {
    const params = m[2]!.trim();
    arity.set(m[1]!, params === "" || params === "void" ? 0 : params.split(",").length);
  }
  return arity;
}

test("libllama symbols match llama.h", () => {
  const header = declaredArity(readFileSync(resolve(llamaSrc, "include/llama.h"), "utf8"));
  const wrong = Object.entries(llamaSymbols)
    .filter(([name, def]) => header.get(name) !== def.args.length)
    .map(([name, def]) => `${name}: binding ${def.args.length}, llama.h ${header.get(name) ?? "not found"}`);
  expect(wrong).toEqual([]);
});

test("shim symbols match hearth_shim.c and hearth_grammar.h", () => {
  const sources = ["lib/shim/hearth_shim.c", "lib/shim/hearth_grammar.h"].map(f => readFileSync(resolve(repoRoot, f), "utf8"));
  const shim = declaredArity(sources.join("\n"));
  const wrong = Object.entries(shimSymbols)
    .filter(([name, def]) => shim.get(name) !== def.args.length)
    .map(([name, def]) => `${name}: binding ${def.args.length}, shim ${shim.get(name) ?? "not found"}`);
  expect(wrong).toEqual([]);
});
