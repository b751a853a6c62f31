// DHT22 driver on fake HAL capture/timers/clock under sinon fake timers: spacing, retries, final error.
import { strict as assert } from "node:assert";
import sinon from "sinon";
import { createDht22, DhtRead } from "../../sensors/driver";
import type { Clock, PulseCapture, Timers } from "../../platform/hal";
import { dht22Bytes, dht22HighUs } from "../../emulator/sensor/wave";

const GOOD = dht22HighUs(dht22Bytes(21.5, 40.2));
const BAD_SUM = (() => {
  const b = dht22Bytes(21.5, 40.2);
  b[4] ^= 1;
  return dht22HighUs(b);
})();

describe("DHT22 driver", () => {
  let clock: sinon.SinonFakeTimers;
  let timers: Timers;
  let hClock: Clock;
  let captures: { atMs: number; startLowMs: number; windowMs: number }[];
  let answers: number[][];

  /** A line that answers each capture with the next scripted pulse list after the window. */
  const capture: PulseCapture = {
    capture(startLowMs, windowMs, done) {
      captures.push({ atMs: clock.now, startLowMs, windowMs });
      const highs = answers.length ? answers.shift()! : [];
      setTimeout(() => done(highs), startLowMs + windowMs);
    },
  };

  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 0, toFake: ["setTimeout", "clearTimeout", "Date"] });
    timers = { after: (ms, fn) => setTimeout(fn, ms) as unknown as number, cancel: (id) => clearTimeout(id) };
    hClock = { nowMs: () => clock.now, synced: () => false, set: () => {}, uptimeMs: () => clock.now };
    captures = [];
    answers = [];
  });
  afterEach(() => clock.restore());

  function readNow(dht: ReturnType<typeof createDht22>): DhtRead[] {
    const got: DhtRead[] = [];
    dht.read((r) => got.push(r));
    return got;
  }

  it("reads once with a start pulse of at least 1 ms and a window long enough for 40 bits", () => {
    answers = [GOOD];
    const got = readNow(createDht22(capture, timers, hClock));
    clock.tick(50);
    assert.equal(captures.length, 1);
    assert.ok(captures[0].startLowMs >= 1);
    assert.ok(captures[0].windowMs >= 5 && captures[0].windowMs < 100);
    assert.deepEqual(got, [{ ok: true, temperature: 21.5, humidity: 40.2, tries: 1, checksumErrors: 0 }]);
  });

  it("retries failed captures 2 s apart and counts checksum errors", () => {
    answers = [BAD_SUM, [], GOOD];
    const got = readNow(createDht22(capture, timers, hClock));
    clock.tick(1999);
    assert.equal(captures.length, 1, "no second capture before 2 s");
    clock.tick(10000);
    assert.deepEqual(captures.map((c) => c.atMs), [0, 2000, 4000]);
    assert.deepEqual(got, [{ ok: true, temperature: 21.5, humidity: 40.2, tries: 3, checksumErrors: 1 }]);
  });

  it("reports the final error when every try fails, and stops trying", () => {
    answers = [BAD_SUM, GOOD.slice(0, 20), []];
    const got = readNow(createDht22(capture, timers, hClock, { tries: 3 }));
    clock.tick(60000);
    assert.equal(captures.length, 3);
    assert.deepEqual(got, [{ ok: false, error: "timeout", tries: 3, checksumErrors: 1 }]);
  });

  it("keeps 2 s between captures across separate reads and never goes below it", () => {
    answers = [GOOD, GOOD, GOOD];
    const dht = createDht22(capture, timers, hClock, { minIntervalMs: 500 });
    const first = readNow(dht);
    clock.tick(20);
    assert.equal(first.length, 1);
    const second = readNow(dht);
    clock.tick(1900);
    assert.equal(second.length, 0, "waits for the sensor");
    clock.tick(200);
    assert.equal(second.length, 1);
    clock.tick(5000);
    readNow(dht);
    clock.tick(20);
    assert.deepEqual(captures.map((c) => c.atMs), [0, 2000, 7120]);
  });

  it("answers calls made during a read with that read's result, from one capture", () => {
    answers = [GOOD];
    const dht = createDht22(capture, timers, hClock);
    const a = readNow(dht);
    const b = readNow(dht);
    clock.tick(50);
    assert.equal(captures.length, 1);
    assert.equal(a.length, 1);
    assert.deepEqual(b, a);
  });

  it("holds the spacing under reads at random times, including reads started from a callback", () => {
    const dht = createDht22(capture, timers, hClock, { tries: 2 });
    let reads = 0;
    for (let i = 0; i < 40; i++) {
      answers.push(i % 3 ? GOOD : []);
      setTimeout(() => dht.read(() => reads++), Math.floor(i * 977 + (i % 7) * 300));
    }
    dht.read(() => dht.read(() => reads++));
    clock.tick(200000);
    assert.ok(reads >= 41, `reads ${reads}`);
    for (let i = 1; i < captures.length; i++) assert.ok(captures[i].atMs - captures[i - 1].atMs >= 2000, `capture ${i}`);
  });
});
