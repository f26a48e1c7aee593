// The pure detokenize + stop-string unit: UTF-8 split across tokens, stops across tokens.
import { describe, expect, test } from "bun:test";
import { TextStream } from "../../src/engine/text-stream.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

/** Feeds pieces and returns what was emitted per push, plus the flush. */
function run(stops: string[], pieces: Uint8Array[]) {
  const stream = new TextStream(stops);
  const out: string[] = [];
  let stopped = false;
  for (const p of pieces) {
    const r = stream.push(p);
    out.push(r.text);
    if (r.stopped) {
      stopped = true;
      break;
    }
  }
  if (!stopped) out.push(stream.flush());
  return { out, text: out.join(""), stopped };
}

describe("UTF-8", () => {
  test("a character split over three pieces is held until complete, never U+FFFD", () => {
    const all = bytes("a你b"); // 你 = e4 bd a0
    const r = run([], [all.subarray(0, 2), all.subarray(2, 3), all.subarray(3, 4), all.subarray(4)]);
    expect(r.out).toEqual(["a", "", "你", "b", ""]);
    expect(r.text).not.toContain("\uFFFD");
  });

  test("a 4-byte emoji split byte by byte", () => {
    const all = bytes("😁");
    const r = run([], Array.from(all, b => new Uint8Array([b])));
    expect(r.out).toEqual(["", "", "", "😁", ""]);
  });
});

describe("stop strings", () => {
  test("a stop string over several pieces is not emitted, nor anything after it", () => {
    const r = run(["</end>"], ["Hello </", "e", "nd> world"].map(bytes));
    expect(r.stopped).toBe(true);
    expect(r.text).toBe("Hello ");
  });

  test("text that only looks like the start of a stop string is released when it diverges", () => {
    const r = run(["STOP"], ["ab", "ST", "OX", "yz"].map(bytes));
    expect(r.stopped).toBe(false);
    expect(r.out).toEqual(["ab", "", "STOX", "yz", ""]);
  });

  test("the earliest of several stop strings wins", () => {
    const r = run(["world", "lo w"], [bytes("Hello world")]);
    expect(r.text).toBe("Hel");
  });

  test("a partial stop at the very end is flushed when generation ends", () => {
    const r = run(["\n\n"], ["one", "\n"].map(bytes));
    expect(r.out).toEqual(["one", "", "\n"]);
    expect(r.stopped).toBe(false);
  });

  test("a stop string made of multi-byte characters split mid-character", () => {
    const all = bytes("答案：好");
    const r = run(["：好"], [all.subarray(0, 7), all.subarray(7, 10), all.subarray(10)]);
    expect(r.text).toBe("答案");
    expect(r.stopped).toBe(true);
  });

  test("empty stop strings are ignored", () => {
    expect(run([""], [bytes("abc")]).text).toBe("abc");
  });

  test("the stop string that matched is named (the earliest in the text, not in the list)", () => {
    const stream = new TextStream(["END", "\n"]);
    stream.push(bytes("one\ntwo END"));
    expect(stream.matched).toBe("\n");
    const none = new TextStream(["END"]);
    none.push(bytes("one"));
    none.flush();
    expect(none.matched).toBeNull();
  });
});

describe("pieces given as text (pushText)", () => {
  // A fixed-seed generator: the same pieces on every run.
  function* random(seed: number) {
    for (;;) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      yield seed / 2 ** 31;
    }
  }
  const wholeDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  const whole = (piece: Uint8Array) => {
    try {
      return wholeDecoder.decode(piece);
    } catch {
      return null;
    }
  };
  const texts = ["\uFEFFhello wörld", "a你好b🙂c</s>tail", "\uFEFF\uFEFFx", "é\uFEFFé", "plain ascii and a STOP here", "🙂🙂 <|im_end|> 你"];

  test("give, push for push, what the same bytes give (split characters, stops, byte order marks)", () => {
    const rng = random(7);
    let usedText = 0;
    let usedBytes = 0;
    for (const text of texts) {
      for (const stops of [[], ["STOP", "</s>"], ["<|im_end|>"]]) {
        for (let round = 0; round < 40; round++) {
          const all = bytes(text);
          const pieces: Uint8Array[] = [];
          for (let at = 0; at < all.length; ) {
            const n = 1 + Math.floor(rng.next().value! * 5);
            pieces.push(all.subarray(at, at + n));
            at += n;
          }
          const byBytes = new TextStream(stops);
          const byText = new TextStream(stops);
          const out: string[] = [];
          for (const piece of pieces) {
            const asText = byText.takesText ? whole(piece) : null;
            if (asText !== null) usedText++;
            else usedBytes++;
            const a = byBytes.push(piece);
            const b = asText !== null ? byText.pushText(asText) : byText.push(piece);
            expect({ text, stops, b }).toEqual({ text, stops, b: a });
            out.push(b.text);
            if (a.stopped) break;
          }
          const rest = byText.flush();
          expect(rest).toBe(byBytes.flush());
          // Without stops: exactly what one TextDecoder makes of all the bytes (a leading BOM dropped).
          if (stops.length === 0) expect(out.join("") + rest).toBe(new TextDecoder().decode(all));
        }
      }
    }
    // Both paths were taken, many times.
    expect(usedText).toBeGreaterThan(500);
    expect(usedBytes).toBeGreaterThan(500);
  });

  test("pushText while a character is pending is refused", () => {
    const stream = new TextStream();
    stream.push(bytes("你").subarray(0, 1));
    expect(stream.takesText).toBe(false);
    expect(() => stream.pushText("x")).toThrow();
    stream.push(bytes("你").subarray(1));
    stream.push(bytes("a"));
    expect(stream.takesText).toBe(true);
  });
});
