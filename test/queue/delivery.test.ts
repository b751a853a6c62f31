// Delivery over the IoT client contract: realtime property posts with fallback to the queue,
// batch history posts split to 200 properties, backlog oldest first, same id and time on resend,
// and a reading refused for good isolated and dropped. Payloads are checked against the Alink
// shapes of the platform docs (method, topic, params.properties[].name.{value,time}).
import { strict as assert } from "assert";
import { createDelivery, FlushResult } from "../../firmware/delivery";
import { openQueue } from "../../firmware/queue";
import * as Q from "../../firmware/queue";
import { FakeClock, FakePlatform, FakeStore, PowerLoss } from "./fakes";

const WALL = 1767225600000;
const PK = "a1pk";
const DN = "dev1";

function setup(mode: string, batchSize: number, maxPosts?: number) {
  const store = new FakeStore();
  const clock = new FakeClock();
  clock.set(WALL);
  const queue = openQueue(store, clock, { budgetBytes: 65536, segmentBytes: 4096 });
  const cloud = new FakePlatform();
  const d = createDelivery(cloud, queue, { productKey: PK, deviceName: DN, mode, batchSize, maxPostsPerCycle: maxPosts || 4 });
  return { store, clock, queue, cloud, d };
}

function flushSync(d: { flush: (r: ReturnType<typeof Q.push>, done: (x: FlushResult) => void) => void }, rec: ReturnType<typeof Q.push>): FlushResult {
  let out: FlushResult | null = null;
  d.flush(rec, (r) => (out = r));
  assert.ok(out, "flush answered synchronously with a synchronous client");
  return out!;
}

