// llama-server's POST /slots/{id}?action=save|restore|erase on Hearth (--slot-save-path): a saved
// slot restores into another slot and its next prompt starts from it; files move between Hearth
// and llama-server both ways; bad requests are 400/501 in llama-server's envelope.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultModel } from "../helpers/paths.ts";
import { postJson, startHearth, startLlamaServer, type Running } from "../helpers/server.ts";

let dir: string;
let hearth: Running;
let llama: Running;
const common = ["-c", "512", "-np", "2", "-n", "16", "--temp", "0", "-t", "1"];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "hearth-slots-"));
  [hearth, llama] = await Promise.all([
    startHearth(["--model", defaultModel, ...common, "--slot-save-path", dir]),
    // -kvu: one KV stream, as Hearth's unified cache (a state file records its stream layout).
    startLlamaServer(["-m", defaultModel, ...common, "-kvu", "--slot-save-path", `${dir}/`]),
  ]);
});
afterAll(async () => {
  await Promise.all([hearth?.stop(), llama?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

const france = "What is the capital of France?";
const germany = "What is the capital of Germany?";

async function complete(s: Running, prompt: string, slot: number): Promise<any> {
  const res = await postJson(`${s.url}/completion`, { prompt, id_slot: slot, cache_prompt: true, n_predict: 16 });
  expect(res.status).toBe(200);
  return res.json();
}

async function action(s: Running, slot: number, name: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = body === undefined ? await fetch(`${s.url}/slots/${slot}?action=${name}`, { method: "POST" }) : await postJson(`${s.url}/slots/${slot}?action=${name}`, body);
  return { status: res.status, body: await res.json() };
}

test("a saved slot restores into another slot, whose next prompt reuses it, as on llama-server", async () => {
  for (const s of [hearth, llama]) {
    const first = await complete(s, france, 1);
    expect(first.timings.prompt_n).toBeGreaterThan(5);
    const saved = await action(s, 1, "save", { filename: s === hearth ? "h1.bin" : "l1.bin" });
    expect(saved.status).toBe(200);
    // The prompt and every generated token but the last (never decoded).
    expect(saved.body.n_saved).toBe(first.tokens_evaluated + 15);
    expect(saved.body.n_written).toBeGreaterThan(0);
    const restored = await action(s, 0, "restore", { filename: s === hearth ? "h1.bin" : "l1.bin" });
    expect(restored.status).toBe(200);
    expect(restored.body.n_restored).toBe(saved.body.n_saved);
    const next = await complete(s, germany, 0);
    expect(next.timings.cache_n).toBeGreaterThan(0);
    expect(next.timings.prompt_n).toBe(first.timings.prompt_n - next.timings.cache_n + (next.tokens_evaluated - first.tokens_evaluated));
    const erased = await action(s, 0, "erase");
    expect(erased.status).toBe(200);
    expect(erased.body.n_erased).toBeGreaterThan(0);
  }
});

test("files move between the two servers both ways", async () => {
  // Each restores the file the other saved in the test above.
  const fromLlama = await action(hearth, 1, "restore", { filename: "l1.bin" });
  expect(fromLlama.status).toBe(200);
  const fromHearth = await action(llama, 1, "restore", { filename: "h1.bin" });
  expect(fromHearth.status).toBe(200);
  expect(fromLlama.body.n_restored).toBe(fromHearth.body.n_restored);
  const again = await complete(hearth, france, 1);
  expect(again.timings.prompt_n).toBe(1);
});

test("bad requests are 400, in llama-server's envelope", async () => {
  for (const [slot, name, body, message] of [
    [0, "save", { filename: "../escape.bin" }, "Invalid filename"],
    [0, "save", {}, "Invalid filename"],
    [0, "jump", { filename: "x.bin" }, "Invalid action"],
    [7, "save", { filename: "x.bin" }, "Invalid slot ID"],
    [0, "restore", { filename: "missing.bin" }, "Unable to restore slot"],
  ] as const) {
    const r = await action(hearth, slot, name, body);
    expect(r.status).toBe(400);
    expect(r.body.error.type).toBe("invalid_request_error");
    expect(r.body.error.message).toContain(message);
  }
  // The slot is still usable after a failed restore.
  expect((await complete(hearth, france, 0)).timings.prompt_n).toBeGreaterThan(5);
});

test("without --slot-save-path the actions are 501, as llama-server answers", async () => {
  const plain = await startHearth(["--model", defaultModel, ...common]);
  try {
    const r = await action(plain, 0, "save", { filename: "x.bin" });
    expect(r.status).toBe(501);
    expect(r.body.error.type).toBe("not_supported_error");
  } finally {
    await plain.stop();
  }
});
