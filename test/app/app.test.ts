// Duty cycle on a fake HAL with sinon fake timers: boot -> read -> auth -> publish -> sleep,
// token reuse after a reboot, re-auth and resend on 20001, sensor failure, flash queue across
// outages and deep sleeps, batch mode, early wakes.
import * as Q from "../../firmware/queue";
import { strict as assert } from "node:assert";
import sinon from "sinon";
import { startApp, App, SENSOR_EVENT, SCHEDULE_REC, HEALTH_EVENT } from "../../firmware/app";
import { backoffMs, LONG_BASE_MS, LONG_CAP_MS } from "../../firmware/iot/codes";
import { parseConfig, DeviceConfig } from "../../firmware/config";
import { hmacHex } from "../../firmware/crypto/hmac";
import type { HttpRequest } from "../../platform/hal";
import { fakeHal, FakeHal, FakeReply } from "../helpers/fake-hal";
import { dht22Bytes, dht22HighUs } from "../../emulator/sensor/wave";

const SECRET = "s3cretDeviceSecretValue0123456789";
const DATE = "Thu, 26 Nov 2026 00:54:44 GMT";

function config(over: object = {}): DeviceConfig {
  const r = parseConfig(JSON.stringify({ productKey: "a1pk", deviceName: "dev1", deviceSecret: SECRET, intervalSec: 60, ...over }));
  if (!r.ok) throw new Error(r.error);
  return r.config;
}

/** A platform stand-in checking each request against alibaba-http.md: signed auth, token in `password`. */
class Platform {
  tokens = 0;
  timeRequests = 0;
  posts: { topic: string; body: string }[] = [];
  /** Codes answered to the next publishes, in order, instead of accepting them. */
  failPublish: number[] = [];
  valid: string[] = [];
  /** The Date header: fixed, or the platform's running clock (see clocked()). */
  date = () => DATE;
  /** Runs the Date header on from `wallMs` at the fake timers' now. */
  clocked(wallMs: number): this {
    const t0 = Date.now();
    this.date = () => new Date(wallMs + Date.now() - t0).toUTCString();
    return this;
  }
  respond = (req: HttpRequest): FakeReply => {
    const url = req.url;
    const path = url.substr(url.indexOf("/", 8));
    if (req.method === "GET") {
      // The device's time request: only the Date header of the answer matters.
      assert.equal(path, "/auth", "the only GET is the time request");
      this.timeRequests++;
      return { status: 405, body: '{"code":10001,"message":"param error: use POST"}', headers: { date: this.date() } };
    }
    if (path === "/auth") {
      assert.equal(req.headers["Content-Type"], "application/json");
      const b = JSON.parse(req.body);
      assert.match(String(b.timestamp), /^[0-9]{13}$/, "every /auth signs a timestamp");
      const msg = "clientId" + b.clientId + "deviceName" + b.deviceName + "productKey" + b.productKey + (b.timestamp !== undefined ? "timestamp" + b.timestamp : "");
      if (b.sign.toLowerCase() !== hmacHex(b.signmethod || "hmacmd5", SECRET, msg)) return { body: '{"code":20000,"message":"auth check error"}', headers: { date: this.date() } };
      const token = "tok" + ++this.tokens + "-" + "x".repeat(40);
      this.valid.push(token);
      return { body: '{"code":0,"message":"success","info":{"token":"' + token + '"}}', headers: { date: this.date() } };
    }
    assert.equal(path.indexOf("/topic/"), 0, "only /auth and /topic/...");
    assert.equal(req.headers["Content-Type"], "application/octet-stream");
    if (this.valid.indexOf(req.headers["password"]) < 0) return { body: '{"code":20003,"message":"check token error"}' };
    const code = this.failPublish.shift();
    if (code) return { body: '{"code":' + code + ',"message":"fault"}' };
    this.posts.push({ topic: path.substr(6), body: req.body });
    return { body: '{"code":0,"message":"success","info":{"messageId":892687627916247040}}', headers: { date: this.date() } };
  };
}

