// make compat: llama.cpp's own Anthropic API tests (tools/server/tests/unit/test_compat_anthropic.py
// in the pinned source) in their external-server mode (DEBUG_EXTERNAL=1 PORT=…), run with Debian's
// /usr/bin/python3 against llama-server and against Hearth, each started here with the fixture's
// settings (-c 8192 -np 1 -b 2048). Every test that passes on llama-server must pass on Hearth,
// except those listed with their reason in anthropic-expected-differences.txt.
//
//   bun test/compat/anthropic.ts        (make compat installs the Python packages first)
//
// Not picked up by `bun test` (bunfig root ./test runs *.test.ts only).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import { defaultModel, repoRoot } from "../helpers/paths.ts";
import { type Running, startHearth, startLlamaServer } from "../helpers/server.ts";
import { compatModel, template, tinyQwenArgs } from "./models.ts";
import { checkPython, compareOutcomes, PYTHON, TESTS_DIR } from "./pytest-run.ts";

const TEST_FILE = "unit/test_compat_anthropic.py";
const EXPECTED_FILE = resolve(import.meta.dir, "anthropic-expected-differences.txt");
const LOG_DIR = resolve(repoRoot, "test/.cache/compat");
const THREADS = process.env.COMPAT_THREADS ?? "2";

// Not run on either server, and why.
const DESELECTED: Record<string, string> = {
  test_anthropic_vision_base64_with_multimodal_model:
    "downloads tinygemma3 and a test image from Hugging Face (no network here; a vision model)",
  "test_anthropic_thinking_with_reasoning_model[False]": "marked slow: downloads DeepSeek-R1-Distill-Qwen-7B",
  "test_anthropic_thinking_with_reasoning_model[True]": "marked slow: downloads DeepSeek-R1-Distill-Qwen-7B",
};

interface Group {
  name: string;
  /** pytest -k expression choosing the group's tests */
  select: string;
  model: () => Promise<string>;
}

const GROUPS: Group[] = [
  // The fixture's model: stories260K, no template (ChatML on both servers).
  { name: "stories260K", select: "not thinking_history", model: async () => defaultModel },
  // The two thinking-history tests give llama-server the Qwen3 template; here the template lives
  // in the model, a random-weight Qwen2-shaped one, so both servers read it the same way.
  {
    name: "qwen3-template",
    select: "thinking_history",
    model: () => compatModel("tiny-qwen3-template", tinyQwenArgs(template("Qwen-Qwen3-0.6B"), 8192)),
  },
];

type Outcome = "PASSED" | "FAILED" | "ERROR" | "SKIPPED" | "XFAIL" | "XPASS";
interface Result {
  outcome: Outcome;
  detail: string;
}

function readExpected(): Map<string, string> {
  const expected = new Map<string, string>();
  for (const line of readFileSync(EXPECTED_FILE, "utf8").split("\n")) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith("#")) continue;
    const [name, ...reason] = trimmed.split(/\s+/);
    expected.set(name!, reason.join(" "));
  }
  return expected;
}

const unescapeXml = (s: string) =>
  s.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n))).replace(/&quot;/g, '"').replace(/&apos;/g, "'")
    .replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

/** Outcome per test name from pytest's JUnit XML (one line of why for those that did not pass). */
function parseJunit(xml: string): Map<string, Result> {
  const results = new Map<string, Result>();
  for (const chunk of xml.split("<testcase ").slice(1)) {
    const name = /\bname="([^"]*)"/.exec(chunk)?.[1];
    if (!name) continue;
    const bad = /<(failure|error|skipped)\b[^>]*?message="([^"]*)"/.exec(chunk.split("</testcase>")[0]!);
    const outcome: Outcome = !bad ? "PASSED" : bad[1] === "failure" ? "FAILED" : bad[1] === "error" ? "ERROR" : "SKIPPED";
    const detail = bad ? unescapeXml(bad[2]!).split("\n")[0]!.slice(0, 240) : "";
    results.set(unescapeXml(name), { outcome, detail });
  }
  return results;
}

