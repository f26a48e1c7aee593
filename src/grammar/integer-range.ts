// GBNF for the decimal integers within bounds, as JSON writes them (no leading zeros, "-" for
// negatives, never "-0"). Digit strings are split by length and then by leading digit, so the
// grammar stays linear in the number of digits.

const MAX_DIGITS = 16; // JSON numbers past 2^53 lose precision anyway

const digits = (lo: number, hi: number) => (lo === hi ? `[${lo}]` : lo === 0 && hi === 9 ? "[0-9]" : `[${lo}-${hi}]`);

/** Digit strings of exactly the same length, lo..hi inclusive (both as strings, lo ≤ hi). */
function sameLength(lo: string, hi: string): string[] {
  if (lo.length === 1) return [digits(+lo, +hi)];
  const [l0, h0] = [+lo[0]!, +hi[0]!];
  const [lRest, hRest] = [lo.slice(1), hi.slice(1)];
  if (l0 === h0) return sameLength(lRest, hRest).map(r => `[${l0}] ${r}`);
  const n = lRest.length;
  const out: string[] = [];
  const lowFull = /^0*$/.test(lRest);
  const highFull = /^9*$/.test(hRest);
  const midLo = lowFull ? l0 : l0 + 1;
  const midHi = highFull ? h0 : h0 - 1;
  if (!lowFull) out.push(...sameLength(lRest, "9".repeat(n)).map(r => `[${l0}] ${r}`));
  if (midLo <= midHi) out.push(`${digits(midLo, midHi)} [0-9]{${n}}`);
  if (!highFull) out.push(...sameLength("0".repeat(n), hRest).map(r => `[${h0}] ${r}`));
  return out;
}

/** Alternatives for non-negative integers lo..hi (hi = Infinity: no upper bound). */
function nonNegative(lo: number, hi: number): string[] {
  const out: string[] = [];
  const loLen = String(lo).length;
  const hiLen = hi === Infinity ? MAX_DIGITS : String(hi).length;
  for (let len = loLen; len <= hiLen; len++) {
    const first = len === 1 ? 0 : 10 ** (len - 1);
    const last = 10 ** len - 1;
    const a = Math.max(lo, first);
    const b = Math.min(hi, last);
    if (a > b) continue;
    if (a === first && b === last && len > 1) out.push(`[1-9] [0-9]{${len - 1}}`);
    else out.push(...sameLength(String(a), String(b)));
  }
  return out;
}

/** A GBNF expression for the integers min..max (either may be ±Infinity). */
export function integerRange(min: number, max: number): string {
  if (!(min <= max)) throw new RangeError(`empty integer range ${min}..${max}`);
  const alts: string[] = [];
  if (min < 0) {
    // -|x| for x in max(1, -max)..-min
    const absLo = max < 0 ? -max : 1;
    for (const a of nonNegative(absLo, -min)) alts.push(`"-" ${a}`);
  }
  if (max >= 0) alts.push(...nonNegative(Math.max(0, min), max));
  return alts.length === 1 ? alts[0]! : `(${alts.join(" | ")})`;
}