interface Rig {
  hal: FakeHal;
  sleeps: number[];
  watchdogs: number[];
  kicks: number;
}

/** A fake HAL whose DHT22 answers with `frames` in turn (null = no answer) and whose deep sleep is recorded. */
function rig(platform: Platform, frames: ({ t: number; h: number } | null)[], store?: { [k: string]: string }, wallMs?: number): Rig {
  const hal = fakeHal({ store, wallMs });
  hal.respond = platform.respond;
  const r: Rig = { hal, sleeps: [], watchdogs: [], kicks: 0 };
  let i = 0;
  hal.dht = {
    capture(_startLowMs, windowMs, done) {
      const f = frames[Math.min(i++, frames.length - 1)];
      setTimeout(() => done(f ? dht22HighUs(dht22Bytes(f.t, f.h)) : []), 2 + windowMs);
    },
  };
  hal.power = {
    deepSleep: (ms) => {
      r.sleeps.push(ms);
      return true;
    },
    reboot: () => undefined,
    watchdog: (sec) => void r.watchdogs.push(sec),
    kick: () => void r.kicks++,
  };
  return r;
}

function paths(hal: FakeHal): string[] {
  return hal.requests.map((q) => (q.method === "GET" ? "GET " : "") + q.url.substr(q.url.indexOf("/", 8)));
}

