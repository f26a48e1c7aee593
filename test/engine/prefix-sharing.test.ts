// The prefix choices on their own: which free slot a prompt takes, which slot lends it KV, and
// which running prefill it waits for.
import { describe, expect, test } from "bun:test";
import { emptySlot, type ActiveJob, type Job, type Slot } from "../../src/engine/jobs.ts";
import { MIN_SHARED_PREFIX, commonPrefix, lender, pickSlot, prefillDonor, sharedWithRunning } from "../../src/engine/prefix-sharing.ts";
import { greedyRequest } from "./scheduler-driver.ts";

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

function slot(seq: number, cached: number[], lastUseTick = 0): Slot {
  return { ...emptySlot(seq), cached, lastUseTick };
}

function job(prompt: number[], cachePrompt = true): Job {
  return { id: "j", request: { ...greedyRequest("x", 4), cachePrompt }, prompt, maxTokens: 4, emit: () => {} };
}

/** A choice running in `s` whose prefill has reached `promptPos` (nextToken -1: still prefilling). */
function running(s: Slot, prompt: number[], promptPos: number, nextToken = -1): ActiveJob {
  const choice = { job: job(prompt), slot: s, promptPos, nextToken, donor: null } as unknown as ActiveJob;
  s.choice = choice;
  return choice;
}

describe("prefix sharing", () => {
  test("commonPrefix counts equal leading tokens", () => {
    expect(commonPrefix([1, 2, 3], [1, 2, 4])).toBe(2);
    expect(commonPrefix([1, 2], [1, 2, 3])).toBe(2);
    expect(commonPrefix([], [1])).toBe(0);
  });

  test("pickSlot takes the longest cached prefix, the least recently used on ties", () => {
    const prompt = range(0, 100);
    const a = slot(0, range(0, 10), 5);
    const b = slot(1, range(0, 60), 9);
    const c = slot(2, [], 1);
    expect(pickSlot([a, b, c], job(prompt)).seq).toBe(1);
    // Without prompt caching every slot shares nothing: the least recently used wins.
    expect(pickSlot([a, b, c], job(prompt, false)).seq).toBe(2);
  });

  test("lender: another slot with at least MIN_SHARED_PREFIX more, never the whole prompt", () => {
    const prompt = range(0, 200);
    const own = slot(0, range(0, 50));
    const close = slot(1, range(0, 50 + MIN_SHARED_PREFIX - 1));
    expect(lender([own, close], own, prompt, 50)).toBeNull();
    const far = slot(2, range(0, 300));
    const lent = lender([own, close, far], own, prompt, 50);
    expect(lent?.from.seq).toBe(2);
    // The last prompt token is decoded again for its logits.
    expect(lent?.len).toBe(199);
    // A slot that no longer holds the window before `len` (a sliding-window cache) lends nothing.
    const middle = slot(3, range(0, 120));
    const holdsWindow = (from: Slot) => from !== far;
    expect(lender([own, close, far, middle], own, prompt, 50, holdsWindow)?.from.seq).toBe(3);
    expect(lender([own, far], own, prompt, 50, holdsWindow)).toBeNull();
  });

  test("prefillDonor: a job still prefilling a long enough shared prefix, the longest one", () => {
    const prompt = range(0, 300);
    const a = slot(0, []);
    const b = slot(1, []);
    const c = slot(2, []);
    running(a, range(0, 100), 10);
    running(b, [...range(0, 250), 9999], 20);
    running(c, range(0, 280), 280, 7); // already generating: nothing left to wait for
    const donor = prefillDonor([a, b, c], prompt, 0);
    expect(donor?.choice.slot.seq).toBe(1);
    expect(donor?.upTo).toBe(250);
    // Less than MIN_SHARED_PREFIX beyond what the new job already holds is not worth the wait.
    expect(prefillDonor([a], prompt, 100 - MIN_SHARED_PREFIX + 1)).toBeNull();
    expect(prefillDonor([a], prompt, 100 - MIN_SHARED_PREFIX)?.upTo).toBe(100);
  });

  test("sharedWithRunning: the longest prefix any running job's prompt shares", () => {
    const a = slot(0, []);
    const b = slot(1, range(0, 500)); // idle: its cache is not a running job's prompt
    running(a, range(0, 40), 40, 1);
    expect(sharedWithRunning([a, b], range(0, 100))).toBe(40);
    expect(sharedWithRunning([b], range(0, 100))).toBe(0);
  });
});
