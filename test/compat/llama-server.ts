// make compat: llama.cpp's own server tests (tools/server/tests/unit/, pinned source) for the
// surface llama-server's users rely on — completion, chat, security, tokenize, basic, ignore_eos,
// infill, rerank, embedding — in their external-server mode (DEBUG_EXTERNAL=1 PORT=…), run with
// Debian's /usr/bin/python3 against llama-server and against Hearth, each started here with the
// settings the file's fixture (ServerPreset in tests/utils.py) gives it. Every test that passes on
// llama-server must pass on Hearth, except those listed with their reason in
// llama-server-expected-differences.txt. Prints both servers' counts.
//
//   bun test/compat/llama-server.ts [FILE.py …]     (make compat installs the Python packages first)
//
// In external mode a test's own changes to the server (server.n_slots = 1, server.pooling = …) do
// not reach the server: both servers run with the preset's settings, so a test that needs other
// settings fails on both and does not count.
import { mkdirSync } from "node:fs";
import { basename, resolve } from "node:path";
import { defaultModel, repoRoot } from "../helpers/paths.ts";
import { startHearth, startLlamaServer } from "../helpers/server.ts";
import { fimModel, rerankerModel } from "../helpers/native-models.ts";
import { compatModel } from "./models.ts";
import { checkPython, compareOutcomes, readExpected, runPytest, withServer, type Result } from "./pytest-run.ts";

const EXPECTED_FILE = resolve(import.meta.dir, "llama-server-expected-differences.txt");
const LOG_DIR = resolve(repoRoot, "test/.cache/compat");
const THREADS = process.env.COMPAT_THREADS ?? "2";
const SLOT_DIR = resolve(LOG_DIR, "slots");
for (const dir of ["llama-server", "hearth"]) mkdirSync(resolve(SLOT_DIR, dir), { recursive: true });

/**
 * The presets of tests/utils.py and what stands for them here. The suite downloads its models from
 * Hugging Face; there is no network here, so each preset gets a local file of the same kind:
 *   tinyllama2      ggml-org/test-model-stories260K      → models/stories260K.gguf (the same model)
 *   infill          ggml-org/test-model-stories260K-infill → a random-weight Llama-shaped model on
 *                   StarCoder's vocabulary, its FIM tokens named in the GGUF (make-model.py --fim)
 *   bge-small       ggml-org/models bert-bge-small       → a random-weight BERT on the BGE vocabulary, mean pooling
 *   jina-reranker   ggml-org/models jina-reranker-v1-tiny-en → a random-weight BERT on the BGE vocabulary,
 *                   rank pooling with a classifier head (make-model.py --pooling rank)
 * Random weights cannot write "Daddy" or rank machine learning first: tests asserting a trained
 * model's words fail on both servers and do not count.
 *
 * Each preset's settings, as llama-server flags and as Hearth's. Hearth's -c is one KV cache shared
 * by the slots (llama-server gives each of -np slots c/np); Hearth's bare --alias names the one model.
 */
interface Preset {
  name: string;
  files: string[];
  model: () => Promise<string>;
  llamaServer: string[];
  hearth: string[];
}

const bertArgs = ["--vocab", "bert-bge", "--arch", "bert", "--n-embd", "64", "--n-layer", "2", "--n-head", "4", "--n-ff", "128",
  "--n-ctx", "512", "--type", "f32", "--template", "none"];

const tinyllama2 = {
  model: async () => defaultModel,
  // n_ctx 512, n_batch 32, n_slots 2, n_predict 64, seed 42, temperature 0.8 (ServerProcess default)
  llamaServer: ["-c", "512", "-b", "32", "-np", "2", "-n", "64", "--seed", "42", "--temp", "0.8", "--alias", "tinyllama-2"],
  hearth: ["-c", "512", "-b", "32", "-np", "2", "-n", "64", "--seed", "42", "--temp", "0.8", "--alias", "tinyllama-2"],
};

