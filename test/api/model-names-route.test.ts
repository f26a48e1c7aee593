// A request's `model` through the real registry and HTTP app (fake runners, no model loaded):
// omitted or empty names the default model, aliases and `*` patterns resolve with CONVENTIONS.md's
// precedence on every route that takes a model, unknown names are 404 and an unnamed model among
// several is 400 naming `model`.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../../src/api/app.ts";
import type { HearthConfig } from "../../src/models/config.ts";
import type { NameRules } from "../../src/models/model-names.ts";
import { ModelRegistry } from "../../src/models/registry.ts";
import { fakeRunnerCommand } from "../helpers/fake-runner.ts";
import { defaultModel } from "../helpers/paths.ts";

let root: string;
const registries: ModelRegistry[] = [];
const defaults = { nCtx: 256, parallel: 1, nBatch: 64, threads: 1, gpuLayers: 0, queueSize: 4, verbose: false, reportProgress: false };

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "hearth-names-"));
  for (const [folder, ids] of [["two", ["alpha", "beta"]], ["one", ["solo"]]] as const) {
    mkdirSync(join(root, folder));
    for (const id of ids) copyFileSync(defaultModel, join(root, folder, `${id}.gguf`));
  }
});
afterAll(async () => {
  await Promise.all(registries.map(r => r.close()));
});

/** The HTTP app over a registry of one folder's models. */
function serve(folder: "one" | "two", config: HearthConfig = {}, names: NameRules = {}) {
  const registry = new ModelRegistry([], [join(root, folder)], defaults, undefined, undefined, config, undefined, { command: fakeRunnerCommand }, names);
  registries.push(registry);
  const app = createApp(registry, { apiKeys: [], cors: null, maxBodyBytes: 1 << 20 });
  const post = async (path: string, body: object) => {
    const res = await app.handle(new Request(`http://localhost${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }));
    return { status: res.status, json: (await res.json()) as any };
  };
  /** The model id a name loads (POST /models/load answers with it), or the error status. */
  const loads = async (model?: string) => {
    const { status, json } = await post("/models/load", model === undefined ? {} : { model });
    return status === 200 ? json.model : status;
  };
  return { app, post, loads };
}

const chat = (model?: string | null) => ({ ...(model === undefined ? {} : { model }), messages: [{ role: "user", content: "Hi" }] });

describe("one model served", () => {
  test("a request with model omitted, empty or null is served by it, and answers with its id", async () => {
    const { post } = serve("one");
    for (const model of [undefined, "", null]) {
      const { status, json } = await post("/v1/chat/completions", chat(model));
      expect({ model, status }).toEqual({ model, status: 200 });
      expect(json.model).toBe("solo");
      expect(json.choices[0].message.content).toBe("fake answer");
    }
    const completion = await post("/v1/completions", { prompt: "Hi" });
    expect([completion.status, completion.json.model]).toEqual([200, "solo"]);
    expect((await post("/tokenize", { content: "Hi" })).json.tokens).toEqual([72, 105]);
    expect((await post("/apply-template", { model: "", messages: [{ role: "user", content: "Hi" }] })).status).toBe(200);
  });

  test("a bare --alias names it; an unknown name is 404", async () => {
    const { post, loads } = serve("one", {}, { bareAliases: ["test"] });
    expect(await loads("test")).toBe("solo");
    const asked = await post("/v1/chat/completions", chat("test"));
    expect([asked.status, asked.json.model]).toEqual([200, "test"]); // the name as asked
    const unknown = await post("/v1/chat/completions", chat("gpt-4o"));
    expect([unknown.status, unknown.json.error.param, unknown.json.error.code]).toEqual([404, "model", "model_not_found"]);
  });
});

describe("two models served", () => {
  test("no --default-model: an unnamed model is 400 naming `model`, on every route", async () => {
    const { post } = serve("two");
    const requests: Array<[string, object]> = [
      ["/v1/chat/completions", chat()],
      ["/v1/chat/completions", chat("")],
      ["/v1/completions", { prompt: "Hi" }],
      ["/v1/embeddings", { input: "Hi" }],
      ["/tokenize", { content: "Hi" }],
      ["/apply-template", chat()],
      ["/models/load", {}],
    ];
    for (const [path, body] of requests) {
      const { status, json } = await post(path, body);
      expect({ path, status, param: json.error?.param, code: json.error?.code }).toEqual({ path, status: 400, param: "model", code: "model_required" });
      expect(json.error.message).toContain("--default-model");
    }
  });

  test("--default-model picks the model of an unnamed request", async () => {
    const { post, loads } = serve("two", {}, { defaultModel: "beta" });
    expect(await loads()).toBe("beta");
    const { status, json } = await post("/v1/chat/completions", chat(""));
    expect([status, json.model]).toEqual([200, "beta"]);
  });

  test("exact aliases beat patterns, the longest pattern wins, --alias goes over hearth.json", async () => {
    const config = { aliases: { "claude-*": "alpha", "claude-3-*": "beta", "claude-3-opus": "alpha", "gpt-*": "alpha" } };
    const { app, loads, post } = serve("two", config, { aliases: { "gpt-*": "beta" } });
    expect(await loads("claude-sonnet-4")).toBe("alpha");
    expect(await loads("claude-3-haiku")).toBe("beta");
    expect(await loads("claude-3-opus")).toBe("alpha");
    expect(await loads("gpt-4o")).toBe("beta");
    expect(await loads("beta")).toBe("beta");
    expect(await loads("llama")).toBe(404);
    const asked = await post("/v1/chat/completions", chat("claude-3-haiku"));
    expect([asked.status, asked.json.model]).toEqual([200, "claude-3-haiku"]);
    // /v1/models lists patterns as given, under the model they name.
    const listed = (await (await app.handle(new Request("http://localhost/v1/models"))).json()) as any;
    const aliases = Object.fromEntries(listed.data.map((m: any) => [m.id, m.meta.aliases]));
    expect(aliases).toEqual({ alpha: ["claude-3-opus", "claude-*"], beta: ["claude-3-*", "gpt-*"] });
  });
});
