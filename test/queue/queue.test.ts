// Flash-backed reading queue: framing, persistence, torn writes, budget eviction, erase of
// delivered segments, flash bytes per reading, and time fix-up of readings taken before sync.
import { strict as assert } from "assert";
import { check16, frame, openQueue, unframe } from "../../firmware/queue";
import * as Q from "../../firmware/queue";
import { MIN_EPOCH_MS, resolveMs } from "../../firmware/timefix";
import { FakeClock, FakeStore, PowerLoss } from "./fakes";

const WALL = 1767225600000; // 2026-01-01

function synced(): FakeClock {
  const c = new FakeClock();
  c.set(WALL);
  return c;
}

describe("queue framing", function () {
  it("check16 is Fletcher-16 (published vectors: abcde c8f0, abcdef 2057, abcdefgh 0627)", function () {
    assert.equal(check16("abcde"), "c8f0");
    assert.equal(check16("abcdef"), "2057");
    assert.equal(check16("abcdefgh"), "0627");
  });

  it("a line is \\n + body + * + check; every prefix of a line fails, the next line still parses", function () {
    const a = frame("12,,1767225600000,{\"temperature\":21.5}");
    const b = frame("13,,1767225660000,{\"temperature\":21.6}");
    assert.equal(a.charAt(0), "\n");
    for (let n = 1; n < a.length; n++) {
      const bad = [0];
      const got = unframe(a.substr(0, n) + b, bad);
      assert.deepEqual(got, [b.substr(1, b.length - 6)], "prefix " + n);
    }
  });
});

describe("queue", function () {
  it("keeps readings across a reboot with the id and time given at enqueue", function () {
    const store = new FakeStore();
    const clock = synced();
    let q = openQueue(store, clock, { budgetBytes: 8192, segmentBytes: 1024 });
    const r1 = Q.push(q, { temperature: 21.5, humidity: 40 });
    clock.up += 60000;
    const r2 = Q.push(q, { temperature: -3.2, humidity: 99.9 });
    assert.ok(r1 && r2);
    assert.equal(r1.timeMs, WALL);
    q = openQueue(store, new FakeClock(), { budgetBytes: 8192, segmentBytes: 1024 });
    const p = Q.pending(q, 10);
    assert.deepEqual(p.map((r) => [r.id, r.timeMs, r.params.temperature, r.params.humidity]), [
      [r1.id, WALL, 21.5, 40],
      [r2.id, WALL + 60000, -3.2, 99.9],
    ]);
    assert.notEqual(r1.id, r2.id);
  });

  it("takes Alink ids from opts.nextId when given", function () {
    const store = new FakeStore();
    let n = 500;
    const q = openQueue(store, synced(), { budgetBytes: 8192, segmentBytes: 1024, nextId: () => String(n++) });
    Q.push(q, { temperature: 1 });
    Q.push(q, { temperature: 2 });
    assert.deepEqual(Q.pending(q, 5).map((r) => r.id), ["500", "501"]);
  });

  it("refuses non-finite values instead of storing them", function () {
    const q = openQueue(new FakeStore(), synced(), { budgetBytes: 8192, segmentBytes: 1024 });
    assert.equal(Q.push(q, { temperature: NaN }), null);
    assert.equal(Q.push(q, { temperature: Infinity }), null);
    assert.equal(Q.depth(q), 0);
  });

  it("a torn append loses only that reading; older and later ones survive, the torn line is counted", function () {
    const store = new FakeStore();
    const clock = synced();
    let q = openQueue(store, clock, { budgetBytes: 8192, segmentBytes: 4096 });
    for (let i = 0; i < 3; i++) Q.push(q, { humidity: i });
    store.cutAt(1, 0.5);
    assert.throws(() => Q.push(q, { humidity: 3 }), PowerLoss);
    store.reboot();
    q = openQueue(store, clock, { budgetBytes: 8192, segmentBytes: 4096 });
    assert.equal(Q.health(q).corrupt, 1);
    Q.push(q, { humidity: 4 });
    Q.push(q, { humidity: 5 });
    q = openQueue(store, clock, { budgetBytes: 8192, segmentBytes: 4096 });
    assert.deepEqual(Q.pending(q, 10).map((r) => r.params.humidity), [0, 1, 2, 4, 5]);
    const ids = Q.pending(q, 10).map((r) => r.id);
    assert.equal(new Set(ids).size, 5);
  });

  it("over budget: the oldest segment is evicted and counted, the newest readings are kept", function () {
    const store = new FakeStore();
    const clock = synced();
    const opts = { budgetBytes: 2048, segmentBytes: 512 };
    let q = openQueue(store, clock, opts);
    for (let i = 1; i <= 300; i++) assert.ok(Q.push(q, { temperature: 20.5, humidity: i }));
    const h = Q.health(q);
    assert.ok(h.evicted > 0);
    assert.equal(h.depth + h.evicted, 300);
    assert.ok(store.size("q.") <= 2048, "stored " + store.size("q."));
    assert.equal(h.bytes, store.size("q."));
    const p = Q.pending(q, 1000);
    assert.equal(p[p.length - 1].params.humidity, 300);
    assert.equal(p[0].params.humidity, h.evicted + 1, "oldest kept follows the evicted ones");
    q = openQueue(store, clock, opts);
    assert.equal(Q.health(q).evicted, h.evicted, "evicted count survives a reboot");
    assert.equal(Q.depth(q), h.depth);
  });

  it("erases delivered segments whole and keeps only the newest one; ids keep rising after a reboot", function () {
    const store = new FakeStore();
    const clock = synced();
    const opts = { budgetBytes: 16384, segmentBytes: 512 };
    let q = openQueue(store, clock, opts);
    for (let i = 0; i < 60; i++) Q.push(q, { temperature: 20, humidity: i });
    assert.ok(store.list("q.s").length > 3);
    const all = Q.pending(q, 100);
    Q.ack(q, all);
    assert.equal(Q.depth(q), 0);
    assert.equal(store.list("q.s").length, 1);
    q = openQueue(store, clock, opts);
    assert.equal(Q.depth(q), 0);
    const next = Q.push(q, { temperature: 1 });
    assert.ok(next && +next.id > +all[all.length - 1].id);
    assert.ok(store.list("q.s").length <= 2);
  });

  it("acks out of order (realtime newest first) leave exactly the unsent ones", function () {
    const store = new FakeStore();
    const clock = synced();
    let q = openQueue(store, clock, { budgetBytes: 8192, segmentBytes: 1024 });
    const recs = [];
    for (let i = 0; i < 6; i++) recs.push(Q.push(q, { humidity: i })!);
    Q.ack(q, [recs[5]]);
    Q.ack(q, [recs[1], recs[2]]);
    q = openQueue(store, clock, { budgetBytes: 8192, segmentBytes: 1024 });
    assert.deepEqual(Q.pending(q, 10).map((r) => r.params.humidity), [0, 3, 4]);
  });

  it("flash wear: bytes written per reading (realtime: ack each; batch of 6: ack per 6)", function () {
    const perReading: { [mode: string]: number } = {};
    for (const batch of [1, 6]) {
      const store = new FakeStore();
      const clock = synced();
      const q = openQueue(store, clock, { budgetBytes: 16384, segmentBytes: 2048 });
      const n = 600;
      for (let i = 0; i < n; i++) {
        clock.up += 60000;
        Q.push(q, { temperature: 21.5 + (i % 10) / 10, humidity: 45.5 });
        if (Q.depth(q) < batch) continue;
        // as delivery does: the in-flight record (posts of more than one reading only), then the ack
        const recs = Q.pending(q, batch);
        Q.begin(q, recs);
        Q.ack(q, recs);
      }
      perReading[batch] = store.bytesWritten / n;
    }
    console.log("      flash bytes written per reading: realtime " + perReading[1].toFixed(1) + ", batch of 6 " + perReading[6].toFixed(1));
    assert.ok(perReading[1] < 80, "realtime " + perReading[1]);
    assert.ok(perReading[6] < 68, "batch " + perReading[6]);
    assert.ok(perReading[6] < perReading[1]);
  });
});

