// Image encoding in a conversation, Hearth against llama-server --mmproj (same source, same files,
// same threads, one slot): time to the first token of
//   new    — a question about an image neither has seen (encoder + decode),
//   resend — the next turn, resending the conversation (both reuse the KV through the image),
//   evicted — the first conversation again after another image's conversation took the only slot
//             (llama-server encodes the image again; Hearth decodes it from its encoder cache).
//
//   bun bench/vision.ts [--runs 3] [--threads N] [--size 448]
//
// The model: a random Qwen2.5-VL-shaped projector of 12 layers and width 512 (scripts/
// make-vision-model.py) on the tiny text model, so the encoder dominates; a 448×448 image is 256
// image tokens. Prints a Markdown table of medians (and the spread) and Hearth's encode counter.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { dataUrl, png } from "../test/helpers/images.ts";
import { modelCacheDir } from "../test/helpers/models.ts";
import { repoRoot } from "../test/helpers/paths.ts";
import { postJson, startHearth, startLlamaServer, type Running } from "../test/helpers/server.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    threads: { type: "string", default: String(navigator.hardwareConcurrency || 2) },
    size: { type: "string", default: "448" },
  },
});
const runs = Number(values.runs);
const side = Number(values.size);

const dir = resolve(modelCacheDir, "bench-vision-qwen2.5vl-512x12");
if (!existsSync(join(dir, "mmproj-model.gguf"))) {
  const args = ["--projector", "qwen2.5vl", "--vision-embd", "512", "--vision-layers", "12", "--vision-heads", "8", "--out", dir];
  const run = Bun.spawnSync(["python3", resolve(repoRoot, "scripts/make-vision-model.py"), ...args], { stdout: "inherit", stderr: "inherit" });
  if (!run.success) throw new Error("make-vision-model.py failed");
}

const image = (seed: number) => png(side, side, (x, y) => [(x * 3 + seed * 17) % 256, (y * 5 + seed * 29) % 256, ((x ^ y) + seed) % 256]);
const ask = (img: Uint8Array) => [{ role: "user", content: [{ type: "text", text: "Describe this picture." }, { type: "image_url", image_url: { url: dataUrl(img) } }] }];

async function ttft(server: Running, messages: unknown[]): Promise<number> {
  const t0 = performance.now();
  const res = await postJson(`${server.url}/v1/chat/completions`, { model: "model", messages, max_tokens: 1, temperature: 0 });
  if (res.status !== 200) throw new Error(`${res.status} ${await res.text()}`);
  await res.json();
  // Wall time of a one-token answer: both servers count image work differently in their timings.
  return performance.now() - t0;
}

async function measure(server: Running): Promise<Record<"new" | "resend" | "evicted", number[]>> {
  const out = { new: [] as number[], resend: [] as number[], evicted: [] as number[] };
  for (let r = 0; r < runs; r++) {
    const first = ask(image(r * 2 + 1));
    out.new.push(await ttft(server, first));
    out.resend.push(await ttft(server, [...first, { role: "assistant", content: "A picture." }, { role: "user", content: "More detail?" }]));
    await ttft(server, ask(image(r * 2 + 2)));
    out.evicted.push(await ttft(server, first));
  }
  return out;
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const common = ["-c", "4096", "-np", "1", "-t", values.threads!, "-b", "512"];
const results: Record<string, Record<string, number[]>> = {};
for (const name of ["hearth", "llama-server"] as const) {
  // One at a time: they would share the CPU otherwise.
  const server =
    name === "hearth"
      ? await startHearth(["--model", join(dir, "model.gguf"), ...common])
      : await startLlamaServer(["-m", join(dir, "model.gguf"), "--mmproj", join(dir, "mmproj-model.gguf"), ...common, "--no-warmup"]);
  try {
    await ttft(server, ask(image(999))); // warm-up
    results[name] = await measure(server);
    if (name === "hearth") {
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      console.log(metrics.split("\n").filter(l => l.startsWith("hearth_image_")).join("\n"));
    }
  } finally {
    await server.stop();
  }
}

console.log(`\n${side}×${side} image, ${runs} runs, ${values.threads} threads: time to a one-token answer (ms, median [min–max])\n`);
console.log("| step | Hearth | llama-server | ratio |\n|---|---|---|---|");
for (const step of ["new", "resend", "evicted"]) {
  const [h, l] = [results.hearth![step]!, results["llama-server"]![step]!];
  const span = (xs: number[]) => `${median(xs).toFixed(0)} [${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}]`;
  console.log(`| ${step} | ${span(h)} | ${span(l)} | ${(median(h) / median(l)).toFixed(2)} |`);
}
