// The struct layouts TypeScript writes must be the compiler's, or memory is corrupted silently.
import { expect, test } from "bun:test";
import { cString } from "../../src/llama/cstring.ts";
import { layout } from "../../src/llama/layout.ts";
import { native } from "../../src/llama/library.ts";

test("every TypeScript struct offset and size equals the C compiler's", () => {
  const { shim } = native();
  for (const [key, value] of Object.entries(layout)) {
    const compiler = shim.hearth_layout(cString(key));
    expect({ key, value: compiler }).toEqual({ key, value });
  }
});

test("an unknown layout key is reported, not guessed", () => {
  expect(native().shim.hearth_layout(cString("no_such_struct.size"))).toBe(-1);
});
