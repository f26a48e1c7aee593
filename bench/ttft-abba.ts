// Time to first token of Hearth checkouts side by side (e.g. a change against the commit before it,
// made with bench/token-cost-tree.sh), alternating request by request (ABBA), fresh prompts each
// round, the first two rounds not counted; prints each one's median and the paired ratios' median
// (later tree / first tree). The prompt cache on disk is off: an earlier run's prompts would come
// back from it instead of being prefilled.
//
//   bun bench/ttft-abba.ts /tmp/base . [--rounds 14] [--words 380]
import { parseArgs } from "node:util";
import { basename, resolve } from "node:path";
import { generatedModel } from "../test/helpers/models.ts";
import { startTreeServer, type TreeServer } from "./tree-server.ts";
import { fillerText, median, streamChat } from "./load.ts";

const { values, positionals } = parseArgs({ allowPositionals: true, options: { rounds: { type: "string", default: "14" }, words: { type: "string", default: "380" } } });
const model = await generatedModel("qwen2.5-0.5b-q4_0");
const id = basename(model).replace(/\.gguf$/, "");
const servers: Array<TreeServer & { tree: string; ttft: number[] }> = [];
try {
  for (const tree of positionals.map(t => resolve(t))) {
    const args = ["--model", model, "--threads", "2", "--ctx-size", "24576", "--parallel", "16", "--batch-size", "512", "--prompt-cache-size", "0"];
    servers.push({ tree, ttft: [], ...(await startTreeServer(tree, args)) });
  }
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const [i, s] of (round % 2 ? [...servers].reverse() : servers).entries()) {
      const r = await streamChat(s.url, id, [{ role: "user", content: fillerText(Number(values.words), round * 7919 + i * 104729 + 17) }], 4);
      if (round > 1) s.ttft.push(r.ttftMs);
    }
  }
  for (const s of servers) console.log(`${s.tree}: TTFT median ${median(s.ttft).toFixed(1)} ms (${s.ttft.map(t => t.toFixed(0)).join(" ")})`);
  for (const s of servers.slice(1)) console.log(`${s.tree} / ${servers[0]!.tree}: paired ${median(s.ttft.map((t, k) => t / servers[0]!.ttft[k]!)).toFixed(3)}`);
} finally {
  await Promise.all(servers.map(s => s.stop()));
}
