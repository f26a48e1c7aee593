// When the runner sends its events (outbox.ts), on a clock the test moves: a streaming request's
// text waits up to the interval and is joined per choice; first text, ends, errors and every
// other event go at once with what was held, in order.
import { describe, expect, test } from "bun:test";
import { Outbox } from "../../src/engine/outbox.ts";
import type { GenerateEvent } from "../../src/engine/types.ts";

const text = (t: string, tokens: number[], index?: number): GenerateEvent => ({ kind: "text", text: t, tokens, ...(index !== undefined ? { index } : {}) });
const done = (index?: number): GenerateEvent => ({
  kind: "done",
  ...(index !== undefined ? { index } : {}),
  text: "",
  tokens: [],
  finishReason: "length",
  usage: { promptTokens: 1, completionTokens: 1 } as never,
  timings: {} as never,
});

describe("Outbox", () => {
  test("interval 0: every step's events go at once", () => {
    const box = new Outbox(0);
    box.add("a", text("Hel", [1]));
    expect(box.take(0)).toEqual([["a", text("Hel", [1])]]);
    box.add("a", text("lo", [2]));
    expect(box.take(0)).toEqual([["a", text("lo", [2])]]);
    expect(box.take(0)).toBeNull();
  });

  test("after the first visible text, text waits for the interval and goes joined", () => {
    const box = new Outbox(50);
    box.add("a", { kind: "accepted", promptTokens: 3 });
    expect(box.take(0)).toEqual([["a", { kind: "accepted", promptTokens: 3 }]]);
    box.add("a", text("Once", [10]));
    expect(box.take(10)).toEqual([["a", text("Once", [10])]]); // first text: at once
    box.add("a", text(" upon", [11]));
    expect(box.take(20)).toBeNull();
    box.add("a", text(" a", [12]));
    expect(box.take(59)).toBeNull();
    box.add("a", text(" time", [13]));
    expect(box.take(60)).toEqual([["a", text(" upon a time", [11, 12, 13])]]);
    expect(box.take(200)).toBeNull();
  });

  test("text that is not yet visible does not start the wait", () => {
    const box = new Outbox(50);
    box.add("a", text("", [200])); // half a character
    expect(box.take(0)).toEqual([["a", text("", [200])]]);
    box.add("a", text("é", [201]));
    expect(box.take(1)).toEqual([["a", text("é", [201])]]);
    box.add("a", text("!", [5]));
    expect(box.take(2)).toBeNull();
  });

  test("an end, an error or another request's start sends what was held first, in order", () => {
    const box = new Outbox(1000);
    box.add("a", text("x", [1]));
    box.add("b", text("y", [2]));
    box.take(0);
    box.add("a", text("1", [3]));
    box.add("b", text("2", [4]));
    expect(box.take(1)).toBeNull();
    box.add("a", text("3", [5]));
    box.add("a", done());
    box.add("b", text("4", [6]));
    expect(box.take(2)).toEqual([
      ["a", text("13", [3, 5])],
      ["b", text("2", [4])], // the text after a's end does not join across it
      ["a", done()],
      ["b", text("4", [6])],
    ]);
    // a has ended; b still streams: its text waits again.
    box.add("b", text("5", [7]));
    expect(box.take(3)).toBeNull();
    box.add("c", { kind: "error", code: "queue_full", message: "busy" });
    expect(box.take(4)).toEqual([
      ["b", text("5", [7])],
      ["c", { kind: "error", code: "queue_full", message: "busy" }],
    ]);
  });

  test("choices of one request join separately; text with log-probabilities is held but never joined", () => {
    const box = new Outbox(100);
    box.add("n", text("a", [1], 0));
    box.add("n", text("b", [2], 1));
    box.take(0);
    const lp = (t: string, token: number): GenerateEvent => ({ kind: "text", index: 0, text: t, tokens: [token], logprobs: [{ token, bytes: [], logprob: -1, top: [] }] });
    box.add("n", text("c", [3], 1));
    box.add("n", lp("d", 4));
    box.add("n", text("e", [5], 1));
    box.add("n", lp("f", 6));
    expect(box.take(50)).toBeNull();
    expect(box.take(100)).toEqual([
      ["n", text("ce", [3, 5], 1)],
      ["n", lp("d", 4)],
      ["n", lp("f", 6)],
    ]);
  });

  test("force sends whatever is held", () => {
    const box = new Outbox(1000);
    box.add("a", text("x", [1]));
    box.take(0);
    box.add("a", text("y", [2]));
    expect(box.take(1)).toBeNull();
    expect(box.take(1, true)).toEqual([["a", text("y", [2])]]);
  });
});
