// Store and forward end to end: the real dist/firmware.js on the emulated ESP32, the real local
// platform on emulated time, real sockets. What arrived is read from the platform's records, what
// was measured from the simulated sensor's frames; never from the firmware's own word.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startSession, type Session, type SessionOptions } from "../../emulator/runtime/session";
import { sessionsOf as framesToReadings, type Report } from "../../emulator/runtime/report";
import { loadScenario } from "../../emulator/scenarios";
import { repeatTimes, type MessageRecord } from "../../emulator/cloud/db";
import { backoffMs, LONG_BASE_MS, LONG_CAP_MS } from "../../firmware/iot/codes";

const FIRMWARE = path.resolve(__dirname, "../../dist/firmware.js");

/** One reading as the platform stored it, with the Alink id and kind of the post that carried it. */
interface Arrival {
  time: number;
  temperature: number;
  humidity: number;
  id: string;
  kind: string;
  receivedAt: number;
  /** The platform recognised it as a repeat of a stored reading (and did not store it again). */
  repeat: boolean;
  /** Topic and body of the post that carried it. */
  post: string;
}

/** Readings in the accepted property and history posts, in arrival order. */
function arrivals(messages: MessageRecord[]): Arrival[] {
  const out: Arrival[] = [];
  for (const m of messages) {
    if (m.code !== 0 || (m.kind !== "property-post" && m.kind !== "history-post")) continue;
    const j = JSON.parse(m.payload);
    const groups: Record<string, { value: number; time: number } | number>[] = [];
    if (Array.isArray(j.params)) {
      const byTime = new Map<number, Record<string, { value: number; time: number }>>();
      for (const p of j.params[0].properties) {
        for (const k of Object.keys(p)) {
          const g = byTime.get(p[k].time) || {};
          g[k] = p[k];
          byTime.set(p[k].time, g);
        }
      }
      groups.push(...byTime.values());
    } else groups.push(j.params);
    const known = repeatTimes(m.checks);
    for (const g of groups) {
      const t = g.temperature as { value: number; time: number } | number;
      const h = g.humidity as { value: number; time: number } | number;
      out.push({
        time: typeof t === "object" ? t.time : 0,
        temperature: typeof t === "object" ? t.value : t,
        humidity: typeof h === "object" ? h.value : h,
        id: String(j.id),
        kind: m.kind,
        receivedAt: m.time,
        repeat: typeof t === "object" && known.includes(t.time),
        post: m.topic + " " + m.payload,
      });
    }
  }
  return out;
}

/** Arrivals of a reading already received: same time and values. */
function repeats(a: Arrival[]): Arrival[] {
  const seen = new Set<string>();
  return a.filter((x) => {
    const k = x.time + "/" + x.temperature + "/" + x.humidity;
    if (seen.has(k)) return true;
    seen.add(k);
    return false;
  });
}

/** The sensor's readings: valid frames grouped by read; a boot starts a new reading. */
function sessionsOf(s: Session) {
  return framesToReadings(s.sensor.frames, 30000, s.device.stats.bootWallMs);
}

