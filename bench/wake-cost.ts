// What one message from a runner to the HTTP process costs by itself, with nothing else running:
// a child sends a step's worth of events (process.send, JSON, as the runner does) every --interval
// ms; the child's thread CPU around the send and the parent's CPU per message (all threads, from
// /proc) are the floor of the per-token cost outside llama_decode that any work in either process
// adds to (docs/token-loop.md).
//
//   bun bench/wake-cost.ts [--messages 300] [--interval 20] [--interval 2]
import { parseArgs } from "node:util";
import { threadMs } from "../src/engine/loop-probe.ts";
import { processCpuMs } from "./cpu-time.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { messages: { type: "string", default: "300" }, interval: { type: "string", multiple: true } },
});
const messages = Number(values.messages);

/** A step's events as the runner sends them: one token of one request. */
const step = (i: number) => ({ type: "events", events: [[`req-${i % 7}`, { kind: "token", text: " word", tokens: [1234], index: 0 }]] });

if (positionals[0] === "child") {
  // Sleep, send, and let the event loop turn once, as the runner's loop does around a decode.
  const interval = Number(positionals[1]);
  process.once("message", async () => {
    let sendCpu = 0;
    for (let i = 0; i < messages; i++) {
      await Bun.sleep(interval);
      const before = threadMs();
      process.send!(step(i));
      sendCpu += (threadMs() - before) * 1000;
      await new Promise(resolve => setImmediate(resolve));
    }
    process.send!({ type: "done", sendCpu });
  });
} else {
  console.log(`${messages} messages each way; µs of CPU per message`);
  console.log("| interval | sender: process.send (thread CPU) | receiver: whole process |");
  console.log("|---|---|---|");
  for (const interval of (values.interval ?? ["20", "2"]).map(Number)) {
    let received = 0;
    const done = Promise.withResolvers<number>();
    const child = Bun.spawn([process.execPath, import.meta.path, "child", String(interval), "--messages", String(messages)], {
      stdio: ["ignore", "inherit", "inherit"],
      serialization: "json",
      ipc: (m: any) => (m.type === "done" ? done.resolve(m.sendCpu) : received++),
    });
    await Bun.sleep(500); // the child's start is not part of it
    const before = processCpuMs(process.pid);
    child.send("go");
    const sendCpu = await done.promise;
    const receiverCpu = (processCpuMs(process.pid) - before) * 1000;
    child.kill();
    if (received !== messages) throw new Error(`received ${received} of ${messages}`);
    console.log(`| ${interval} ms | ${(sendCpu / messages).toFixed(1)} | ${(receiverCpu / messages).toFixed(1)} |`);
  }
}
