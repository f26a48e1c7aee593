// Running llama.cpp's server pytest suite (tools/server/tests, pinned source) in its external-server
// mode (DEBUG_EXTERNAL=1 PORT=…) against a server we started, and comparing two servers' outcomes.
// Used by test/compat/llama-server.ts and test/compat/anthropic.ts.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { llamaSrc } from "../helpers/paths.ts";
import type { Running } from "../helpers/server.ts";

export const PYTHON = "/usr/bin/python3";
export const TESTS_DIR = resolve(llamaSrc, "tools/server/tests");
const STUBS = resolve(import.meta.dir, "python-stubs");

export type Outcome = "PASSED" | "FAILED" | "ERROR" | "SKIPPED";
export interface Result {
  outcome: Outcome;
  detail: string;
}

/** Exits with a hint when Debian's Python lacks the suite's modules (`make compat-python` installs them). */
export function checkPython(): void {
  const probe = Bun.spawnSync([PYTHON, "-c", "import pytest, requests, aiohttp, filelock, wget"], { stderr: "pipe" });
  if (!probe.success) {
    console.error(`${PYTHON} lacks the test suite's modules (${probe.stderr.toString().trim().split("\n").at(-1)}).`);
    console.error("`make compat` installs them: python3-pytest python3-requests python3-aiohttp python3-filelock python3-wget");
    process.exit(2);
  }
}

/** `name  reason…` lines, the two separated by two spaces (test names hold single spaces); # comments and blank lines skipped. */
export function readExpected(file: string): Map<string, string> {
  const expected = new Map<string, string>();
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith("#")) continue;
    const at = trimmed.search(/\s{2,}/);
    if (at < 0) throw new Error(`${file}: no reason after the test name (two spaces apart): ${trimmed}`);
    expected.set(trimmed.slice(0, at), trimmed.slice(at).trim());
  }
  return expected;
}

const unescapeXml = (s: string) =>
  s.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n))).replace(/&quot;/g, '"').replace(/&apos;/g, "'")
    .replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

/** Outcome per `file::test` from pytest's JUnit XML (one line of why for those that did not pass). */
export function parseJunit(xml: string): Map<string, Result> {
  const results = new Map<string, Result>();
  for (const chunk of xml.split("<testcase ").slice(1)) {
    const name = /\bname="([^"]*)"/.exec(chunk)?.[1];
    const cls = /\bclassname="([^"]*)"/.exec(chunk)?.[1] ?? "";
    if (!name) continue;
    const bad = /<(failure|error|skipped)\b[^>]*?message="([^"]*)"/.exec(chunk.split("</testcase>")[0]!);
    const outcome: Outcome = !bad ? "PASSED" : bad[1] === "failure" ? "FAILED" : bad[1] === "error" ? "ERROR" : "SKIPPED";
    const detail = bad ? unescapeXml(bad[2]!).split("\n")[0]!.slice(0, 240) : "";
    const file = cls.replace(/^unit\./, "");
    results.set(`${file}::${unescapeXml(name)}`, { outcome, detail });
  }
  return results;
}

export interface PytestRun {
  /** Test files under tools/server/tests/unit. */
  files: string[];
  /** `file.py::test_name[params]` not to run at all. */
  deselect?: string[];
  /** Where the log and JUnit XML go, without extension. */
  logStem: string;
}

/** Runs the files against `server`; outcome per `file::test`. */
export async function runPytest(server: Running, run: PytestRun): Promise<Map<string, Result>> {
  const log = `${run.logStem}.log`;
  const junit = `${run.logStem}.xml`;
  const args = [PYTHON, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA", "--color=no", "-m", "not slow", `--junitxml=${junit}`,
    ...run.files.map(f => `unit/${f}`)];
  for (const name of run.deselect ?? []) args.push("--deselect", `unit/${name}`);
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    DEBUG_EXTERNAL: "1",
    PORT: String(server.port),
    NO_PROXY: "127.0.0.1,localhost",
    // The openai package's stand-in (see python-stubs/openai): its files load, its client tests fail on both servers.
    PYTHONPATH: STUBS,
  };
  delete env.DEBUG;
  rmSync(junit, { force: true });
  const proc = Bun.spawn(args, { cwd: TESTS_DIR, env, stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  await proc.exited;
  writeFileSync(log, out + err);
  const results = existsSync(junit) ? parseJunit(readFileSync(junit, "utf8")) : new Map<string, Result>();
  if (results.size === 0) throw new Error(`pytest ran no tests (exit ${proc.exitCode}); see ${log}`);
  return results;
}

/** Starts a server, runs `body` against it, stops it; `body`'s value and the seconds it all took. */
export async function withServer<T>(start: () => Promise<Running>, body: (s: Running) => Promise<T>): Promise<[T, string]> {
  const t = performance.now();
  const server = await start();
  try {
    return [await body(server), `${((performance.now() - t) / 1000).toFixed(1)} s`];
  } finally {
    await server.stop();
  }
}

/**
 * Prints one line per test comparing the two servers' outcomes and returns the problems: a test
 * that passes on llama-server but not on Hearth and is not listed, or a listed difference that
 * no longer differs. Every name is added to `seen` (so listed names that never ran can be found).
 */
export function compareOutcomes(
  llama: ReadonlyMap<string, { outcome: string; detail: string }>,
  hearth: ReadonlyMap<string, { outcome: string; detail: string }>,
  expected: ReadonlyMap<string, string>,
  seen: Set<string>,
): number {
  let problems = 0;
  for (const name of new Set([...llama.keys(), ...hearth.keys()])) {
    seen.add(name);
    const l = llama.get(name);
    const h = hearth.get(name);
    const lPass = l?.outcome === "PASSED";
    const hPass = h?.outcome === "PASSED";
    const why = expected.get(name);
    let line: string;
    if (lPass && hPass) {
      line = why ? `STALE   ${name}: listed as expected to differ, but passes on both` : `ok      ${name}`;
      if (why) problems++;
    } else if (lPass && why) {
      line = `differs ${name} (expected): ${why}`;
    } else if (lPass) {
      line = `FAIL    ${name}: passes on llama-server, ${h?.outcome ?? "missing"} on Hearth: ${h?.detail ?? ""}`;
      problems++;
    } else if (why) {
      line = `STALE   ${name}: listed as expected to differ, but llama-server ${l?.outcome ?? "did not run it"}`;
      problems++;
    } else if (hPass) {
      line = `hearth+ ${name}: passes on Hearth only (llama-server: ${l?.detail || l?.outcome})`;
    } else {
      line = `both ✗  ${name}: llama-server: ${l?.detail || l?.outcome}; Hearth: ${h?.detail || h?.outcome}`;
    }
    console.log(line);
  }
  return problems;
}