describe("delivery", function () {
  it("realtime: one property post per reading, with its time, on the property topic", function () {
    const s = setup("realtime", 1);
    const rec = Q.push(s.queue, { temperature: 23.5, humidity: 61 });
    const r = flushSync(s.d, rec);
    assert.deepEqual([r.posts, r.delivered, r.depth, r.code], [1, 1, 0, 0]);
    const b = s.cloud.bodies[0];
    assert.equal(b.topic, "/sys/a1pk/dev1/thing/event/property/post");
    const m = JSON.parse(b.body);
    assert.equal(m.method, "thing.event.property.post");
    assert.equal(m.id, rec!.id);
    assert.deepEqual(m.params, { temperature: { value: 23.5, time: WALL }, humidity: { value: 61, time: WALL } });
    assert.ok(b.body.indexOf('"value":61.0') > 0, "FLOAT with a decimal point");
  });

  it("realtime: a failed post leaves the reading queued; next cycle sends the fresh one first, then the backlog oldest first", function () {
    const s = setup("realtime", 1);
    s.cloud.down = true;
    for (let i = 0; i < 3; i++) {
      s.clock.up += 60000;
      const r = flushSync(s.d, Q.push(s.queue, { humidity: i }));
      assert.deepEqual([r.posts, r.delivered, r.code], [1, 0, -1]);
    }
    assert.equal(Q.depth(s.queue), 3);
    s.cloud.down = false;
    s.clock.up += 60000;
    const r = flushSync(s.d, Q.push(s.queue, { humidity: 3 }));
    assert.deepEqual([r.posts, r.delivered, r.depth], [2, 4, 0]);
    assert.equal(s.cloud.bodies[1].topic, "/sys/a1pk/dev1/thing/event/property/history/post");
    assert.deepEqual(s.cloud.seen.map((x) => x.values.humidity), [3, 0, 1, 2]);
    assert.deepEqual(s.cloud.seen.map((x) => x.time), [WALL + 240000, WALL + 60000, WALL + 120000, WALL + 180000]);
    const h = JSON.parse(s.cloud.bodies[1].body);
    assert.equal(h.method, "thing.event.property.history.post");
    assert.deepEqual(h.params[0].identity, { productKey: PK, deviceName: DN });
  });

  it("batch: nothing until N readings wait, then one history post carries all N", function () {
    const s = setup("batch", 6);
    for (let i = 0; i < 5; i++) {
      s.clock.up += 600000;
      assert.equal(flushSync(s.d, Q.push(s.queue, { temperature: 20 + i, humidity: 50 })).posts, 0);
    }
    s.clock.up += 600000;
    const r = flushSync(s.d, Q.push(s.queue, { temperature: 25, humidity: 50 }));
    assert.deepEqual([r.posts, r.delivered, r.depth], [1, 6, 0]);
    const m = JSON.parse(s.cloud.bodies[0].body);
    assert.equal(m.params[0].properties.length, 6);
    assert.deepEqual(s.cloud.seen.map((x) => x.time), [1, 2, 3, 4, 5, 6].map((k) => WALL + k * 600000));
  });

  it("a backlog drains oldest first in posts of at most 200 properties, a few posts per cycle", function () {
    const s = setup("batch", 6, 2);
    s.cloud.down = true;
    for (let i = 0; i < 450; i++) {
      s.clock.up += 60000;
      flushSync(s.d, Q.push(s.queue, { temperature: 21.5, humidity: i }));
    }
    s.cloud.down = false;
    const r1 = flushSync(s.d, Q.push(s.queue, { temperature: 21.5, humidity: 450 }));
    // The post tried when the outage began (6 readings, outcome unknown) goes again as it was, then 100.
    assert.deepEqual([r1.posts, r1.delivered, r1.depth], [2, 106, 345]);
    assert.equal(JSON.parse(s.cloud.bodies[0].body).params[0].properties.length, 6);
    for (const b of s.cloud.bodies) {
      let props = 0;
      for (const e of JSON.parse(b.body).params[0].properties) props += Object.keys(e).length;
      assert.ok(props <= 200, "props " + props);
      assert.ok(b.body.length <= 131072);
    }
    flushSync(s.d, Q.push(s.queue, { temperature: 21.5, humidity: 451 }));
    flushSync(s.d, null);
    assert.equal(Q.depth(s.queue), 0);
    assert.deepEqual(s.cloud.seen.map((x) => x.values.humidity), Array.from({ length: 452 }, (_, i) => i));
  });

  it("a resend after an unknown outcome carries the same id, times and body", function () {
    const s = setup("batch", 3);
    s.cloud.script.push({ ok: false, code: -3, error: "timeout", retryInMs: 1000 });
    for (let i = 0; i < 3; i++) {
      s.clock.up += 60000;
      Q.push(s.queue, { humidity: i });
    }
    const sent: string[] = [];
    const spy = s.cloud.publish.bind(s.cloud);
    s.cloud.publish = (t, p, cb) => {
      sent.push(p);
      spy(t, p, cb);
    };
    assert.equal(flushSync(s.d, null).delivered, 0);
    s.clock.up += 5000;
    assert.equal(flushSync(s.d, null).delivered, 3);
    assert.equal(sent.length, 2);
    assert.equal(sent[0], sent[1]);
  });

  it("a resend after an unknown outcome is the same post byte for byte even when readings were queued since; they follow in a post of their own id", function () {
    const s = setup("batch", 3);
    const ids: string[] = [];
    let n = 100;
    // the device's id counter: history posts get an id of their own, never a reading's
    const store = new FakeStore();
    const queue = openQueue(store, s.clock, { budgetBytes: 65536, segmentBytes: 4096, nextId: () => String(n++) });
    const d = createDelivery(s.cloud, queue, { productKey: PK, deviceName: DN, mode: "batch", batchSize: 3, maxPostsPerCycle: 4 });
    const sent: string[] = [];
    const publish = s.cloud.publish.bind(s.cloud);
    s.cloud.publish = (t, p, cb) => {
      sent.push(p);
      publish(t, p, cb);
    };
    for (let i = 0; i < 3; i++) {
      s.clock.up += 60000;
      ids.push(Q.push(queue, { humidity: i })!.id);
    }
    s.cloud.script.push({ ok: false, code: -1, error: "timeout", retryInMs: 1000 });
    assert.equal(flushSync(d, null).delivered, 0);
    for (let i = 3; i < 5; i++) {
      s.clock.up += 60000;
      Q.push(queue, { humidity: i });
    }
    const r = flushSync(d, null);
    assert.deepEqual([r.posts, r.delivered, r.depth], [2, 5, 0]);
    assert.equal(sent.length, 3);
    assert.equal(sent[1], sent[0], "the resend is the first post, byte for byte");
    const a = JSON.parse(sent[0]);
    const b = JSON.parse(sent[2]);
    assert.deepEqual(a.params[0].properties.map((p: { humidity: { value: number } }) => p.humidity.value), [0, 1, 2]);
    assert.deepEqual(b.params[0].properties.map((p: { humidity: { value: number } }) => p.humidity.value), [3, 4]);
    assert.notEqual(a.id, b.id);
    assert.ok(ids.indexOf(a.id) < 0 && ids.indexOf(b.id) < 0, "post ids are not reading ids (a reading's own property post keeps its id)");
    assert.deepEqual(s.cloud.seen.map((x) => x.values.humidity), [0, 1, 2, 3, 4]);
  });

  it("after a power cut with the post in flight, the rebooted device resends it byte for byte before newer readings", function () {
    const s = setup("batch", 3);
    const sent: string[] = [];
    const publish = s.cloud.publish.bind(s.cloud);
    s.cloud.publish = (t, p, cb) => {
      sent.push(p);
      publish(t, p, cb);
    };
    for (let i = 0; i < 4; i++) {
      s.clock.up += 60000;
      Q.push(s.queue, { humidity: i });
    }
    // the platform stores the post; the power dies before the ack reaches flash
    s.cloud.afterAccept = () => s.store.tick();
    s.store.cutAt(2, 0); // 1: the in-flight record, 2: the platform has stored the post
    assert.throws(() => flushSync(s.d, null), PowerLoss);
    s.store.reboot();
    s.cloud.afterAccept = null;
    const queue = openQueue(s.store, s.clock, { budgetBytes: 65536, segmentBytes: 4096 });
    const d = createDelivery(s.cloud, queue, { productKey: PK, deviceName: DN, mode: "batch", batchSize: 3, maxPostsPerCycle: 4 });
    for (let i = 4; i < 6; i++) {
      s.clock.up += 60000;
      Q.push(queue, { humidity: i });
    }
    assert.equal(Q.inFlight(queue)!.recs.length, 4);
    const r = flushSync(d, null);
    assert.deepEqual([r.posts, r.delivered, r.depth], [2, 6, 0]);
    assert.equal(sent[1], sent[0], "same id, readings and times");
    assert.deepEqual(s.cloud.seen.map((x) => x.values.humidity), [0, 1, 2, 3, 0, 1, 2, 3, 4, 5]);
    assert.equal(Q.inFlight(queue), null);
  });

  it("a torn write of the in-flight record loses and repeats nothing: the post was not sent yet", function () {
    for (const keep of [0, 0.3, 0.6, 0.9]) {
      const s = setup("batch", 3);
      for (let i = 0; i < 3; i++) Q.push(s.queue, { humidity: i });
      s.store.cutAt(1, keep);
      assert.throws(() => flushSync(s.d, null), PowerLoss);
      assert.equal(s.cloud.bodies.length, 0);
      s.store.reboot();
      const queue = openQueue(s.store, s.clock, { budgetBytes: 65536, segmentBytes: 4096 });
      assert.equal(Q.inFlight(queue), null);
      const d = createDelivery(s.cloud, queue, { productKey: PK, deviceName: DN, mode: "batch", batchSize: 3, maxPostsPerCycle: 4 });
      Q.push(queue, { humidity: 3 });
      assert.equal(flushSync(d, null).delivered, 4);
      assert.deepEqual(s.cloud.seen.map((x) => x.values.humidity), [0, 1, 2, 3]);
    }
  });

  it("a batch refused for good (10001) is split until the bad reading is alone; it is dropped and counted", function () {
    const s = setup("batch", 8, 10);
    for (let i = 0; i < 8; i++) Q.push(s.queue, { humidity: i });
    // 8 refused, then halves: 4 ok, 4 refused, 2 ok, 2 refused, 1 refused (dropped), 1 ok
    const no = { ok: false, code: 10001, error: "param" };
    s.cloud.script.push(no, { ok: true, code: 0 }, no, { ok: true, code: 0 }, no, no);
    const r = flushSync(s.d, null);
    assert.equal(r.rejected, 1);
    assert.equal(r.delivered, 7);
    assert.equal(Q.depth(s.queue), 0);
    assert.deepEqual(s.cloud.seen.map((x) => x.values.humidity), [0, 1, 2, 3, 4, 5, 7]);
  });

  function unsynced(mode: string) {
    const store = new FakeStore();
    const clock = new FakeClock();
    const queue = openQueue(store, clock, { budgetBytes: 65536, segmentBytes: 4096 });
    const cloud = new FakePlatform();
    cloud.clock = clock;
    const d = createDelivery(cloud, queue, { productKey: PK, deviceName: DN, mode, batchSize: 3, maxPostsPerCycle: 4 });
    return { clock, queue, cloud, d };
  }

  it("readings of an unsynced boot: an /auth learns the time first, then every reading goes with its time, none without", function () {
    const { clock, queue, cloud, d } = unsynced("batch");
    clock.up = 1000;
    Q.push(queue, { humidity: 1 });
    clock.up = 2000;
    Q.push(queue, { humidity: 2 });
    clock.up = 3000;
    const r = flushSync(d, Q.push(queue, { humidity: 3 }));
    assert.equal(cloud.auths, 1);
    assert.equal(r.delivered, 3);
    assert.equal(r.posts, 1, "one history post (the /auth is not a post)");
    // The auth reply set the clock to WALL + 3000 at uptime 3000: each reading has its own uptime's wall time.
    assert.deepEqual(cloud.seen.map((x) => [x.values.humidity, x.time]), [[1, WALL + 1000], [2, WALL + 2000], [3, WALL + 3000]]);
    // Later flushes of the boot need no second /auth.
    clock.up = 4000;
    Q.push(queue, { humidity: 4 });
    clock.up = 5000;
    Q.push(queue, { humidity: 5 });
    clock.up = 6000;
    flushSync(d, Q.push(queue, { humidity: 6 }));
    assert.equal(cloud.auths, 1);
    assert.ok(cloud.seen.every((x) => x.time), "no reading without a time");
  });

  it("realtime after a cold boot: the fresh reading goes as a property post with its time after the /auth", function () {
    const { clock, queue, cloud, d } = unsynced("realtime");
    clock.up = 2500;
    const rec = Q.push(queue, { temperature: 21.5, humidity: 40 });
    assert.equal(rec!.awaitingTime, true);
    const r = flushSync(d, rec);
    assert.deepEqual([cloud.auths, r.posts, r.delivered, r.depth], [1, 1, 1, 0]);
    assert.equal(cloud.bodies[0].topic, "/sys/a1pk/dev1/thing/event/property/post");
    assert.deepEqual(JSON.parse(cloud.bodies[0].body).params, { temperature: { value: 21.5, time: WALL + 2500 }, humidity: { value: 40, time: WALL + 2500 } });
  });

  it("no /auth answer: nothing goes (the readings wait with their uptime stamps); no Date header: the freshest goes without a time", function () {
    const { clock, queue, cloud, d } = unsynced("realtime");
    cloud.down = true;
    clock.up = 1000;
    const r1 = flushSync(d, Q.push(queue, { humidity: 1 }));
    assert.deepEqual([r1.posts, r1.delivered, r1.code, cloud.bodies.length], [0, 0, -1, 0]);
    cloud.down = false;
    cloud.noDate = true;
    clock.up = 2000;
    const r2 = flushSync(d, Q.push(queue, { humidity: 2 }));
    assert.equal(cloud.auths, 1);
    assert.equal(r2.delivered, 1);
    assert.deepEqual(cloud.seen.map((x) => [x.values.humidity, x.time]), [[2, undefined]]);
  });
});
