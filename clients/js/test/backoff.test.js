// The delays between reconnection attempts.

import assert from "node:assert/strict";
import { test } from "node:test";

import { Backoff, DEFAULT_BACKOFF } from "../src/backoff.js";

/** The first `n` delays of `backoff`. */
function delays(backoff, n) {
  return Array.from({ length: n }, () => backoff.next());
}

test("grows by the factor up to the cap", () => {
  const backoff = new Backoff({ initialMs: 100, maxMs: 1_000, factor: 3, jitter: 0 });
  assert.deepEqual(delays(backoff, 5), [100, 300, 900, 1_000, 1_000]);
});

test("starts again after a reset", () => {
  const backoff = new Backoff({ initialMs: 10, maxMs: 1_000, factor: 2, jitter: 0 });
  delays(backoff, 4);
  backoff.reset();
  assert.deepEqual(delays(backoff, 2), [10, 20]);
});

test("jitter takes up to its share off each delay", () => {
  const lowest = new Backoff({ initialMs: 1_000, maxMs: 8_000, factor: 2, jitter: 0.25 }, () => 0.999999);
  assert.deepEqual(delays(lowest, 4), [750, 1_500, 3_000, 6_000]);
  const highest = new Backoff({ initialMs: 1_000, maxMs: 8_000, factor: 2, jitter: 0.25 }, () => 0);
  assert.deepEqual(delays(highest, 4), [1_000, 2_000, 4_000, 8_000]);
});

test("stays finite however long it goes on", () => {
  const backoff = new Backoff({ initialMs: 1, maxMs: 5_000, factor: 10, jitter: 0 });
  assert.equal(delays(backoff, 2_000).at(-1), 5_000);
  const zero = new Backoff({ initialMs: 0, maxMs: 0, jitter: 0 });
  assert.equal(delays(zero, 2_000).at(-1), 0);
});

test("the defaults", () => {
  assert.deepEqual({ ...DEFAULT_BACKOFF }, { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5 });
  const backoff = new Backoff({}, () => 0);
  assert.deepEqual(delays(backoff, 8), [500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
});

test("options out of range are refused, by name", () => {
  assert.throws(() => new Backoff({ factor: 0.5 }), /backoff\.factor/);
  assert.throws(() => new Backoff({ jitter: 1.5 }), /backoff\.jitter/);
  assert.throws(() => new Backoff({ initialMs: 100, maxMs: 50 }), /backoff\.maxMs/);
  assert.throws(() => new Backoff({ initialMs: "5" }), /backoff\.initialMs/);
  assert.throws(() => new Backoff({ maxMs: 2 ** 31 }), /backoff\.maxMs/);
});
