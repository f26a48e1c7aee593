// A Hugging Face model folder: config.json plus weights in one of the layouts HF writes
// (model.safetensors, sharded *.safetensors with model.safetensors.index.json, pytorch_model.bin,
// sharded pytorch_model-*.bin with its index, or *.pt).
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ImportError } from "./errors.ts";
import { readSafetensors } from "./safetensors.ts";
import type { SourceTensor } from "./tensor-source.ts";
import { readTorchZip } from "./torch/torch-zip.ts";

export interface Checkpoint {
  dir: string;
  config: Record<string, unknown>;
  tensors: Map<string, SourceTensor>;
  /** The weight files, for hashing and messages. */
  files: string[];
}

function weightFiles(dir: string): string[] {
  const names = readdirSync(dir);
  for (const index of ["model.safetensors.index.json", "pytorch_model.bin.index.json"]) {
    if (!names.includes(index)) continue;
    let map: Record<string, string>;
    try {
      map = JSON.parse(readFileSync(join(dir, index), "utf8")).weight_map;
    } catch (err) {
      throw new ImportError(`${index}: not valid JSON (${(err as Error).message})`);
    }
    if (!map || typeof map !== "object") throw new ImportError(`${index}: no weight_map`);
    const files = [...new Set(Object.values(map))].sort();
    for (const f of files) {
      if (f.includes("/") || f.includes("\\") || !existsSync(join(dir, f))) throw new ImportError(`${index} names shard ${f}, which is not in ${dir}`);
    }
    return files;
  }
  const st = names.filter(n => n.endsWith(".safetensors")).sort();
  if (st.length) return st;
  const pt = names.filter(n => n === "pytorch_model.bin" || n.endsWith(".pt") || n.endsWith(".pth")).sort();
  if (pt.length) return pt;
  throw new ImportError(`${dir}: no weights (model.safetensors, *.safetensors, pytorch_model.bin or *.pt)`);
}

export function openCheckpoint(dir: string): Checkpoint {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ImportError(`${dir} is not a folder`);
  const cfgPath = join(dir, "config.json");
  if (!existsSync(cfgPath)) throw new ImportError(`${dir}: missing config.json (not a Hugging Face model folder?)`);
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(readFileSync(cfgPath, "utf8"));
  } catch (err) {
    throw new ImportError(`config.json: not valid JSON (${(err as Error).message})`);
  }
  const files = weightFiles(dir);
  const tensors = new Map<string, SourceTensor>();
  for (const f of files) {
    const list = f.endsWith(".safetensors") ? readSafetensors(join(dir, f)) : readTorchZip(join(dir, f));
    for (const t of list) {
      if (tensors.has(t.name)) throw new ImportError(`tensor ${t.name} appears in both ${tensors.get(t.name)!.file} and ${f}`);
      tensors.set(t.name, t);
    }
  }
  return { dir, config, tensors, files };
}
