// Layer placement folded per device, and RPC endpoint syntax (model-free).
import { expect, test } from "bun:test";
import { summarizePlacement } from "../../src/engine/placement.ts";
import { parseEndpoint, parseEndpointList, probeWorker } from "../../src/engine/rpc-workers.ts";

const devices = [
  { name: "CPU", description: "AMD EPYC", type: "cpu" },
  { name: "RPC0", description: "10.0.0.1:50052", type: "gpu" },
  { name: "RPC1", description: "10.0.0.2:50052", type: "gpu" },
];

test("layers are counted per device in layer order; the output layer is flagged, the CPU always listed", () => {
  const placement = new Map([[0, "CPU"], [1, "RPC0"], [2, "RPC0"], [3, "RPC1"], [4, "RPC1"]]);
  expect(summarizePlacement(placement, devices, 4)).toEqual([
    { name: "CPU", type: "cpu", endpoint: null, layers: 1, first_layer: 0, last_layer: 0, output: false },
    { name: "RPC0", type: "rpc", endpoint: "10.0.0.1:50052", layers: 2, first_layer: 1, last_layer: 2, output: false },
    { name: "RPC1", type: "rpc", endpoint: "10.0.0.2:50052", layers: 1, first_layer: 3, last_layer: 3, output: true },
  ]);
  const allRemote = summarizePlacement(new Map([[0, "RPC0"], [1, "RPC0"]]), devices, 1);
  expect(allRemote[0]).toEqual({ name: "CPU", type: "cpu", endpoint: null, layers: 0, first_layer: null, last_layer: null, output: false });
});

test("endpoints are HOST:PORT as ggml-rpc reads them", () => {
  expect(parseEndpoint("10.0.0.1:50052")).toEqual({ host: "10.0.0.1", port: 50052 });
  expect(parseEndpoint("worker-a:1")).toEqual({ host: "worker-a", port: 1 });
  for (const bad of ["10.0.0.1", ":50052", "host:0", "host:70000", "host:5x"]) expect(parseEndpoint(bad)).toBeNull();
  expect(parseEndpointList("a:1, b:2,")).toEqual(["a:1", "b:2"]);
  expect(() => parseEndpointList("a:1,b")).toThrow("'b' is not HOST:PORT");
});

test("a probe of a port that is not an RPC worker fails with the worker named", async () => {
  // An HTTP server accepts the connection but never answers HELLO the RPC way.
  const silent = Bun.serve({ port: 0, fetch: () => new Response("no") });
  try {
    await expect(probeWorker(`127.0.0.1:${silent.port}`, 1000)).rejects.toThrow(`RPC worker 127.0.0.1:${silent.port}`);
  } finally {
    silent.stop(true);
  }
});
