// A model split over the local CPU and two RPC workers (ggml-rpc-server on loopback) gives the
// same greedy output as the single-process run (stories260K) and as llama-server given the same
// split (a random-weight Qwen2-shape model, whose flat logits need identical backends to compare).
// /v1/models and /metrics show which device holds which layers.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { basename } from "node:path";
import { generatedModel } from "../helpers/models.ts";
import { defaultModel } from "../helpers/paths.ts";
import { postJson, readSse, startHearth, startLlamaServer, type Running } from "../helpers/server.ts";
import { startWorker, type Worker } from "../helpers/workers.ts";

let workers: Worker[] = [];
beforeAll(async () => {
  workers = [await startWorker(), await startWorker()];
});
afterAll(async () => {
  await Promise.all(workers.map(w => w.kill("SIGTERM")));
});

const rpcArgs = () => ["--rpc", workers.map(w => w.endpoint).join(","), "--tensor-split", "1,1"];

async function complete(server: Running, model: string, prompt: string, maxTokens: number) {
  // logprobs: 0 lists every generated token, so runs compare token by token, not only as text.
  const res = await postJson(`${server.url}/v1/completions`, { model, prompt, max_tokens: maxTokens, temperature: 0, logprobs: 0 });
  expect(res.status).toBe(200);
  const json: any = await res.json();
  return {
    text: json.choices[0].text as string,
    finish: json.choices[0].finish_reason as string,
    tokens: json.usage.completion_tokens as number,
    pieces: json.choices[0].logprobs.tokens as string[],
  };
}

describe("stories260K over local + 2 workers", () => {
  let local: Running;
  let split: Running;
  const prompts: Array<[string, number]> = [["Once upon a time", 64], ["The cat sat on the mat. Then", 80], ["Tom had a red ball", 100], ["Lily", 40]];
  const common = ["--model", defaultModel, "--threads", "1", "--ctx-size", "512", "--parallel", "4"];

  beforeAll(async () => {
    // 5 layers + output; 4 offloaded: layers 0-1 stay local, 2-3 go to the first worker, 4 and the output to the second.
    [local, split] = await Promise.all([startHearth(common), startHearth([...common, ...rpcArgs(), "--gpu-layers", "4"])]);
  });
  afterAll(async () => {
    await Promise.all([local?.stop(), split?.stop()]);
  });

  test("/v1/models and /metrics show where the layers live", async () => {
    const meta = ((await (await fetch(`${split.url}/v1/models/stories260K`)).json()) as any).meta;
    expect(meta.rpc).toEqual(workers.map(w => w.endpoint));
    expect(meta.devices).toEqual([
      { name: "CPU", type: "cpu", endpoint: null, layers: 2, first_layer: 0, last_layer: 1, output: false },
      { name: "RPC0", type: "rpc", endpoint: workers[0]!.endpoint, layers: 2, first_layer: 2, last_layer: 3, output: false },
      { name: "RPC1", type: "rpc", endpoint: workers[1]!.endpoint, layers: 1, first_layer: 4, last_layer: 4, output: true },
    ]);
    const localMeta = ((await (await fetch(`${local.url}/v1/models/stories260K`)).json()) as any).meta;
    expect(localMeta.devices).toEqual([{ name: "CPU", type: "cpu", endpoint: null, layers: 5, first_layer: 0, last_layer: 4, output: true }]);
    const metrics = await (await fetch(`${split.url}/metrics`)).text();
    expect(metrics).toContain(`hearth_model_layers{model="stories260K",device="RPC0",type="rpc",endpoint="${workers[0]!.endpoint}"} 2`);
    expect(metrics).toContain(`hearth_model_layers{model="stories260K",device="CPU",type="cpu",endpoint=""} 2`);
  });

  test.each(prompts)("greedy output for %p equals the single-process run", async (prompt, n) => {
    const [ours, single] = [await complete(split, "stories260K", prompt, n), await complete(local, "stories260K", prompt, n)];
    expect(ours.tokens).toBeGreaterThan(0);
    expect(ours).toEqual(single);
  });

  test("streaming gives the same text, and concurrent requests each get their own", async () => {
    const res = await postJson(`${split.url}/v1/completions`, { model: "stories260K", prompt: "Once upon a time", max_tokens: 64, temperature: 0, stream: true });
    expect(res.status).toBe(200);
    const events = await readSse(res);
    expect(events.at(-1)).toBe("[DONE]");
    const streamed = events.slice(0, -1).map(e => JSON.parse(e).choices[0]?.text ?? "").join("");
    expect(streamed).toBe((await complete(local, "stories260K", "Once upon a time", 64)).text);

    const together = await Promise.all(prompts.map(([p, n]) => complete(split, "stories260K", p, n)));
    for (const [i, [p, n]] of prompts.entries()) expect(together[i]).toEqual(await complete(local, "stories260K", p, n));
  });
});

describe("random-weight Qwen2 shape: Hearth and llama-server given the same split", () => {
  test("greedy tokens match llama-server's", async () => {
    const path = await generatedModel("tiny-qwen2");
    const model = basename(path, ".gguf");
    const prompts = ["Hello, my name is", "The capital of France", "1 2 3 4"];
    // 2 layers + output; 2 offloaded: layer 0 local, layer 1 on the first worker, the output on the second.
    // A worker serves one client at a time, so the two servers take turns.
    const hearth = await startHearth(["--model", path, "--threads", "1", "--ctx-size", "512", "--parallel", "1", ...rpcArgs(), "--gpu-layers", "2"]);
    const ours = [];
    try {
      const meta = ((await (await fetch(`${hearth.url}/v1/models/${model}`)).json()) as any).meta;
      expect(meta.devices.map((d: any) => [d.name, d.layers, d.output])).toEqual([["CPU", 1, false], ["RPC0", 1, false], ["RPC1", 0, true]]);
      for (const p of prompts) ours.push(await complete(hearth, model, p, 24));
    } finally {
      await hearth.stop();
    }
    const reference = await startLlamaServer([
      "-m", path, "-t", "1", "-c", "512", "-np", "1", "--fit", "off",
      "--rpc", workers.map(w => w.endpoint).join(","), "-ts", "1,1", "-ngl", "2",
    ]);
    try {
      for (const [i, p] of prompts.entries()) {
        const res = await postJson(`${reference.url}/completion`, { prompt: p, n_predict: 24, temperature: 0, return_tokens: true, cache_prompt: false });
        const theirs: any = await res.json();
        expect(ours[i]!.text).toBe(theirs.content);
        expect(ours[i]!.tokens).toBe(theirs.tokens.length);
        // Token by token: llama-server's ids, spelled by llama-server itself, against ours.
        const spelled = await Promise.all(
          (theirs.tokens as number[]).map(async id => ((await (await postJson(`${reference.url}/detokenize`, { tokens: [id] })).json()) as any).content as string),
        );
        expect(ours[i]!.pieces).toEqual(spelled);
      }
    } finally {
      await reference.stop();
    }
  });
});
