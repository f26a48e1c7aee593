// Pairing a model with the projector beside it, by the projector's own metadata: an mmproj*.gguf
// whose clip.vision.projection_dim is the model's embedding width (a projector for another model
// is passed over), one named after the model preferred; projector files are not listed as models.
import { expect, test } from "bun:test";
import { mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { discoverModels } from "../../src/models/discover.ts";
import { findProjector } from "../../src/models/projector-pairing.ts";
import { visionModelDir } from "../helpers/vision-models.ts";

/** A tensor-less GGUF v3 whose metadata says it is a vision projector into `width`. */
function projectorHeader(width: number): Uint8Array {
  const parts: Buffer[] = [];
  const u32 = (n: number) => Buffer.from(new Uint32Array([n]).buffer);
  const u64 = (n: number) => Buffer.from(new BigUint64Array([BigInt(n)]).buffer);
  const str = (s: string) => Buffer.concat([u64(Buffer.byteLength(s)), Buffer.from(s)]);
  const kv: Array<[string, number, Buffer]> = [
    ["general.architecture", 8, str("clip")],
    ["clip.has_vision_encoder", 7, Buffer.from([1])],
    ["clip.vision.projection_dim", 4, u32(width)],
  ];
  parts.push(Buffer.from("GGUF"), u32(3), u64(0), u64(kv.length));
  for (const [key, type, value] of kv) parts.push(str(key), u32(type), value);
  return Buffer.concat(parts);
}

test("the projector whose width matches the model's, preferring one named after it; none listed as a model", async () => {
  const model = join(await visionModelDir("gemma3"), "model.gguf"); // qwen2, embedding width 64
  const dir = mkdtempSync(join(tmpdir(), "hearth-pairing-"));
  symlinkSync(model, join(dir, "tiny-vl.gguf"));
  expect(await findProjector(join(dir, "tiny-vl.gguf"))).toBeNull();

  writeFileSync(join(dir, "mmproj-other-f16.gguf"), projectorHeader(2048)); // another model's
  expect(await findProjector(join(dir, "tiny-vl.gguf"))).toBeNull();

  writeFileSync(join(dir, "mmproj-a-f16.gguf"), projectorHeader(64));
  expect(await findProjector(join(dir, "tiny-vl.gguf"))).toBe(join(dir, "mmproj-a-f16.gguf"));
  writeFileSync(join(dir, "tiny-vl-mmproj-f16.gguf"), projectorHeader(64));
  expect(await findProjector(join(dir, "tiny-vl.gguf"))).toBe(join(dir, "tiny-vl-mmproj-f16.gguf"));

  expect(discoverModels([], [dir]).map(m => m.id)).toEqual(["tiny-vl"]);
});
