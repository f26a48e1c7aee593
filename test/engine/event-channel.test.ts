// EventChannel: one request's events from the IPC handler to its consumer, in order, ending with
// the request, and telling the supervisor whether a cancel is owed when the consumer stops.
import { expect, test } from "bun:test";
import { EventChannel } from "../../src/engine/event-channel.ts";
import type { GenerateEvent } from "../../src/engine/types.ts";

const text = (t: string, index = 0): GenerateEvent => ({ kind: "text", index, text: t, tokens: [t.length] });
const done = (index = 0) =>
  ({
    kind: "done",
    index,
    text: "",
    tokens: [],
    finishReason: "stop",
    usage: { promptTokens: 1, completionTokens: 1, cachedTokens: 0 },
    timings: { promptN: 1, promptMs: 1, predictedN: 1, predictedMs: 1 },
  }) as GenerateEvent;

async function readAll(channel: EventChannel): Promise<GenerateEvent[]> {
  const out: GenerateEvent[] = [];
  for await (const e of channel) out.push(e);
  return out;
}

test("events pushed before and after the reader waits arrive in order; the last one ends it, no cancel owed", async () => {
  const stops: boolean[] = [];
  const channel = new EventChannel(1, { stop: finished => stops.push(finished) });
  channel.push(text("a"));
  const reading = readAll(channel);
  await Bun.sleep(1);
  channel.push(text("b"));
  channel.push(done());
  channel.push(text("late")); // after the request's end: dropped
  expect((await reading).map(e => (e.kind === "text" ? e.text : e.kind))).toEqual(["a", "b", "done"]);
  expect(channel.closed).toBe(true);
  expect(stops).toEqual([true]);
});

test("n choices end after every choice's done; an error ends at once", async () => {
  const two = new EventChannel(2);
  two.push(done(1));
  expect(two.closed).toBe(false);
  two.push(text("x", 0));
  two.push(done(0));
  expect(two.closed).toBe(true);
  expect((await readAll(two)).length).toBe(3);

  const failing = new EventChannel(3);
  failing.push({ kind: "error", code: "cancelled", message: "cancelled" });
  expect(failing.closed).toBe(true);
  expect((await readAll(failing)).map(e => e.kind)).toEqual(["error"]);
});

test("a consumer that stops early owes a cancel; a waiting reader and later reads get done", async () => {
  const stops: boolean[] = [];
  const channel = new EventChannel(1, { stop: finished => stops.push(finished) });
  channel.push(text("a"));
  expect((await channel.next()).value).toEqual(text("a"));
  const waiting = channel.next();
  await channel.return();
  expect((await waiting).done).toBe(true);
  expect((await channel.next()).done).toBe(true);
  channel.push(text("b")); // the runner's last events still arrive: ignored
  channel.push({ kind: "error", code: "cancelled", message: "cancelled" });
  expect(channel.closed).toBe(true);
  expect(stops).toEqual([false]);
});

test("two reads in flight are answered in order", async () => {
  const channel = new EventChannel(1);
  const first = channel.next();
  const second = channel.next();
  channel.push(text("a"));
  channel.push(done());
  expect((await first).value).toEqual(text("a"));
  expect(((await second).value as GenerateEvent).kind).toBe("done");
});

test("open() runs before the first read; its failure is the first read's, and stops the channel", async () => {
  const order: string[] = [];
  const ok = new EventChannel(1, { open: async () => void order.push("open"), stop: () => order.push("stop") });
  const first = ok.next();
  ok.push(done());
  expect(((await first).value as GenerateEvent).kind).toBe("done");
  expect((await ok.next()).done).toBe(true);
  expect(order).toEqual(["open", "stop"]);

  const stops: boolean[] = [];
  const failed = new EventChannel(1, { open: () => Promise.reject(new Error("no model")), stop: f => stops.push(f) });
  await expect(failed.next()).rejects.toThrow("no model");
  expect(stops).toEqual([false]);
  expect((await failed.next()).done).toBe(true);
});

test("return() before the first read never opens the request", async () => {
  let opened = false;
  const channel = new EventChannel(1, { open: async () => void (opened = true) });
  await channel.return();
  expect((await channel.next()).done).toBe(true);
  expect(opened).toBe(false);
});
