// Backend devices: RPC workers added at run time, the device list, and where the last model load
// put each layer (llama.cpp reports that only in its log; the shim keeps those lines).
import { cString } from "./cstring.ts";
import { native } from "./library.ts";

export class RpcUnsupportedError extends Error {
  override name = "RpcUnsupportedError";
}

export type DeviceType = "cpu" | "gpu" | "igpu" | "accel" | "meta";
const TYPES: DeviceType[] = ["cpu", "gpu", "igpu", "accel", "meta"];

export interface BackendDevice {
  name: string;
  description: string;
  type: DeviceType;
}

/**
 * Registers a ggml-rpc-server worker as offload device(s), as llama-server's --rpc does.
 * ggml aborts the process when the worker cannot be reached: probe it first.
 */
export function addRpcServer(endpoint: string): number {
  const n = native().shim.hearth_rpc_add_server(cString(endpoint));
  if (n < 0) throw new RpcUnsupportedError("this build of llama.cpp has no RPC backend (build it with `make lib RPC=1`)");
  return n;
}

export function listDevices(): BackendDevice[] {
  const { shim } = native();
  let buf = new Uint8Array(4096);
  let n = shim.hearth_devices(buf, buf.length);
  if (n > buf.length) {
    buf = new Uint8Array(n);
    n = shim.hearth_devices(buf, buf.length);
  }
  return new TextDecoder()
    .decode(buf.subarray(0, n))
    .split("\n")
    .filter(Boolean)
    .map(line => {
      const [name = "", description = "", type = "0"] = line.split("\t");
      return { name, description, type: TYPES[Number(type)] ?? "cpu" };
    });
}

/** Device name per layer index of the last load (index n_layer is the output layer). */
export function takeLayerPlacement(): Map<number, string> {
  const buf = new Uint8Array(1 << 15);
  const n = native().shim.hearth_placement_take(buf, buf.length);
  const placement = new Map<number, string>();
  for (const m of new TextDecoder().decode(buf.subarray(0, n)).matchAll(/layer\s+(\d+) assigned to device ([^,\s]+)/g)) {
    placement.set(Number(m[1]), m[2]!);
  }
  return placement;
}