const PRESETS: Preset[] = [
  {
    name: "tinyllama2",
    files: ["test_completion.py", "test_chat_completion.py", "test_tokenize.py", "test_basic.py", "test_ignore_eos.py"],
    ...tinyllama2,
  },
  {
    // test_security.py's fixture adds server.api_key.
    name: "tinyllama2+api_key",
    files: ["test_security.py"],
    model: tinyllama2.model,
    llamaServer: [...tinyllama2.llamaServer, "--api-key", "sk-this-is-the-secret-key"],
    hearth: [...tinyllama2.hearth, "--api-key", "sk-this-is-the-secret-key"],
  },
  {
    // test_slot_save.py's fixture: tinyllama2 with slot_save_path (a temp folder) and temperature 0.
    // Its legacy-format test reads the file from pytest's own tmp_path, which an external server
    // never writes to: it fails on both. The multimodal tests need tinygemma3 (a download).
    name: "tinyllama2+slot_save_path",
    files: ["test_slot_save.py"],
    model: tinyllama2.model,
    llamaServer: [...tinyllama2.llamaServer, "--temp", "0", "--slot-save-path", `${SLOT_DIR}/llama-server/`],
    hearth: [...tinyllama2.hearth, "--temp", "0", "--slot-save-path", `${SLOT_DIR}/hearth`],
  },
  {
    name: "infill",
    files: ["test_infill.py"],
    model: fimModel,
    // n_ctx 2048, n_batch 1024, n_slots 1, n_predict 64, temperature 0, seed 42
    llamaServer: ["-c", "2048", "-b", "1024", "-np", "1", "-n", "64", "--temp", "0", "--seed", "42", "--alias", "tinyllama-infill"],
    hearth: ["-c", "2048", "-b", "1024", "-np", "1", "-n", "64", "--temp", "0", "--seed", "42", "--alias", "tinyllama-infill"],
  },
  {
    name: "bge-small",
    files: ["test_embedding.py"],
    model: () => compatModel("tiny-bge", [...bertArgs, "--pooling", "mean"]),
    // n_ctx 512, n_batch 128, n_ubatch 128, n_slots 2, embeddings on. Hearth serves a model that
    // declares pooling as an embedding model by itself; its batch is the model's context.
    llamaServer: ["-c", "512", "-b", "128", "-ub", "128", "-np", "2", "--seed", "42", "--embeddings", "--alias", "bert-bge-small"],
    hearth: ["-c", "512", "-np", "2", "--alias", "bert-bge-small"],
  },
  {
    name: "jina-reranker",
    files: ["test_rerank.py"],
    model: rerankerModel,
    // n_ctx 512, n_batch 512, n_slots 1, reranking on.
    llamaServer: ["-c", "512", "-b", "512", "-np", "1", "--seed", "42", "--reranking", "--alias", "jina-reranker"],
    hearth: ["-c", "512", "-np", "1", "--alias", "jina-reranker"],
  },
];

checkPython();
mkdirSync(LOG_DIR, { recursive: true });
const only = process.argv.slice(2);
const expected = readExpected(EXPECTED_FILE);
const t0 = performance.now();
let problems = 0;
const seen = new Set<string>();
const totals = { tests: 0, llama: 0, hearth: 0 };
const summary: string[] = [];
const passed = (r: Map<string, Result>) => [...r.values()].filter(x => x.outcome === "PASSED").length;

for (const preset of PRESETS) {
  const files = only.length ? preset.files.filter(f => only.includes(f)) : preset.files;
  if (files.length === 0) continue;
  const model = await preset.model();
  const threads = ["-t", THREADS];
  const run = (label: string) => ({ files, logStem: resolve(LOG_DIR, `llama-server-${preset.name}-${label}`) });
  const [llama, llamaTime] = await withServer(
    () => startLlamaServer(["-m", model, ...threads, ...preset.llamaServer]),
    s => runPytest(s, run("llama-server")),
  );
  const [hearth, hearthTime] = await withServer(
    () => startHearth(["--model", model, ...threads, ...preset.hearth], { HEARTH_LOG_LEVEL: "error" }),
    s => runPytest(s, run("hearth")),
  );
  summary.push(`${preset.name} (${files.join(", ")}): llama-server ${passed(llama)}/${llama.size} passed (${llamaTime}), Hearth ${passed(hearth)}/${hearth.size} passed (${hearthTime})`);
  totals.tests += llama.size;
  totals.llama += passed(llama);
  totals.hearth += passed(hearth);
  console.log(`\n== ${preset.name} (${basename(model)}): ${llama.size} tests`);
  problems += compareOutcomes(llama, hearth, expected, seen);
}

if (only.length === 0) {
  for (const name of expected.keys()) {
    if (!seen.has(name)) {
      console.log(`STALE   ${name}: listed in ${basename(EXPECTED_FILE)} but not run`);
      problems++;
    }
  }
}
console.log("");
for (const line of summary) console.log(line);
console.log(`llama-server passed ${totals.llama} of ${totals.tests} tests; Hearth passed ${totals.hearth}`);
console.log(`logs in ${LOG_DIR}; ${((performance.now() - t0) / 1000).toFixed(1)} s`);
if (problems) {
  console.log(`${problems} problem(s): a test that passes on llama-server fails on Hearth, or ${basename(EXPECTED_FILE)} is out of date`);
  process.exit(1);
}
console.log("compat: every test that passes on llama-server passes on Hearth, but for the listed differences");
