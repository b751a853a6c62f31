// Espruino DHT22 capture against a fake pinMode/digitalWrite/setWatch/clearWatch with a simulated sensor.
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import sinon from "sinon";
import { createDhtCapture, EspPinIo, EspWatchEvent } from "../../platform/espruino/dht22-capture";
import { decodeDht22 } from "../../sensors/dht22";
import { createDht22 } from "../../sensors/driver";
import { dht22Bytes, dht22Segments, Segment } from "../../emulator/sensor/wave";

type Watch = { fn: (e: EspWatchEvent) => void; pin: unknown; opts: { repeat: boolean; edge: string; debounce: number } };

/**
 * One pin with a DHT22 on it. Like Espruino, edges reach the watch later from a queue, stamped
 * with the time they happened (seconds); a released line answers with `answer` segments.
 */
function fakeBoard(answer: () => Segment[], skipEdges = 0) {
  const calls: string[] = [];
  const watches: { [id: number]: Watch } = {};
  let nextId = 1;
  let lowSinceMs = -1;
  const io: EspPinIo = {
    pinMode(pin, mode) {
      calls.push(`pinMode ${pin} ${mode}`);
      if (mode !== "input_pullup") return;
      const releasedMs = Date.now();
      calls.push(`low for ${releasedMs - lowSinceMs} ms`);
      // Edges of the answer: level changes from the idle-low start pulse; the line idles high after.
      const edges: EspWatchEvent[] = [];
      let t = releasedMs / 1000;
      let level = 0;
      for (const s of answer().concat([{ level: 1, us: 1e6 }])) {
        if (s.level !== level) edges.push({ state: s.level === 1, time: t });
        level = s.level;
        t += s.us / 1e6;
      }
      setTimeout(() => {
        for (const e of edges.slice(skipEdges)) for (const id of Object.keys(watches)) watches[+id].fn(e);
      }, 1);
    },
    digitalWrite(pin, value) {
      calls.push(`digitalWrite ${pin} ${value}`);
      if (value === 0) lowSinceMs = Date.now();
    },
    setWatch(fn, pin, opts) {
      calls.push(`setWatch ${pin} ${opts.edge} repeat=${opts.repeat} debounce=${opts.debounce}`);
      watches[nextId] = { fn, pin, opts };
      return nextId++;
    },
    clearWatch(id) {
      calls.push(`clearWatch ${id}`);
      delete watches[id as number];
    },
    setTimeout: (fn, ms) => setTimeout(fn, ms),
  };
  return { io, calls, watches };
}

describe("Espruino DHT22 capture", () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1000, toFake: ["setTimeout", "clearTimeout", "Date"] });
  });
  afterEach(() => clock.restore());

  const bytes = dht22Bytes(-7.3, 81.4);
  const want = { ok: true, temperature: -7.3, humidity: 81.4 };

  it("drives the start pulse as an output, watches both edges before releasing to input_pullup, clears the watch after the window", () => {
    const board = fakeBoard(() => dht22Segments(bytes, { releaseUs: 30 }));
    let got: number[] | null = null;
    createDhtCapture("D4", board.io).capture(2, 10, (h) => (got = h));
    clock.tick(11);
    assert.equal(got, null, "not before the window ends");
    clock.tick(1);
    assert.deepEqual(board.calls, [
      "pinMode D4 output",
      "digitalWrite D4 0",
      "setWatch D4 both repeat=true debounce=0",
      "pinMode D4 input_pullup",
      "low for 2 ms",
      "clearWatch 1",
    ]);
    assert.deepEqual(Object.keys(board.watches), []);
    assert.equal(got!.length, 42, "release high, response, 40 bits");
    assert.deepEqual(decodeDht22(got!), want);
  });

  it("measures widths to the microsecond from the edge times", () => {
    const board = fakeBoard(() => dht22Segments(bytes, { jitterUs: 15, rng: () => 0.25 }));
    let got: number[] = [];
    createDhtCapture("D4", board.io).capture(1, 10, (h) => (got = h));
    clock.tick(20);
    const highs = dht22Segments(bytes, { jitterUs: 15, rng: () => 0.25 }).filter((s) => s.level === 1).map((s) => s.us);
    assert.equal(got.length, highs.length);
    got.forEach((us, i) => assert.ok(Math.abs(us - highs[i]) <= 0.5 + 1e-6, `pulse ${i}: ${us} vs ${highs[i]}`));
    assert.deepEqual(decodeDht22(got), want);
  });

  it("drops a high whose rising edge it missed, so the frame still decodes", () => {
    // The watch misses the release high and the response's rising edge: its falling edge has no start.
    const board = fakeBoard(() => dht22Segments(bytes, { releaseUs: 30 }), 3);
    let got: number[] = [];
    createDhtCapture("D4", board.io).capture(1, 10, (h) => (got = h));
    clock.tick(20);
    assert.equal(got.length, 40, "release high and response lost");
    assert.deepEqual(decodeDht22(got), want);
  });

  it("answers an empty list when no sensor pulls the line (timeout), and caps a noisy line", () => {
    const silent = fakeBoard(() => [{ level: 1, us: 20000 }]);
    let got: number[] = [1];
    createDhtCapture("D4", silent.io).capture(1, 10, (h) => (got = h));
    clock.tick(20);
    assert.deepEqual(got, []);
    assert.deepEqual(decodeDht22(got), { ok: false, error: "timeout" });

    const noise: Segment[] = [];
    for (let i = 0; i < 2000; i++) noise.push({ level: (i & 1) as 0 | 1, us: 2 });
    const noisy = fakeBoard(() => noise);
    createDhtCapture("D4", noisy.io).capture(1, 10, (h) => (got = h));
    clock.tick(20);
    assert.equal(got.length, 48);
  });

  it("serves the driver end to end: retry after a silent try, 2 s later", () => {
    let n = 0;
    const board = fakeBoard(() => (n++ === 0 ? [{ level: 1, us: 20000 }] : dht22Segments(bytes, { releaseUs: 25, jitterUs: 10 })));
    const timers = { after: (ms: number, fn: () => void) => setTimeout(fn, ms) as unknown as number, cancel: () => {} };
    const hClock = { nowMs: () => Date.now(), synced: () => false, set: () => {}, uptimeMs: () => Date.now() - 1000 };
    const got: unknown[] = [];
    createDht22(createDhtCapture("D5", board.io), timers, hClock).read((r) => got.push(r));
    clock.tick(1000);
    assert.deepEqual(got, []);
    clock.tick(2000);
    assert.deepEqual(got, [{ ok: true, temperature: -7.3, humidity: 81.4, tries: 2, checksumErrors: 0 }]);
    assert.equal(board.calls.filter((c) => c.startsWith("clearWatch")).length, 2);
  });

  it("does not use Espruino's DHT22 module", () => {
    const src = readFileSync(require.resolve("../../platform/espruino/dht22-capture"), "utf8");
    assert.doesNotMatch(src, /require\(/);
  });
});
