// A Hearth server run from a given source checkout (this one or an older commit's, made with
// bench/token-cost-tree.sh), up once its model is loaded: for the benches that compare versions
// side by side (token-cost.ts, ttft-abba.ts).
import type { Subprocess } from "bun";
import { freePort } from "../test/helpers/server.ts";

export interface TreeServer {
  url: string;
  proc: Subprocess;
  stop(): Promise<void>;
}

/** `hearth serve` from `tree` with `args` (the port is chosen here); resolves when its model is loaded. */
export async function startTreeServer(tree: string, args: string[], env: Record<string, string> = {}): Promise<TreeServer> {
  const port = await freePort();
  const proc = Bun.spawn([process.execPath, `${tree}/src/cli.ts`, "serve", "--port", String(port), ...args], {
    cwd: tree,
    env: { ...process.env, HEARTH_LOG_LEVEL: "warn", ...env },
    stdout: "inherit",
    stderr: "inherit",
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    proc.kill("SIGTERM");
    await Promise.race([proc.exited, Bun.sleep(5000)]);
    proc.kill("SIGKILL");
  };
  for (let t = 0; ; t++) {
    const states: string[] = await fetch(`${url}/health`).then(r => r.json() as Promise<any>).then(j => j.models?.map((m: any) => m.state) ?? [], () => []);
    if (states.includes("loaded")) return { url, proc, stop };
    if (states.includes("failed") || t > 600) {
      await stop();
      throw new Error(`${tree}: ${states.includes("failed") ? "the model failed to load" : "server not ready"}`);
    }
    await Bun.sleep(100);
  }
}
