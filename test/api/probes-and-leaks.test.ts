// Paths a prober tries get 4xx, never a 500 with a stack in the log, and the open /health keeps
// RPC workers' addresses to those who hold the key.
import { expect, test } from "bun:test";
import { createApp, type AppOptions } from "../../src/api/app.ts";
import type { ModelSource } from "../../src/api/model-source.ts";
import type { DevicePlacement } from "../../src/engine/types.ts";
import { FakeEngine, FakeModels } from "../helpers/fake-engine.ts";

const appWith = (options: Partial<AppOptions> = {}, models: ModelSource = new FakeModels(new FakeEngine())) =>
  createApp(models, { apiKeys: [], cors: null, maxBodyBytes: 1 << 20, ...options });
const get = (app: ReturnType<typeof appWith>, path: string, headers: Record<string, string> = {}) => app.handle(new Request(`http://localhost${path}`, { headers }));

test("GET /ui/{name} of Object.prototype's members is a 404, not a 500", async () => {
  const app = appWith();
  for (const name of ["__proto__", "constructor", "toString", "hasOwnProperty", "%5F%5Fproto%5F%5F"]) {
    expect({ name, status: (await get(app, `/ui/${name}`)).status }).toEqual({ name, status: 404 });
  }
  expect((await get(app, "/ui/app.js")).status).toBe(200);
});

test("GET /v1/models/{id}: the id is percent-decoded once; a broken escape is a 400", async () => {
  const app = appWith();
  for (const [path, status, message] of [
    ["/v1/models/%25", 404, "The model '%' does not exist"],
    ["/v1/models/%2525", 404, "The model '%25' does not exist"],
    ["/v1/models/%", 400, "not valid percent-encoding"],
    ["/v1/models/%E0%A4%A", 400, "not valid percent-encoding"],
    ["/v1/models/fake%2Dmodel", 200, null],
  ] as const) {
    const res = await get(app, path);
    const json: any = await res.json();
    expect({ path, status: res.status }).toEqual({ path, status });
    if (message) expect(json.error.message).toContain(message);
    if (status === 200) expect(json.id).toBe("fake-model");
  }
});

/** A model split over the local CPU and one RPC worker, as /health reports it. */
function splitModels(): ModelSource {
  const models: ModelSource = new FakeModels(new FakeEngine());
  const devices: DevicePlacement[] = [
    { name: "CPU", type: "cpu", endpoint: null, layers: 2, first_layer: 0, last_layer: 1, output: false },
    { name: "RPC0", type: "rpc", endpoint: "10.0.0.7:50052", layers: 3, first_layer: 2, last_layer: 4, output: true },
  ];
  models.health = () => ({ ok: true, models: [{ id: "fake-model", state: "loaded", slotsBusy: 0, slotsTotal: 4, queued: 0, inFlight: 0, devices }] });
  return models;
}

test("/health shows RPC workers' addresses only to a caller with the key when one is set", async () => {
  const devicesOf = async (res: Response) => ((await res.json()) as any).models[0].devices;
  const keyed = appWith({ apiKeys: ["sekret"] }, splitModels());
  const open = await devicesOf(await get(keyed, "/health"));
  expect(JSON.stringify(open)).not.toContain("10.0.0.7");
  expect(open).toEqual([
    { name: "CPU", type: "cpu", layers: 2, first_layer: 0, last_layer: 1, output: false },
    { name: "RPC0", type: "rpc", layers: 3, first_layer: 2, last_layer: 4, output: true },
  ]);
  expect(await devicesOf(await get(keyed, "/health", { authorization: "Bearer wrong" }))).toEqual(open);
  expect((await devicesOf(await get(keyed, "/health", { authorization: "Bearer sekret" })))[1].endpoint).toBe("10.0.0.7:50052");
  expect((await devicesOf(await get(keyed, "/health", { "x-api-key": "sekret" })))[1].endpoint).toBe("10.0.0.7:50052");
  // No key configured: nothing is behind one (/v1/models shows the same addresses to anyone).
  expect((await devicesOf(await get(appWith({}, splitModels()), "/health")))[1].endpoint).toBe("10.0.0.7:50052");
});