describe("firmware/app duty cycle", () => {
  let clock: sinon.SinonFakeTimers;
  let app: App | null;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1000 });
    app = null;
  });
  afterEach(() => {
    if (app) app.stop();
    clock.restore();
  });

  it("boots, reads, authenticates, publishes one property post, then deep-sleeps until the next reading", async () => {
    const p = new Platform();
    const r = rig(p, [{ t: 23.5, h: 61 }]);
    app = startApp(r.hal, config());
    await clock.tickAsync(5000);
    // Power-on: the clock is unknown, so a time request first (its Date is signed into the /auth).
    assert.deepEqual(paths(r.hal), ["GET /auth", "/auth", "/topic/sys/a1pk/dev1/thing/event/property/post"]);
    assert.equal(p.posts.length, 1);
    const post = JSON.parse(p.posts[0].body);
    assert.equal(post.method, "thing.event.property.post");
    assert.equal(post.version, "1.0");
    assert.match(post.id, /^[0-9]+$/);
    // Read before the clock was known: the /auth reply's Date set it first, so the reading goes with its time.
    const dateMs = Date.parse(DATE);
    assert.equal(post.params.temperature.value, 23.5);
    assert.equal(post.params.humidity.value, 61);
    assert.ok(post.params.temperature.time > dateMs - 5000 && post.params.temperature.time <= dateMs + 500, "time " + (post.params.temperature.time - dateMs));
    assert.match(p.posts[0].body, /"humidity":\{"value":61\.0/, "FLOAT with a decimal point");
    assert.equal(app.stats.published, 1);
    assert.equal(r.sleeps.length, 1);
    assert.ok(r.sleeps[0] > 50000 && r.sleeps[0] <= 60000, "sleeps the rest of the 60 s period: " + r.sleeps[0]);
    assert.deepEqual(r.watchdogs, [240]);
    assert.ok(r.kicks >= 1);
    assert.ok(!r.hal.logs.join("\n").includes(SECRET), "secret never logged");
  });

  it("stamps each reading with its sample time once wall time is known", async () => {
    const p = new Platform();
    const wall = Date.UTC(2026, 10, 26, 0, 54, 44);
    const r = rig(p, [{ t: -3.2, h: 88.8 }], undefined, wall);
    app = startApp(r.hal, config());
    await clock.tickAsync(5000);
    const t = JSON.parse(p.posts[0].body).params.temperature;
    assert.equal(t.value, -3.2);
    assert.ok(t.time >= wall && t.time < wall + 5000, "sample time " + t.time);
  });

  it("reuses the stored token after a reboot (deep-sleep wake)", async () => {
    const p = new Platform();
    const first = rig(p, [{ t: 20, h: 50 }]);
    app = startApp(first.hal, config());
    await clock.tickAsync(5000);
    app.stop();
    assert.equal(p.tokens, 1);
    // a timer wake: the boot sets the clock from the stored schedule
    const second = rig(p, [{ t: 20.2, h: 50.5 }], first.hal.records, JSON.parse(first.hal.records[SCHEDULE_REC]).n);
    app = startApp(second.hal, config());
    await clock.tickAsync(5000);
    assert.deepEqual(paths(second.hal), ["/topic/sys/a1pk/dev1/thing/event/property/post"]);
    assert.equal(p.tokens, 1);
    assert.equal(p.posts.length, 2);
    assert.notEqual(JSON.parse(p.posts[0].body).id, JSON.parse(p.posts[1].body).id, "ids stay unique across reboots");
  });

  it("a cold boot (power-on, clock unknown) with a stored token asks the time first: the reading never goes without a time", async () => {
    const p = new Platform();
    const first = rig(p, [{ t: 20, h: 50 }]);
    app = startApp(first.hal, config());
    await clock.tickAsync(5000);
    app.stop();
    const cold = rig(p, [{ t: 20.2, h: 50.5 }], first.hal.records);
    app = startApp(cold.hal, config());
    await clock.tickAsync(5000);
    assert.deepEqual(paths(cold.hal), ["GET /auth", "/topic/sys/a1pk/dev1/thing/event/property/post"], "one handshake more than a timer wake; the stored token is kept");
    const params = JSON.parse(p.posts[1].body).params;
    assert.equal(params.temperature.value, 20.2);
    assert.ok(params.temperature.time > Date.parse(DATE) - 5000, "with its time");
    // the rest of that boot needs no further time request
    app.stop();
    app = startApp(cold.hal, config({ deepSleep: false }));
    await clock.tickAsync(61000);
    assert.equal(paths(cold.hal).filter((x) => x === "GET /auth").length, 1);
    assert.equal(paths(cold.hal).filter((x) => x === "/auth").length, 0);
  });

  it("re-authenticates and resends the same reading on 20001 mid-run", async () => {
    const p = new Platform();
    const r = rig(p, [{ t: 21, h: 40 }, { t: 21.3, h: 41 }]);
    app = startApp(r.hal, config({ deepSleep: false }));
    await clock.tickAsync(5000);
    assert.equal(p.posts.length, 1);
    p.failPublish.push(20001);
    await clock.tickAsync(60000);
    const pub = "/topic/sys/a1pk/dev1/thing/event/property/post";
    assert.deepEqual(paths(r.hal), ["GET /auth", "/auth", pub, pub, "/auth", pub]);
    const sent = r.hal.requests.filter((q) => q.url.endsWith("/post"));
    assert.equal(sent[1].body, sent[2].body, "the refused message is resent as is");
    assert.notEqual(sent[1].headers["password"], sent[2].headers["password"], "with the new token");
    assert.equal(p.posts.length, 2);
    assert.equal(JSON.parse(p.posts[1].body).params.temperature.value, 21.3);
    assert.equal(app.stats.published, 2);
  });

  it("publishes no made-up reading when the sensor fails, and reports the fault", async () => {
    const p = new Platform();
    const r = rig(p, [null]);
    app = startApp(r.hal, config());
    await clock.tickAsync(10000);
    assert.equal(p.posts.filter((x) => x.topic.endsWith("/property/post")).length, 0);
    const ev = p.posts.filter((x) => x.topic === "/sys/a1pk/dev1/thing/event/" + SENSOR_EVENT + "/post");
    assert.equal(ev.length, 1);
    const body = JSON.parse(ev[0].body);
    assert.equal(body.method, "thing.event." + SENSOR_EVENT + ".post");
    assert.equal(body.params.value.temperature, undefined);
    assert.equal(body.params.value.humidity, undefined);
    assert.equal(typeof body.params.value.error, "string");
    assert.equal(app.stats.sensorFailures, 1);
    assert.ok(r.hal.logs.some((l) => l.startsWith("W sensor:")));
  });

  it("counts failed reads in a row across deep-sleep wakes: each wake's fault event says how many", async () => {
    const p = new Platform();
    let records: { [k: string]: string } | undefined;
    let wallMs: number | undefined;
    const counts: number[] = [];
    for (const f of [null, null, null, { t: 20, h: 50 }, null]) {
      const r = rig(p, [f], records, wallMs);
      const before = p.posts.length;
      app = startApp(r.hal, config());
      for (let i = 0; i < 300 && !r.sleeps.length; i++) await clock.tickAsync(100);
      app.stop();
      app = null;
      for (const x of p.posts.slice(before)) if (x.topic.endsWith("/" + SENSOR_EVENT + "/post")) counts.push(JSON.parse(x.body).params.value.consecutiveFailures);
      records = r.hal.records;
      assert.equal(r.sleeps.length, 1, "each wake ends in deep sleep");
      clock.tick(r.sleeps[0]);
      wallMs = JSON.parse(records[SCHEDULE_REC]).n || undefined;
    }
    assert.deepEqual(counts, [1, 2, 3, 1]);
    assert.equal(JSON.parse(records![SCHEDULE_REC]).s, 1);
  });

  it("rejects an out-of-model reading instead of publishing it", async () => {
    const p = new Platform();
    const r = rig(p, [{ t: 120, h: 50 }]);
    app = startApp(r.hal, config());
    await clock.tickAsync(10000);
    assert.equal(p.posts.filter((x) => x.topic.endsWith("/property/post")).length, 0);
    assert.equal(app.stats.sensorFailures, 1);
  });

  it("queues readings in flash while offline, retries when idle, then delivers them oldest first, each once", async () => {
    const p = new Platform().clocked(Date.UTC(2026, 10, 26));
    const frames = [];
    for (let i = 0; i < 40; i++) frames.push({ t: 20 + i / 10, h: 50 });
    const r = rig(p, frames, undefined, Date.UTC(2026, 10, 26));
    const offline: FakeReply = { err: { kind: "offline", detail: "Not connected to the internet" } };
    r.hal.respond = () => offline;
    app = startApp(r.hal, config({ deepSleep: false }));
    await clock.tickAsync(7 * 60000 - 1000);
    assert.equal(app.stats.reads, 7);
    assert.equal(app.stats.unsent, 7, "every reading kept");
    assert.equal(Q.depth(app.queue), 7);
    assert.equal(app.stats.published, 0);
    assert.ok(Object.keys(r.hal.records).some((k) => k.indexOf("q.s") === 0), "in Storage, not RAM");
    r.hal.respond = p.respond;
    await clock.tickAsync(30 * 60000);
    const props = p.posts.filter((x) => x.topic.endsWith("/property/post")).map((x) => JSON.parse(x.body).params);
    const hist = p.posts.filter((x) => x.topic.endsWith("/property/history/post")).map((x) => JSON.parse(x.body).params[0].properties);
    const got: { v: number; t: number }[] = [];
    for (const x of props) got.push({ v: x.temperature.value, t: x.temperature.time });
    for (const list of hist) for (const x of list) if (x.temperature) got.push({ v: x.temperature.value, t: x.temperature.time });
    got.sort((a, b) => a.t - b.t);
    assert.equal(got.length, app.stats.reads, "every reading once: " + got.map((g) => g.v).join(","));
    for (let i = 1; i < got.length; i++) assert.ok(got[i].v > got[i - 1].v && got[i].t > got[i - 1].t, "no repeats, times kept: " + JSON.stringify(got));
    assert.ok(hist.length >= 1, "the backlog went as history posts");
    const backlog = ([] as { temperature?: { time: number } }[]).concat(...hist).filter((x) => x.temperature).map((x) => x.temperature!.time);
    for (let i = 1; i < backlog.length; i++) assert.ok(backlog[i] > backlog[i - 1], "backlog oldest first");
    assert.equal(app.stats.unsent, 0);
    assert.equal(app.stats.published, app.stats.reads);
    assert.ok(p.posts.some((x) => x.topic.endsWith("/event/" + HEALTH_EVENT + "/post")), "queue health reported after the backlog");
    assert.ok(r.hal.logs.some((l) => /^I queue: depth 0, evicted 0/.test(l)));
  });

  it("deep-sleeps with readings still queued; the next wake delivers them; the schedule survives", async () => {
    const wall = Date.UTC(2026, 10, 26);
    const p = new Platform().clocked(wall);
    const first = rig(p, [{ t: 20, h: 50 }], undefined, wall);
    first.hal.respond = () => ({ err: { kind: "offline", detail: "Not connected to the internet" } });
    app = startApp(first.hal, config());
    await clock.tickAsync(5000);
    assert.equal(first.sleeps.length, 1, "deep sleep even with a reading unsent: it is in flash");
    assert.equal(app.stats.unsent, 1);
    const sched = JSON.parse(first.hal.records[SCHEDULE_REC]);
    assert.ok(Math.abs(sched.n - (wall + 60000)) < 100, "next reading time stored: " + (sched.n - wall));
    app.stop();
    // the wake: a reboot with the same Storage and (as the boot sets it) the planned wall time
    clock.tick(first.sleeps[0]);
    const second = rig(p, [{ t: 20.5, h: 51 }], first.hal.records, sched.n);
    app = startApp(second.hal, config());
    await clock.tickAsync(5000);
    assert.equal(app.stats.unsent, 0);
    assert.equal(p.posts.filter((x) => x.topic.endsWith("/property/post")).length, 1, "the fresh reading");
    const hist = p.posts.filter((x) => x.topic.endsWith("/history/post"));
    assert.equal(hist.length, 1, "the queued one, with its own time");
    const t = JSON.parse(hist[0].body).params[0].properties[0].temperature;
    assert.equal(t.value, 20);
    assert.ok(t.time >= wall && t.time < wall + 5000);
    assert.equal(second.sleeps.length, 1);
  });

  describe("rate check across deep sleep", () => {
    const WALL = Date.UTC(2026, 10, 26);
    /** One boot per frame (the first one `cold`: clock unknown), each a deep-sleep timer wake of the one before (clock set from the schedule); answers the property posts' temperatures and the records. */
    async function wakes(p: Platform, frames: { t: number; h: number }[], store?: { [k: string]: string }, cold = false) {
      let wallMs: number | undefined = cold ? undefined : WALL;
      let records = store;
      const temps: number[] = [];
      const bases: number[][] = [];
      for (const f of frames) {
        const r = rig(p, [f], records, wallMs);
        const before = p.posts.length;
        app = startApp(r.hal, config());
        await clock.tickAsync(5000);
        app.stop();
        app = null;
        for (const x of p.posts.slice(before)) if (x.topic.endsWith("/property/post")) temps.push(JSON.parse(x.body).params.temperature.value);
        records = r.hal.records;
        const sched = JSON.parse(records[SCHEDULE_REC]);
        bases.push(sched.b);
        assert.equal(r.sleeps.length, 1);
        clock.tick(r.sleeps[0]);
        wallMs = sched.n;
      }
      return { temps, bases, records: records! };
    }

    it("a wake restores the last accepted reading: a compensating-error jump (43.9 among 20 °C) is not published", async () => {
      const p = new Platform().clocked(WALL);
      const w = await wakes(p, [{ t: 20, h: 50 }, { t: 43.9, h: 50 }, { t: 20.4, h: 50.5 }]);
      assert.deepEqual(w.temps, [20, 20.4]);
      const ev = p.posts.filter((x) => x.topic.endsWith("/" + SENSOR_EVENT + "/post")).map((x) => JSON.parse(x.body).params.value.error);
      assert.deepEqual(ev, ["rate"]);
      // [t, h, wall ms of the reading, rejections since]: the baseline holds through the rejection.
      assert.deepEqual(w.bases[0].slice(0, 2), [20, 50]);
      assert.ok(Math.abs(w.bases[0][2] - WALL) < 100, "baseline wall time " + (w.bases[0][2] - WALL));
      assert.deepEqual(w.bases[1], [20, 50, w.bases[0][2], 1]);
      assert.deepEqual(w.bases[2].slice(0, 2).concat(w.bases[2][3]), [20.4, 50.5, 0]);
      // the third wake's reading time (the test's wakes run late by the rest of each 5 s tick; the Date header fixes the clock)
      const t3 = w.bases[2][2] - WALL;
      assert.ok(t3 >= 120000 && t3 < 135000, "new baseline wall time " + t3);
    });

    it("the time since the restored baseline widens the allowance as in RAM (1 °C per minute over 2 °C)", async () => {
      const p = new Platform().clocked(WALL);
      // about 60 s between readings (the wake's boot is instant here): 2.9 °C is within 2.99..3, 3.2 is not
      const w = await wakes(p, [{ t: 20, h: 50 }, { t: 22.9, h: 50 }, { t: 26.2, h: 50 }]);
      assert.deepEqual(w.temps, [20, 22.9]);
    });

    it("a genuine step change is taken after maxRejects (3) wakes: the rejection count survives deep sleep", async () => {
      const p = new Platform().clocked(WALL);
      const w = await wakes(p, [{ t: 20, h: 50 }, { t: 40, h: 30 }, { t: 40, h: 30 }, { t: 40, h: 30 }, { t: 40, h: 30 }, { t: 40.2, h: 30 }]);
      // 20 °C in 4 min is far beyond the allowance (6): the 4th wake takes it by the escape, not by time
      assert.deepEqual(w.temps, [20, 40, 40.2]);
      assert.deepEqual(w.bases.map((b) => b[3]), [0, 1, 2, 3, 0, 0]);
    });

    it("a cold boot (clock unknown) does not restore the baseline: the time since it is unknown", async () => {
      const stored = { [SCHEDULE_REC]: JSON.stringify({ n: WALL, e: 0, b: [20, 50, WALL - 60000, 0] }) };
      const p = new Platform().clocked(WALL);
      const w = await wakes(p, [{ t: 43.9, h: 50 }], stored, true);
      assert.deepEqual(w.temps, [43.9], "accepted: nothing to compare it with");
      assert.deepEqual(w.bases[0].slice(0, 2).concat(w.bases[0][3]), [43.9, 50, 0], "and stored once the clock is known");
    });
  });

  it("batch mode: nothing is sent until batchSize readings wait, then one history post carries them", async () => {
    const p = new Platform().clocked(Date.UTC(2026, 10, 26));
    const frames = [];
    for (let i = 0; i < 10; i++) frames.push({ t: 20 + i / 10, h: 50 + i });
    const r = rig(p, frames, undefined, Date.UTC(2026, 10, 26));
    app = startApp(r.hal, config({ deepSleep: false, delivery: "batch", batchSize: 3 }));
    await clock.tickAsync(2 * 60000 + 5000);
    assert.equal(app.stats.reads, 3);
    assert.equal(r.hal.requests.length, 2, "auth + one post for three readings");
    const hist = p.posts.filter((x) => x.topic === "/sys/a1pk/dev1/thing/event/property/history/post");
    assert.equal(hist.length, 1);
    const list = JSON.parse(hist[0].body).params[0].properties;
    assert.deepEqual(list.filter((x: object) => "temperature" in x).map((x: { temperature: { value: number } }) => x.temperature.value), [20, 20.1, 20.2]);
    assert.equal(app.stats.published, 3);
    await clock.tickAsync(60000);
    assert.equal(r.hal.requests.length, 2, "the fourth waits for its batch");
    assert.equal(app.stats.unsent, 1);
  });

  it("a wake before the next reading is due goes straight back to sleep: no read, no request", async () => {
    const p = new Platform();
    const wall = Date.UTC(2026, 10, 26);
    const r = rig(p, [{ t: 20, h: 50 }], { [SCHEDULE_REC]: JSON.stringify({ n: wall + 30000, e: 0 }) }, wall);
    app = startApp(r.hal, config());
    await clock.tickAsync(5000);
    assert.equal(app.stats.reads, 0);
    assert.equal(r.hal.requests.length, 0);
    assert.equal(r.sleeps.length, 1);
    assert.ok(r.sleeps[0] > 29000 && r.sleeps[0] <= 30000, String(r.sleeps[0]));
  });

  it("a platform that sends no Date: no /auth (it would be untimed), the readings wait queued, and it idles below the deep-sleep interval", async () => {
    const p = new Platform();
    const r = rig(p, [{ t: 19, h: 45 }]);
    const bare = p.respond;
    r.hal.respond = (q) => {
      const a = bare(q);
      delete a.headers; // no Date header: wall time stays unknown
      return a;
    };
    app = startApp(r.hal, config({ intervalSec: 10 }));
    await clock.tickAsync(15000);
    assert.equal(r.sleeps.length, 0);
    assert.equal(app.stats.reads, 2, "idled 10 s and read again");
    assert.ok(paths(r.hal).length >= 1 && paths(r.hal).every((x) => x === "GET /auth"), paths(r.hal).join(","));
    assert.equal(p.tokens, 0);
    assert.equal(p.posts.length, 0);
    assert.equal(Q.depth(app.queue), 2, "both readings wait with their uptime stamps");
  });

  it("deep sleep under 20000 (bad credentials) for a simulated week: every wake reads and queues, requests stay within the long backoff", async function () {
    this.timeout(60000);
    sinon.stub(Math, "random").returns(0); // shortest waits: the worst case
    const WEEK = 7 * 86400000;
    const p = new Platform().clocked(Date.UTC(2026, 10, 26));
    const cfg = config({ intervalSec: 600, deviceSecret: "not-the-device-secret-0123456789" });
    let records: { [k: string]: string } = {};
    let wall: number | undefined; // the first boot is a power-on: clock unknown
    let requests = 0;
    let wakes = 0;
    let reads = 0;
    const t0 = Date.now();
    while (Date.now() - t0 < WEEK) {
      const r = rig(p, [{ t: 20, h: 50 }], records, wall);
      app = startApp(r.hal, cfg);
      for (let i = 0; i < 300 && !r.sleeps.length; i++) await clock.tickAsync(100);
      app.stop();
      app = null;
      assert.equal(r.sleeps.length, 1, "each wake ends in deep sleep");
      wakes++;
      reads += r.hal.logs.filter((l) => l.startsWith("I reading ")).length;
      requests += r.hal.requests.length;
      records = r.hal.records;
      clock.tick(r.sleeps[0]);
      // the timer wake: the boot sets the clock from the stored schedule
      wall = JSON.parse(records[SCHEDULE_REC]).n || undefined;
    }
    // The long schedule at its shortest waits: attempts that fit in a week.
    let bound = 0;
    for (let t = 0; t < WEEK; t += backoffMs(bound, LONG_BASE_MS, LONG_CAP_MS, 0)) bound++;
    assert.ok(wakes >= 1000, "wakes " + wakes);
    assert.equal(reads, wakes, "every wake read the sensor");
    assert.ok(requests >= 10 && requests <= bound, "requests " + requests + " (bound " + bound + ", wakes " + wakes + ")");
    assert.equal(p.tokens, 0);
    assert.ok(Object.keys(records).some((k) => k.indexOf("q.s") === 0), "readings kept in flash");
    console.log("      a week of deep sleep under 20000: " + requests + " requests in " + wakes + " wakes (bound " + bound + ")");
  });
});