describe("time fix-up", function () {
  it("resolveMs never yields a time before 2020", function () {
    assert.equal(resolveMs("5000", -1), 0);
    assert.equal(resolveMs("u5000", -1), 0);
    assert.equal(resolveMs("u5000", 1000), 0);
    assert.equal(resolveMs("u5000", WALL), WALL + 5000);
    assert.equal(resolveMs(String(MIN_EPOCH_MS), -1), MIN_EPOCH_MS);
  });

  it("readings taken before sync get wall times from their uptime once the clock syncs, also after a reboot", function () {
    const store = new FakeStore();
    const clock = new FakeClock();
    let q = openQueue(store, clock, { budgetBytes: 8192, segmentBytes: 1024 });
    for (let i = 1; i <= 3; i++) {
      clock.up = i * 1000;
      const r = Q.push(q, { humidity: i })!;
      assert.equal(r.timeMs, 0);
      assert.equal(r.awaitingTime, true);
    }
    assert.deepEqual(Q.pending(q, 5).map((r) => r.awaitingTime), [true, true, true]);
    clock.up = 4000;
    clock.set(WALL);
    const fixed = [WALL - 3000, WALL - 2000, WALL - 1000];
    assert.deepEqual(Q.pending(q, 5).map((r) => r.timeMs), fixed);
    q = openQueue(store, new FakeClock(), { budgetBytes: 8192, segmentBytes: 1024 });
    assert.deepEqual(Q.pending(q, 5).map((r) => r.timeMs), fixed);
  });

  it("a reading whose boot never synced has no time (0), is not awaiting, and is never 1970", function () {
    const store = new FakeStore();
    const clock = new FakeClock();
    clock.up = 1234;
    Q.push(openQueue(store, clock, { budgetBytes: 8192, segmentBytes: 1024 }), { humidity: 1 });
    const clock2 = new FakeClock();
    clock2.up = 10;
    clock2.set(WALL);
    const q = openQueue(store, clock2, { budgetBytes: 8192, segmentBytes: 1024 });
    const p = Q.pending(q, 5);
    assert.equal(p[0].timeMs, 0);
    assert.equal(p[0].awaitingTime, false);
  });

  it("the fix spans segments", function () {
    const store = new FakeStore();
    const clock = new FakeClock();
    const q = openQueue(store, clock, { budgetBytes: 16384, segmentBytes: 256 });
    for (let i = 1; i <= 20; i++) {
      clock.up = i * 1000;
      Q.push(q, { humidity: i });
    }
    assert.ok(store.list("q.s").length > 2);
    clock.up = 21000;
    clock.set(WALL);
    const p = Q.pending(q, 50);
    assert.equal(p.length, 20);
    p.forEach((r, i) => assert.equal(r.timeMs, WALL - 21000 + (i + 1) * 1000));
  });
});
