// Where a loaded model's layers live, for /v1/models meta.devices and /metrics: llama.cpp's
// per-layer device names folded into one entry per device, in layer order.
import type { DevicePlacement } from "./types.ts";

interface DeviceLike {
  name: string;
  description: string;
  type: string;
}

/**
 * @param layerDevice device name per layer index; index nLayer is the output layer.
 * The input embeddings always stay on the CPU (llama.cpp keeps them there).
 */
export function summarizePlacement(layerDevice: Map<number, string>, devices: DeviceLike[], nLayer: number): DevicePlacement[] {
  const out = new Map<string, DevicePlacement>();
  const entry = (name: string): DevicePlacement => {
    let e = out.get(name);
    if (!e) {
      const dev = devices.find(d => d.name === name);
      const rpc = /^RPC\d+$/.test(name);
      e = {
        name,
        type: rpc ? "rpc" : dev?.type === "cpu" || !dev ? "cpu" : "gpu",
        endpoint: rpc ? dev?.description ?? null : null,
        layers: 0,
        first_layer: null,
        last_layer: null,
        output: false,
      };
      out.set(name, e);
    }
    return e;
  };
  const cpu = devices.find(d => d.type === "cpu")?.name ?? "CPU";
  entry(cpu); // holds the input layer even when every repeating layer is elsewhere
  for (let il = 0; il <= nLayer; il++) {
    const e = entry(layerDevice.get(il) ?? cpu);
    if (il === nLayer) {
      e.output = true;
      continue;
    }
    e.layers++;
    e.first_layer ??= il;
    e.last_layer = il;
  }
  return [...out.values()];
}
