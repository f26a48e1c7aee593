// Writes the benchmark report: bench/results/latest.json, latest.md (the tables bench/README.md
// quotes) and latest.svg (the Hearth/llama-server ratio per workload and metric).
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { median } from "./load.ts";

export interface WorkloadResult {
  name: string;
  hearth: Array<Record<string, number>>;
  llamaServer: Array<Record<string, number>>;
}

interface Meta {
  date: string;
  machine: string;
  model: string;
  settings: Record<string, unknown>;
}

const METRICS: Array<{ key: string; label: string; higherIsBetter: boolean }> = [
  { key: "ttft_mean_ms", label: "TTFT mean ms", higherIsBetter: false },
  { key: "ttft_p50_ms", label: "TTFT p50 ms", higherIsBetter: false },
  { key: "ttft_p95_ms", label: "TTFT p95 ms", higherIsBetter: false },
  { key: "decode_tps_per_stream", label: "decode tok/s/stream", higherIsBetter: true },
  { key: "aggregate_tps", label: "aggregate tok/s", higherIsBetter: true },
  { key: "peak_rss_mib", label: "peak RSS MiB (sum over processes)", higherIsBetter: false },
  { key: "pss_mib", label: "PSS MiB after the runs", higherIsBetter: false },
  { key: "overhead_per_token_ms", label: "HTTP+SSE overhead ms/token", higherIsBetter: false },
  { key: "health_p99_ms", label: "/health p99 ms", higherIsBetter: false },
  { key: "turn1_ttft_ms", label: "turn 1 TTFT ms", higherIsBetter: false },
  { key: "later_turns_ttft_ms", label: "turns 2-8 mean TTFT ms", higherIsBetter: false },
  { key: "turn2_ttft_ms", label: "turn 2 TTFT ms (after the restart / swap)", higherIsBetter: false },
  { key: "turn2_over_turn1", label: "turn 2 TTFT / turn 1 TTFT", higherIsBetter: false },
  { key: "tbt_p50_ms", label: "time between tokens p50 ms", higherIsBetter: false },
  { key: "tbt_p99_ms", label: "time between tokens p99 ms", higherIsBetter: false },
  { key: "tbt_max_over_p50", label: "largest gap between tokens / p50", higherIsBetter: false },
  { key: "failed_requests", label: "failed or short requests", higherIsBetter: false },
];

const fmt = (x: number) => (Number.isFinite(x) ? (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(x < 1 && x > -1 ? 3 : 1)) : "–");

const fmtRatio = (x: number) => (Number.isFinite(x) ? x.toPrecision(3) : "–");

/**
 * Median of the per-run ratios. In run r the two servers ran back to back, so a slow spell of
 * the machine lands on both halves of a pair; the ratio of the medians can pair a run of one
 * server with a run of the other from minutes apart.
 */
function pairedRatio(a: Array<Record<string, number>>, b: Array<Record<string, number>>, key: string): number {
  const ratios = a.flatMap((row, r) => {
    const x = row[key];
    const y = b[r]?.[key];
    return typeof x === "number" && typeof y === "number" && Number.isFinite(x / y) ? [x / y] : [];
  });
  return median(ratios);
}

function stats(rows: Array<Record<string, number>>, key: string) {
  const xs = rows.map(r => r[key]).filter((x): x is number => typeof x === "number" && Number.isFinite(x));
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}

export function writeReport(results: WorkloadResult[], meta: Meta, name = "latest"): void {
  const dir = resolve(import.meta.dir, "results");
  const table: string[] = [];
  table.push(`Measured ${meta.date.slice(0, 10)} on ${meta.machine}; model ${meta.model}; ${JSON.stringify(meta.settings)}.`);
  table.push("Medians of the runs; [min–max] spread; ratio = Hearth / llama-server, of the medians; paired = the median of the runs' own ratios (the two servers ran back to back in each run).\n");
  const ratios: Array<{ workload: string; metric: string; ratio: number; better: boolean }> = [];
  for (const w of results) {
    table.push(`**${w.name}**\n`);
    table.push("| metric | Hearth | llama-server | ratio | paired |");
    table.push("|---|---|---|---|---|");
    for (const m of METRICS) {
      const a = stats(w.hearth, m.key);
      const b = stats(w.llamaServer, m.key);
      if (!Number.isFinite(a.median) && !Number.isFinite(b.median)) continue;
      const ratio = a.median / b.median;
      const paired = pairedRatio(w.hearth, w.llamaServer, m.key);
      table.push(`| ${m.label} | ${fmt(a.median)} [${fmt(a.min)}–${fmt(a.max)}] | ${fmt(b.median)} [${fmt(b.min)}–${fmt(b.max)}] | ${fmtRatio(ratio)} | ${fmtRatio(paired)} |`);
      if (Number.isFinite(ratio) && !["peak_rss_mib", "pss_mib", "overhead_per_token_ms", "failed_requests"].includes(m.key)) {
        ratios.push({ workload: w.name.split(":")[0]!, metric: m.label, ratio, better: m.higherIsBetter ? ratio >= 1 : ratio <= 1 });
      }
    }
    table.push("");
  }
  const markdown = table.join("\n");
  writeFileSync(resolve(dir, `${name}.md`), markdown + "\n");
  writeFileSync(resolve(dir, `${name}.json`), JSON.stringify({ ...meta, results }, null, 2) + "\n");
  writeFileSync(resolve(dir, `${name}.svg`), ratioChart(ratios));
  console.log(markdown);
}

/** A horizontal bar per (workload, metric): the Hearth/llama-server ratio, 1.0 marked. */
function ratioChart(rows: Array<{ workload: string; metric: string; ratio: number; better: boolean }>): string {
  const rowH = 18;
  const left = 360;
  const width = 760;
  const scale = (width - left - 60) / Math.max(2, ...rows.map(r => r.ratio));
  const height = rows.length * rowH + 40;
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const bars = rows.map((r, i) => {
    const y = 20 + i * rowH;
    const w = Math.max(1, r.ratio * scale);
    return `<text x="${left - 6}" y="${y + 12}" text-anchor="end">${esc(`${r.workload} · ${r.metric}`)}</text>` +
      `<rect x="${left}" y="${y + 2}" width="${w.toFixed(1)}" height="${rowH - 5}" fill="${r.better ? "#3a7d44" : "#b5523b"}"/>` +
      `<text x="${left + w + 4}" y="${y + 12}">${r.ratio.toFixed(2)}</text>`;
  });
  const one = left + scale;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">` +
    `<text x="${left}" y="13" font-weight="bold">Hearth / llama-server (green: Hearth better)</text>${bars.join("")}` +
    `<line x1="${one}" y1="18" x2="${one}" y2="${height - 10}" stroke="#333" stroke-dasharray="3,3"/></svg>\n`;
}