async function runPytest(server: Running, group: Group, label: string): Promise<Map<string, Result>> {
  const log = resolve(LOG_DIR, `anthropic-${group.name}-${label}.log`);
  const junit = resolve(LOG_DIR, `anthropic-${group.name}-${label}.xml`);
  const args = [PYTHON, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA", "--color=no", TEST_FILE,
    "-m", "not slow", "-k", group.select, `--junitxml=${junit}`];
  for (const name of Object.keys(DESELECTED)) args.push("--deselect", `${TEST_FILE}::${name}`);
  const env: Record<string, string> = { ...(process.env as Record<string, string>), DEBUG_EXTERNAL: "1", PORT: String(server.port), NO_PROXY: "127.0.0.1,localhost" };
  delete env.DEBUG;
  rmSync(junit, { force: true });
  const run = Bun.spawn(args, { cwd: TESTS_DIR, env, stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(run.stdout).text(), new Response(run.stderr).text()]);
  await run.exited;
  writeFileSync(log, out + err);
  const results = existsSync(junit) ? parseJunit(readFileSync(junit, "utf8")) : new Map<string, Result>();
  if (results.size === 0) throw new Error(`pytest ran no tests against ${label} (exit ${run.exitCode}); see ${log}`);
  return results;
}

/** Starts a server, runs `body` against it, stops it; `body`'s value and the seconds it all took. */
async function withServer<T>(start: () => Promise<Running>, body: (s: Running) => Promise<T>): Promise<[T, string]> {
  const t = performance.now();
  const server = await start();
  try {
    return [await body(server), `${((performance.now() - t) / 1000).toFixed(1)} s`];
  } finally {
    await server.stop();
  }
}

checkPython();
mkdirSync(LOG_DIR, { recursive: true });
const expected = readExpected();
const t0 = performance.now();
const fixture = ["-c", "8192", "-np", "1", "-b", "2048", "-t", THREADS];
let problems = 0;
const seen = new Set<string>();
const summary: string[] = [];

for (const group of GROUPS) {
  const model = await group.model();
  const id = basename(model, ".gguf");
  // llama-server as the fixture starts it (temp 0.8, seed 42, its alias, no /slots), jinja on
  // because several tests ask for it and one server runs them all.
  const [llama, llamaTime] = await withServer(
    () => startLlamaServer(["-m", model, ...fixture, "--temp", "0.8", "--seed", "42", "--alias", "tinyllama-2-anthropic", "--no-slots", "--jinja"]),
    s => runPytest(s, group, "llama-server"),
  );
  // The tests send "model": "test": a * alias routes it (and any other name) to the model.
  const [hearth, hearthTime] = await withServer(
    () => startHearth(["--model", model, ...fixture, "--alias", `*=${id}`], { HEARTH_LOG_LEVEL: "error" }),
    s => runPytest(s, group, "hearth"),
  );

  const count = (r: Map<string, Result>) => [...r.values()].filter(x => x.outcome === "PASSED").length;
  summary.push(`${group.name}: llama-server ${count(llama)}/${llama.size} passed (${llamaTime}), Hearth ${count(hearth)}/${hearth.size} passed (${hearthTime})`);
  console.log(`\n== ${group.name} (${basename(model)}): ${llama.size} tests`);
  problems += compareOutcomes(llama, hearth, expected, seen);
}

for (const name of expected.keys()) {
  if (!seen.has(name)) {
    console.log(`STALE   ${name}: listed in ${basename(EXPECTED_FILE)} but not run`);
    problems++;
  }
}
console.log(`\nnot run: ${Object.entries(DESELECTED).map(([n, why]) => `${n} (${why})`).join("; ")}`);
for (const line of summary) console.log(line);
console.log(`logs in ${LOG_DIR}; ${((performance.now() - t0) / 1000).toFixed(1)} s`);
if (problems) {
  console.log(`${problems} problem(s): a test that passes on llama-server fails on Hearth, or ${basename(EXPECTED_FILE)} is out of date`);
  process.exit(1);
}
console.log("compat: every test that passes on llama-server passes on Hearth, but for the listed differences");
