// Where one stream's time to first token goes, Hearth against llama-server (same model, settings as
// `make bench`): the client's TTFT (streamed chat, first content), the server's own prompt time
// (`timings.prompt_ms` of a non-streamed request of the same size), and what the server adds
// around its timings (that request's time on the client minus prompt_ms and predicted_ms).
// Alternating who goes first, fresh prompts every round, the first two rounds not counted.
//
//   bun bench/ttft-parts.ts [--rounds 12] [--words 380]
import { parseArgs } from "node:util";
import { basename } from "node:path";
import { generatedModel } from "../test/helpers/models.ts";
import { startHearth, startLlamaServer } from "../test/helpers/server.ts";
import { fillerText, median, streamChat } from "./load.ts";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "12" }, words: { type: "string", default: "380" } } });
const model = await generatedModel("qwen2.5-0.5b-q4_0");
const id = basename(model).replace(/\.gguf$/, "");
const hearth = await startHearth(["--model", model, "--threads", "2", "--ctx-size", "24576", "--parallel", "16", "--batch-size", "512"]);
const llama = await startLlamaServer(["-m", model, "-t", "2", "-c", "24576", "-np", "16", "-b", "512", "-kvu"]);
const servers = [["hearth", hearth.url], ["llama-server", llama.url]] as const;
const rows = new Map(servers.map(([name]) => [name, { ttft: [] as number[], promptMs: [] as number[], around: [] as number[] }]));
try {
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const [name, url] of round % 2 ? [...servers].reverse() : servers) {
      const seed = round * 7919 + (name === "hearth" ? 1 : 2) * 104729;
      const t0 = performance.now();
      const body = { model: id, messages: [{ role: "user", content: fillerText(Number(values.words), seed) }], max_tokens: 1, temperature: 0 };
      const res: any = await fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }).then(r => r.json());
      const total = performance.now() - t0;
      const streamed = await streamChat(url, id, [{ role: "user", content: fillerText(Number(values.words), seed + 3) }], 2);
      if (round < 2) continue;
      const row = rows.get(name)!;
      row.ttft.push(streamed.ttftMs);
      row.promptMs.push(res.timings.prompt_ms);
      row.around.push(total - res.timings.prompt_ms - (res.timings.predicted_ms ?? 0));
    }
  }
  for (const [name, r] of rows) {
    const span = (v: number[]) => `${median(v).toFixed(1)} [${Math.min(...v).toFixed(0)}–${Math.max(...v).toFixed(0)}]`;
    console.log(`${name}: TTFT ${span(r.ttft)} ms, prompt_ms ${span(r.promptMs)}, around the timings ${median(r.around).toFixed(1)} ms`);
  }
} finally {
  await hearth.stop();
  await llama.stop();
}
