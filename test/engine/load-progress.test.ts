// The runner's stderr relay: load-progress lines become a bar on a terminal and vanish
// otherwise; all other lines pass through unchanged.
import { expect, test } from "bun:test";
import { relayRunnerStderr } from "../../src/engine/load-progress.ts";

function fakeOut(isTTY: boolean) {
  const written: string[] = [];
  return { out: { isTTY, write: (s: string) => (written.push(s), true) } as unknown as NodeJS.WriteStream, written };
}

function streamOf(text: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  return new ReadableStream({
    start(c) {
      c.enqueue(bytes.subarray(0, 7)); // split mid-line on purpose
      c.enqueue(bytes.subarray(7));
      c.close();
    },
  });
}

const input = "warn: something\n\x1ehearth-load 0\n\x1ehearth-load 500\n\x1ehearth-load 1000\nafter load\n";

test("on a terminal: a redrawn bar ending at 100 %, other lines intact", async () => {
  const { out, written } = fakeOut(true);
  relayRunnerStderr(streamOf(input), "model.gguf", out);
  await Bun.sleep(20);
  expect(written[0]).toBe("warn: something\n");
  expect(written.filter(w => w.startsWith("\rloading model.gguf [")).length).toBe(3);
  expect(written).toContain("\rloading model.gguf [###############---------------] 50%");
  expect(written.at(-2)).toEndWith("100%\n");
  expect(written.at(-1)).toBe("after load\n");
});

test("not a terminal: no progress lines at all", async () => {
  const { out, written } = fakeOut(false);
  relayRunnerStderr(streamOf(input), "model.gguf", out);
  await Bun.sleep(20);
  expect(written).toEqual(["warn: something\n", "after load\n"]);
});
