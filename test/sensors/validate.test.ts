// Reading filters and sensor health: thing-model range, rate of change, chain, median, counters.
import { strict as assert } from "node:assert";
import { chain, createHealth, median, modelRange, rateCheck, readMedian, RateState } from "../../sensors/validate";
import type { DhtResult } from "../../sensors/dht22";

const ok = (temperature: number, humidity: number): DhtResult => ({ ok: true, temperature, humidity });
const MIN = 60000;

describe("sensor validation", () => {
  it("modelRange keeps temperature -50..100 and humidity 0..100, rejects the rest and NaN", () => {
    for (const [t, h] of [[-50, 0], [100, 100], [21.3, 45]]) assert.deepEqual(modelRange(ok(t, h)), ok(t, h));
    for (const [t, h] of [[-50.1, 50], [100.1, 50], [20, -0.1], [20, 100.1], [NaN, 50], [20, NaN]]) {
      assert.deepEqual(modelRange(ok(t, h)), { ok: false, error: "model-range" }, `${t} ${h}`);
    }
    assert.deepEqual(modelRange({ ok: false, error: "checksum" }), { ok: false, error: "checksum" });
  });

  it("rateCheck rejects a jump the air cannot make and allows more as time passes", () => {
    const f = rateCheck({ tempC: 2, tempCPerMin: 1, humRh: 5, humRhPerMin: 5 });
    assert.ok(f(ok(20, 50), 0).ok);
    assert.deepEqual(f(ok(30, 50), MIN), { ok: false, error: "rate" }, "10 °C in a minute");
    assert.deepEqual(f(ok(20, 70), MIN), { ok: false, error: "rate" }, "20 %RH in a minute");
    assert.ok(f(ok(22.9, 59.9), MIN).ok, "within 3 °C and 10 %RH after a minute");
    assert.ok(f(ok(32, 59.9), 10 * MIN).ok, "9.1 °C after 9 more minutes (allowed 11)");
  });

  it("rateCheck takes a level that keeps coming back after maxRejects, so a bad baseline cannot lock it out", () => {
    const f = rateCheck({ maxRejects: 2 });
    assert.ok(f(ok(-40, 0), 0).ok, "a bad first value");
    assert.equal(f(ok(21, 45), 1000).ok, false);
    assert.equal(f(ok(21, 45), 2000).ok, false);
    assert.ok(f(ok(21.1, 45), 3000).ok, "third time accepted");
    assert.equal(f(ok(-40, 0), 4000).ok, false, "and the new baseline holds");
  });

  it("rateCheck keeps its baseline and rejection count in the caller's state, so a restored state checks as if never lost", () => {
    const state: RateState = { last: null, rejects: 0 };
    const f = rateCheck({}, state);
    assert.ok(f(ok(20, 50), 0).ok);
    assert.deepEqual(state, { last: { t: 20, h: 50, atMs: 0 }, rejects: 0 });
    assert.deepEqual(f(ok(43.9, 50), MIN), { ok: false, error: "rate" });
    assert.deepEqual(state, { last: { t: 20, h: 50, atMs: 0 }, rejects: 1 }, "a rejection keeps the baseline and counts");
    // A new filter (after a reboot) on a copy of that state, on another time base: same baseline 2 min back.
    const g = rateCheck({}, { last: { t: 20, h: 50, atMs: -2 * MIN + 500 }, rejects: 1 });
    assert.deepEqual(g(ok(24.1, 50), 500), { ok: false, error: "rate" }, "4.1 °C after 2 min (allowed 4)");
    assert.ok(g(ok(23.9, 50), 500).ok, "3.9 °C after 2 min");
    const h = rateCheck({}, { last: { t: 20, h: 50, atMs: 0 }, rejects: 3 });
    assert.ok(h(ok(43.9, 50), MIN).ok, "3 rejections carried over: the escape takes the next reading");
  });

  it("chain runs filters in order and stops at the first error", () => {
    let calls = 0;
    const count = (r: DhtResult) => (calls++, r);
    const f = chain([modelRange, count, rateCheck()]);
    assert.deepEqual(f(ok(120, 50), 0), { ok: false, error: "model-range" });
    assert.equal(calls, 0);
    assert.deepEqual(f(ok(21, 50), 0), ok(21, 50));
    assert.equal(calls, 1);
  });

  it("median takes the middle value (mean of the two middle ones) at 0.1 resolution", () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([21.3, 85, 21.4, 21.2, -40]), 21.3);
    assert.equal(median([21.3, 21.4]), 21.4, "21.35 rounds to 21.4");
    assert.equal(median([1, 2, 3, 4]), 2.5);
    // -3.75: halves away from zero, as Espruino's Math.round does (V8's gives -3.7)
    assert.equal(median([-3.7, -3.8]), -3.8);
  });

  it("readMedian reads n times, drops failures, needs a majority of good reads", () => {
    const script: DhtResult[] = [ok(21, 40), { ok: false, error: "checksum" }, ok(80, 0), { ok: false, error: "short" }, ok(21.1, 42)];
    let reads = 0;
    const read = (cb: (r: DhtResult) => void) => cb(script[reads++]);
    let got: DhtResult | null = null;
    readMedian(read, 5, (r) => (got = r));
    assert.equal(reads, 5);
    assert.deepEqual(got, ok(21.1, 40), "per channel: 21, 21.1, 80 and 0, 40, 42");

    const bad: DhtResult[] = [ok(21, 40), { ok: false, error: "checksum" }, { ok: false, error: "timeout" }];
    reads = 0;
    readMedian((cb) => cb(bad[reads++]), 3, (r) => (got = r));
    assert.deepEqual(got, { ok: false, error: "timeout" });
  });

  it("health counts consecutive failures, checksum errors (including retried ones) and the age of the last good reading", () => {
    const h = createHealth();
    assert.deepEqual(h.report(5000), { consecutiveFailures: 0, failures: 0, checksumErrors: 0, lastGoodAgeSec: null, lastError: "" });
    h.record({ ok: true, temperature: 20, humidity: 50, checksumErrors: 2 } as DhtResult & { checksumErrors: number }, 10000);
    h.record({ ok: false, error: "checksum" }, 20000);
    h.record({ ok: false, error: "timeout" }, 30000);
    assert.deepEqual(h.report(70500), { consecutiveFailures: 2, failures: 2, checksumErrors: 3, lastGoodAgeSec: 60, lastError: "timeout" });
    h.record(ok(21, 50), 80000);
    assert.deepEqual(h.report(80000), { consecutiveFailures: 0, failures: 2, checksumErrors: 3, lastGoodAgeSec: 0, lastError: "" });
  });

  it("health goes on from the failures in a row a previous boot counted, until a good reading", () => {
    const h = createHealth(4);
    assert.equal(h.report(0).consecutiveFailures, 4);
    h.record({ ok: false, error: "timeout" }, 1000);
    assert.equal(h.report(1000).consecutiveFailures, 5);
    h.record(ok(21, 50), 2000);
    assert.equal(h.report(2000).consecutiveFailures, 0);
  });
});