describe("store and forward end to end (dist/firmware.js + local platform)", function () {
  this.timeout(120000);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "emu-sf-"));
  let n = 0;

  /** Runs a session; the platform's messages are read just before the end (oldest first). */
  async function run(o: Partial<SessionOptions> & { minutes: number }, setup?: (s: Session) => void): Promise<{ r: Report; got: Arrival[]; s: Session; msgs: MessageRecord[] }> {
    assert.ok(fs.existsSync(FIRMWARE), "dist/firmware.js missing: npm run build");
    const s = await startSession({ fast: true, firmwareFile: FIRMWARE, dataDir, flashFile: path.join(dataDir, "flash-" + n++ + ".json"), ...o });
    let msgs: MessageRecord[] = [];
    s.sched.at(o.minutes * 60000 - 1, () => {
      msgs = s.cloud!.messages(s.identity.productKey, s.identity.deviceName, 1e9).slice().reverse();
    });
    if (setup) setup(s);
    const r = await s.done;
    assert.equal(r.refused, null);
    assert.equal(r.uncaught, 0, "uncaught errors on the device");
    assert.equal(r.madeUp, 0, "values the sensor never sent: " + JSON.stringify(r.madeUpSamples));
    return { r, got: arrivals(msgs), s, msgs };
  }

  it("scenario outage (24 h at 60 s, platform unreachable minutes 360..720): every reading once, backlog oldest first, original times", async function () {
    const sc = loadScenario("outage");
    const { r, got, s } = await run({ minutes: 1440, intervalSec: 60, scenario: sc });
    assert.equal(r.lost, 0);
    assert.equal(r.duplicates, 0);
    assert.equal(r.resends, 0, "posts that failed during the outage never reached the platform: nothing to resend");
    assert.deepEqual(repeats(got), [], "no reading received twice (by time and values)");
    assert.ok(r.readings >= 1430, "readings " + r.readings);
    assert.ok(r.published >= r.readings - 1, `published ${r.published} of ${r.readings}`);
    // every sensor reading is there with its own time (within the read's duration), none twice
    const t0 = s.sched.epochMs;
    const frames = sessionsOf(s);
    const timed = got.filter((a) => a.time).sort((a, b) => a.time - b.time);
    assert.ok(timed.length >= got.length - 1, "all but the first reading (before the clock sync) carry their time");
    let k = 0;
    for (const f of frames) {
      while (k < timed.length && timed[k].time < f.startMs - 2500) k++;
      if (f.endMs > t0 + 1440 * 60000 - 300000 || f === frames[0]) continue;
      assert.ok(k < timed.length && timed[k].time <= f.endMs + 2500, "reading at minute " + ((f.startMs - t0) / 60000).toFixed(1) + " arrived with its time");
    }
    // the outage's readings came afterwards, in history posts, oldest first
    const outage = got.filter((a) => a.time >= t0 + 361 * 60000 && a.time < t0 + 719 * 60000);
    assert.ok(outage.length >= 355, "outage readings " + outage.length);
    assert.ok(outage.every((a) => a.kind === "history-post" && a.receivedAt >= t0 + 720 * 60000));
    for (let i = 1; i < outage.length; i++) assert.ok(outage[i].time > outage[i - 1].time, "backlog in order");
    // the backlog drained within a few cycles, by history posts of up to 100 readings
    const last = Math.max(...outage.map((a) => a.receivedAt));
    assert.ok(last < t0 + 740 * 60000, "backlog drained by minute " + ((last - t0) / 60000).toFixed(0));
  });

  it("power lost at 200 random instants during queue writes and deliveries: no corruption, no loss beyond the reading being written, resends recognisable", async function () {
    const CUTS = 200;
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const cutAt: number[] = [];
    let torn = 0;
    let inFlight = 0;
    let armedResponse = false;
    let wall = () => 0;
    const { r, got, s, msgs } = await run(
      {
        minutes: CUTS + 30,
        intervalSec: 60,
        onEvent: (kind) => {
          if (kind === "power") cutAt.push(wall());
        },
      },
      (sess) => {
        wall = () => sess.sched.wallMs();
        for (let i = 0; i < CUTS; i++) {
          sess.sched.at((i + 1) * 60000 + Math.floor(rand() * 50000), () => {
            if (i % 2 === 0) {
              // torn write: the 1st..3rd Storage write from now keeps 0..60 of its bytes
              torn++;
              sess.device.cutPowerOnWrite(1 + Math.floor(rand() * 3), Math.floor(rand() * 60), 1000);
            } else {
              inFlight++;
              armedResponse = true; // the platform takes the next post; the device never hears back
            }
          });
        }
        sess.device.onResponse = (p) => {
          if (armedResponse && p.indexOf("/topic/") === 0) {
            armedResponse = false;
            sess.device.cutPower(1000);
          }
        };
      },
    );
    const s0 = s;
    assert.ok(cutAt.length >= CUTS * 0.9, "cuts that happened: " + cutAt.length + " (torn " + torn + ", in flight " + inFlight + ")");
    // a lost reading is one whose write was torn: a cut within seconds after it was read
    const frames = sessionsOf(s0);
    const matched = (f: { startMs: number; endMs: number }) => got.some((a) => (a.time ? a.time >= f.startMs - 2500 && a.time <= f.endMs + 2500 : a.receivedAt >= f.startMs && a.receivedAt <= f.endMs + 60000));
    const missing = frames.filter((f) => f.endMs < s0.sched.epochMs + (CUTS + 25) * 60000 && !matched(f));
    for (const f of missing) assert.ok(cutAt.some((c) => c >= f.startMs && c <= f.endMs + 15000), "reading at minute " + ((f.startMs - s0.sched.epochMs) / 60000).toFixed(1) + " lost without a cut while it was being stored");
    assert.ok(r.lost <= torn, "lost " + r.lost + " > torn writes " + torn);
    // the platform may get the post in flight twice: the same Alink message (id and time), nothing else repeats
    // (untimed readings, sent right after a cold boot before the clock syncs, cannot be keyed: left out)
    const reps = repeats(got.filter((a) => a.time));
    let sameId = 0;
    let sameBytes = 0;
    for (const x of reps) {
      const firstArrival = got.find((a) => a.time === x.time && a.temperature === x.temperature && a.humidity === x.humidity)!;
      assert.ok(firstArrival.receivedAt < x.receivedAt);
      assert.ok(x.repeat && !firstArrival.repeat, "the platform recognised the resend of the reading at " + x.time + " and stored it once");
      // a resend after an unknown outcome is the same message: same Alink id, same readings and
      // times; byte for byte, except that a lone realtime reading goes again in a one-reading history post
      assert.equal(x.id, firstArrival.id, "the resend of the reading at " + x.time + " has the Alink id of its first arrival");
      if (x.post === firstArrival.post) sameBytes++;
      else {
        const props = JSON.parse(x.post.substr(x.post.indexOf(" ") + 1)).params[0].properties;
        assert.ok(firstArrival.kind === "property-post" && x.kind === "history-post" && props.length === 1, "the resend of the reading at " + x.time + " is the first post: " + firstArrival.post + " AND " + x.post);
      }
      if (x.id === firstArrival.id) sameId++;
    }
    assert.ok(reps.length <= inFlight + torn, "repeats " + reps.length);
    // the report, from the platform's records: every timed resend recognised and stored once
    assert.equal(r.resends, reps.length);
    // A cold boot learns the time (a GET /auth, whose reply's Date sets the clock) before its first
    // reading post, so no reading goes without a time and every resend is recognisable.
    assert.deepEqual(got.filter((a) => !a.time), [], "readings sent without a time");
    assert.equal(r.duplicates, 0, "readings stored twice");
    // Alink ids are unique per device (torn writes of the id block included): an id that comes
    // again is a resend of the same message (or its first reading in a history post), never a new one.
    const byId = new Map<string, string>();
    for (const m of msgs) {
      if (m.code !== 0) continue;
      const j = JSON.parse(m.payload);
      const first = Array.isArray(j.params) ? j.params[0].properties[0] : j.method === "thing.event.property.post" ? j.params : j;
      const key = JSON.stringify(first);
      assert.equal(byId.get(j.id) ?? key, key, "Alink id " + j.id + " used for two messages: " + byId.get(j.id) + " AND " + key);
      byId.set(j.id, key);
    }
    // nothing is wedged: the last 25 minutes without cuts deliver every reading
    const tail = frames.filter((f) => f.startMs > s0.sched.epochMs + (CUTS + 2) * 60000 && f.endMs < s0.sched.epochMs + (CUTS + 28) * 60000);
    assert.ok(tail.length >= 20 && tail.every(matched), "readings after the last cut all arrive");
    console.log("      power cuts " + cutAt.length + " (torn writes " + torn + ", posts in flight " + inFlight + "): lost " + r.lost + ", resends " + r.resends + " (same Alink id " + sameId + ", same post byte for byte " + sameBytes + "), duplicates " + r.duplicates + ", readings " + r.readings);
  });

  it("queue budget exceeded during an outage: the oldest readings are evicted and counted, the newest kept", async function () {
    const scenario = { name: "budget", description: "down 60 min", events: [{ fault: "networkDown" as const, atMin: 10, forMin: 60 }] };
    const { r, got, s, msgs } = await run({ minutes: 90, intervalSec: 60, scenario, config: { queueBudgetBytes: 1024, queueSegmentBytes: 256 } });
    const t0 = s.sched.epochMs;
    assert.ok(r.lost >= 20, "a 1 KB queue cannot hold an hour: lost " + r.lost);
    // the first reading goes before the clock is synced, without a time: left out of the time match
    const frames = sessionsOf(s).slice(1);
    const has = (f: { startMs: number; endMs: number }) => got.some((a) => a.time >= f.startMs - 2500 && a.time <= f.endMs + 2500);
    const missing = frames.filter((f) => !has(f));
    // Kept: readings since the outage began that arrived. How many of the outage's own survive
    // depends on when the first post after it goes (the client's backoff with jitter): readings
    // taken meanwhile are newer and push the outage's oldest out of the 1 KB queue, as they should.
    const kept = frames.filter((f) => has(f) && f.startMs > t0 + 11 * 60000);
    assert.ok(kept.length >= 5, "the newest readings arrived: " + kept.length);
    assert.ok(Math.max(...missing.map((f) => f.startMs)) < Math.min(...kept.map((f) => f.startMs)), "only the oldest went");
    // the device counted them and said so
    const health = msgs.filter((m) => m.kind === "event-post" && m.topic.includes("queueHealth"));
    assert.ok(health.length >= 1, "queueHealth event sent");
    const evicted = Math.max(...health.map((m) => JSON.parse(m.payload).params.value.evicted));
    assert.equal(evicted, missing.length, "evicted count = readings missing at the platform: " + missing.map((f) => ((f.startMs - t0) / 60000).toFixed(1)).join(" "));
    assert.equal(r.duplicates, 0);
  });

  it("deep sleep, a simulated week at 10 min in batch mode of 6: <= 0.2 handshakes per reading with auths, all delivered", async function () {
    const { r, got } = await run({ minutes: 7 * 1440, intervalSec: 600, config: { delivery: "batch", batchSize: 6, wifi: { ssid: "lab", password: "pw" } } });
    assert.ok(r.readings >= 1000, "readings " + r.readings);
    assert.ok(r.deepSleeps >= 1000, "deep sleeps " + r.deepSleeps);
    assert.equal(r.lost, 0);
    assert.equal(r.duplicates, 0);
    assert.equal(r.resends, 0);
    assert.deepEqual(repeats(got), []);
    assert.ok(r.pending <= 6, "at most one unfilled batch waits at the end: " + r.pending);
    assert.ok(r.handshakesPerReading <= 0.2, "handshakes per reading " + r.handshakesPerReading);
    assert.ok(r.auths <= 2, "the 7-day token is kept in Storage across deep sleeps: auths " + r.auths);
    // Wi-Fi joins only at the wake that posts a batch: about readings/6, not one per wake
    assert.ok(Math.abs(r.wifiJoins - r.readings / 6) <= 3, "Wi-Fi joins " + r.wifiJoins + " for " + r.readings + " readings");
  });

  it("deep sleep under 20000 (credentials refused) for a simulated week: the backoff survives the wakes, requests stay within the long schedule", async function () {
    const scenario = { name: "refused", description: "20000 all week", events: [{ fault: "platformCode" as const, atMin: 0, code: 20000 }] };
    const { r } = await run({ minutes: 7 * 1440, intervalSec: 600, scenario });
    // attempts that fit in a week when every wait is the shortest the long schedule allows
    let bound = 0;
    for (let t = 0; t < 7 * 86400000; t += backoffMs(bound, LONG_BASE_MS, LONG_CAP_MS, 0)) bound++;
    assert.ok(r.deepSleeps >= 1000 && r.readings >= 1000, "every wake reads: readings " + r.readings + ", deep sleeps " + r.deepSleeps);
    // every /auth is refused; the one time request (GET /auth) is the power-on's, timer wakes estimate the clock
    assert.equal(r.timeRequests, 1);
    assert.equal(r.errorsByCode["20000"], r.requests - r.timeRequests);
    assert.ok(r.requests >= 10 && r.requests <= bound, "requests " + r.requests + " in " + r.deepSleeps + " wakes (bound " + bound + ")");
    console.log("      a week under 20000: " + r.requests + " requests in " + r.deepSleeps + " wakes (one per wake without the stored backoff)");
  });
});
