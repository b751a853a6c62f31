// The duty cycle: read the DHT22, put each good reading in the flash queue before any network
// attempt, deliver (realtime property posts or batched history posts), report sensor trouble and
// queue health, then sleep; deep sleep is a reboot, so what must survive lives in Storage.
import type { Hal, Store, Clock } from "../platform/hal";
import type { DeviceConfig } from "./config";
import { createIotClient, IotClient } from "./iot/client";
import type { Props } from "./iot/alink";
import { load as loadAlink } from "./iot/alink.lazy";
import type { Dht22, DhtRead } from "../sensors/driver";
import type { Filter, Health, HealthReport, RateState } from "../sensors/validate";
import { load as loadSensing } from "../sensors/sensing.lazy";
import type { Queue, QueueHealth, QueueRecord } from "./queue";
import { load as loadQueue } from "./queue.lazy";
import { createDelivery, FlushResult } from "./delivery";
import { bootOffsetMs, wallKnown } from "./timefix";
import { load as loadOta } from "./ota.lazy";
import { load as loadOtaLib } from "./ota-lib.lazy";
import { load as loadTrial } from "./ota-trial.lazy";
import { watchRequests } from "./ota-trial";
import { FIRMWARE_VERSION } from "./version";
import { load as loadOnce } from "./once.lazy";
import { ACCOUNT } from "./account";

/** Shorter intervals idle with timers: waking from deep sleep costs a reboot, Wi-Fi join and TLS handshake. */
export const DEEP_SLEEP_MIN_SEC = 60;
/** Event that reports a failed sensor read (no values are made up; the error is the content). */
export const SENSOR_EVENT = "sensorError";
/** Event with the queue's health after an outage (backlog drained, readings evicted). */
export const HEALTH_EVENT = "queueHealth";
/**
 * Storage record of the schedule, kept across deep sleep: `{"n": wall ms of the next reading, "e": evicted
 * count last reported, "b": [temperature, humidity, wall ms, rejects since] of the rate check's baseline,
 * "s": failed sensor reads in a row (absent when 0)}`.
 */
export const SCHEDULE_REC = "app.next";
/** A wake more than this before the next reading goes straight back to sleep. */
const EARLY_MS = 2000;

export interface AppStats {
  /** Reads attempted / that failed (after the driver's retries and validation). */
  reads: number;
  sensorFailures: number;
  /** Readings the platform accepted (this boot). */
  published: number;
  /** Readings the platform refused for good (code 10001 alone), dropped and logged. */
  rejected: number;
  /** Readings waiting in the flash queue. */
  unsent: number;
}

export interface App {
  stats: AppStats;
  client: IotClient;
  queue: Queue;
  /** Cancels the pending timers (tests, OTA). */
  stop(): void;
}

/** The stored schedule: wall ms of the next reading (0 unknown), the evicted count last reported, the rate baseline (or null), sensor failures in a row. */
export function readSchedule(store: Store): { n: number; e: number; b: number[] | null; s: number } {
  try {
    const o = JSON.parse(store.read(SCHEDULE_REC) || "{}");
    const b = o.b && o.b.length === 4 ? o.b : null;
    return { n: +o.n || 0, e: +o.e || 0, b: b, s: Math.max(0, Math.floor(+o.s || 0)) };
  } catch {
    return { n: 0, e: 0, b: null, s: 0 };
  }
}

/** Ms until the next reading is due when the wall time says it is still ahead, else 0 (due now or unknown). */
export function dueInMs(store: Store, clock: Clock): number {
  if (!wallKnown(clock)) return 0;
  const left = readSchedule(store).n - clock.nowMs();
  return left > EARLY_MS ? left : 0;
}

export function startApp(hal: Hal, config: DeviceConfig): App {
  const log = hal.log;
  const clock = hal.clock;
  const periodMs = config.intervalSec * 1000;
  const deep = config.deepSleep && config.intervalSec >= DEEP_SLEEP_MIN_SEC;
  const client = createIotClient(hal, {
    productKey: config.productKey,
    deviceName: config.deviceName,
    deviceSecret: config.deviceSecret,
    endpoint: config.endpoint,
    signMethod: config.signMethod,
    clientId: config.clientId,
  });
  // OTA (docs/ota.md), on when otaUrl is set: each cycle's health check confirms a new script
  // (the trial, made at boot: it watches this boot's requests); after a successful publish the
  // updater reports the running version once per version and checks the manifest on due cycles.
  // The updater is a lazy part made only then: it holds about 260 JsVars of a stock ESP32's 4,095
  // through the update (measured on espruino-esp32-model), its checks and writers are made for each use.
  if (ACCOUNT) log("M", "IoT client");
  const trial = config.otaUrl ? loadTrial().createTrial(hal, FIRMWARE_VERSION) : null;
  if (trial && trial.on) watchRequests(hal.net, trial);
  if (ACCOUNT) log("M", "OTA trial");
  // The flash queue and the delivery: dropped before an OTA step that ends the boot (the update
  // then has their RAM), made again should a cycle follow after all.
  let queueNow: Queue | null = null;
  let deliveryNow: ReturnType<typeof createDelivery> | null = null;
  function q(): Queue {
    if (!queueNow) queueNow = loadQueue().openQueue(hal.store, clock, { budgetBytes: config.queueBudgetBytes, segmentBytes: config.queueSegmentBytes, nextId: client.nextId });
    return queueNow;
  }
  function dl(): ReturnType<typeof createDelivery> {
    if (!deliveryNow) deliveryNow = createDelivery(client, q(), {
      productKey: config.productKey,
      deviceName: config.deviceName,
      mode: config.delivery,
      batchSize: config.batchSize,
      maxPostsPerCycle: config.maxPostsPerCycle,
    }, log);
    return deliveryNow;
  }
  const perCycle = config.delivery === "batch" ? config.batchSize : 1;
  // the reader exists only for this call (a lazy part: build/lazy.ts)
  const sched = loadOnce().readSchedule(hal.store);
  // Deep sleep is a reboot: the rate check's baseline comes back from the schedule, on this boot's
  // uptime base, but only when wall time is known (else the time since it is unknown).
  const rate: RateState = { last: null, rejects: 0 };
  const b = sched.b;
  let restored: RateState["last"] = null;
  if (b && wallKnown(clock)) {
    restored = rate.last = { t: b[0], h: b[1], atMs: b[2] - bootOffsetMs(clock) };
    rate.rejects = b[3];
  }
  // Failed reads in a row, across boots (every cycle is one): the sensor fault event says how many.
  let sensorFails = sched.s;
  // The sensor side (a lazy part): made for a reading, dropped before the network when this boot
  // ends after the cycle; kept between cycles of a boot that idles on timers (its failure counts).
  let sensing: { dht: Dht22; check: Filter; health: Health } | null = null;
  function sense(): { dht: Dht22; check: Filter; health: Health } {
    if (!sensing) {
      const lib = loadSensing();
      sensing = { dht: lib.createDht22(hal.dht, hal.timers, clock), check: lib.chain([lib.modelRange, lib.rateCheck(undefined, rate)]), health: lib.createHealth(sensorFails) };
    }
    return sensing;
  }
  /** Whether this boot ends after the cycle: a deep sleep, or a restart from flash (not on OTA trial). */
  function lastCycle(): boolean {
    return deep || (!!hal.power.restartIn && !(trial && trial.on));
  }
  const stats: AppStats = { reads: 0, sensorFailures: 0, published: 0, rejected: 0, unsent: loadQueue().depth(q()) };
  if (ACCOUNT) log("M", "queue state, stored schedule");
  let reported = sched.e;
  let flushing = false;
  let cycleTimer = -1;
  let retryTimer = -1;
  let stopped = false;

  /** One flush at a time (the cycle's and a retry's never overlap); `done` gets null when skipped. */
  function flush(fresh: QueueRecord | null, done: (f: FlushResult | null) => void): void {
    if (flushing) return done(null);
    flushing = true;
    dl().flush(fresh, function (f) {
      flushing = false;
      stats.published += f.delivered;
      stats.rejected += f.rejected;
      stats.unsent = f.depth;
      done(f);
    });
  }

  /** Logs the queue's health; sends it as an event after a drained backlog or new evictions. */
  function reportHealth(f: FlushResult | null, then: () => void): void {
    const h: QueueHealth = loadQueue().health(q());
    const age = h.oldestAgeMs < 0 ? -1 : Math.round(h.oldestAgeMs / 1000);
    log(h.evicted > reported || h.corrupt ? "W" : "I", "queue: depth " + h.depth + ", evicted " + h.evicted + ", oldest " + age + " s, " + h.bytes + " B" +
      (f && f.posts ? "; sent " + f.delivered + " in " + f.posts + " posts, code " + f.code : ""));
    const news = h.evicted !== reported || (f !== null && f.delivered > perCycle);
    if (!f || f.code || !news || client.waitMs()) return then();
    const values: Props = { depth: h.depth, evicted: h.evicted, oldestAgeSec: age, corrupt: h.corrupt };
    // The Alink writers are made for the body and gone before the request (no local keeps them).
    const ev = loadAlink().eventRequest(config.productKey, config.deviceName, client.nextId(), HEALTH_EVENT, values, wallKnown(clock) ? clock.nowMs() : 0);
    client.publish(ev.topic, ev.body, function (r) {
      if (r.ok) reported = h.evicted;
      then();
    });
  }

  /** Sends one `sensorError` event after a failed read; not retried (the next read tells again). */
  function reportSensorFault(error: string, h: HealthReport, then: () => void): void {
    log("W", "sensor: " + error + " (" + h.consecutiveFailures + " in a row, " + h.checksumErrors + " checksum errors)");
    if (client.waitMs() || flushing) return then();
    const values: Props = { error: error, consecutiveFailures: h.consecutiveFailures, checksumErrors: h.checksumErrors };
    // The Alink writers are made for the body and gone before the request (no local keeps them).
    const ev = loadAlink().eventRequest(config.productKey, config.deviceName, client.nextId(), SENSOR_EVENT, values, wallKnown(clock) ? clock.nowMs() : 0);
    client.publish(ev.topic, ev.body, function () {
      then();
    });
  }

  /** Whether readings wait because a flush failed or the client is backing off. */
  function unsentStuck(f: FlushResult | null): boolean {
    return loadQueue().depth(q()) > 0 && ((f !== null && f.code !== 0) || client.waitMs() > 0);
  }

  /** Idle mode only: tries the queue again when the client's backoff ends, if before the next reading. */
  function retryLater(untilNextMs: number): void {
    const w = Math.max(client.waitMs(), 1000);
    if (retryTimer >= 0 || stopped || !unsentStuck(null) || w >= untilNextMs) return;
    retryTimer = hal.timers.after(w, function () {
      retryTimer = -1;
      flush(null, function (f) {
        reportHealth(f, function () {
          if (unsentStuck(f)) retryLater(untilNextMs - w);
        });
      });
    });
  }

  function sleepUntilNext(startedMs: number, f: FlushResult | null): void {
    if (stopped) return;
    hal.power.kick();
    let waitMs = startedMs + periodMs - clock.uptimeMs();
    if (waitMs < 0) waitMs = 0;
    // Between cycles RAM holds nothing of ours: a deep sleep, else a restart from flash after the
    // wait (a board has a few thousand JsVars; every cycle starts on a clean heap). Both are a new
    // boot, so the schedule and the rate baseline go to Storage first.
    // A script on trial idles with timers until confirmed: each boot is one of its few trial boots.
    if (lastCycle()) {
      // The schedule survives the reboot; on a timer wake the boot sets the clock from it.
      const nextWall = wallKnown(clock) ? Math.floor(clock.nowMs()) + waitMs : 0;
      const rec: { n: number; e: number; b?: number[]; s?: number } = { n: nextWall, e: reported };
      if (sensorFails) rec.s = sensorFails;
      const last = rate.last;
      // The rate baseline in wall ms (a restored one as stored: a clock fix since boot must not move it);
      // no field at all rather than `undefined`, which JSON engines differ on.
      if (nextWall && last) rec.b = [last.t, last.h, last === restored ? b![2] : last.atMs + bootOffsetMs(clock), rate.rejects];
      hal.store.write(SCHEDULE_REC, JSON.stringify(rec));
      log("I", (deep ? "deep " : "") + "sleep " + Math.round(waitMs / 1000) + " s");
      // Sleep to the stored time exactly: the write and the log took time too.
      if (nextWall) waitMs = Math.max(0, nextWall - Math.floor(clock.nowMs()));
      if (deep ? hal.power.deepSleep(waitMs) : hal.power.restartIn!(waitMs)) return;
    }
    if (unsentStuck(f)) retryLater(waitMs);
    cycleTimer = hal.timers.after(waitMs, cycle);
  }

  function cycle(): void {
    cycleTimer = -1;
    const startedMs = clock.uptimeMs();
    stats.reads++;
    sense().dht.read(function (raw) {
      // Once the driver's call has returned: the sensor part can be freed only when no call of
      // it is on the stack (the compaction before the first request collects it).
      hal.timers.after(0, function () {
        sensed(raw, startedMs);
      });
    });
  }

  /** The rest of a cycle: the reading checked, stored and delivered, or the fault reported. */
  function sensed(raw: DhtRead, startedMs: number): void {
    // No local holds the sensor part: the closures below keep this scope through the network phase.
    if (ACCOUNT) log("M", "sensor part, frame read");
    const r = sense().check(raw, startedMs);
    sense().health.record(raw.ok ? r : raw, clock.uptimeMs());
    const h = sense().health.report(clock.uptimeMs());
    sensorFails = h.consecutiveFailures;
    // The sensor part is done for this boot when it ends after the cycle, and on an OTA trial boot,
    // whose cycles also run the updater (the most RAM of any path); a boot that idles on timers
    // otherwise keeps it between cycles (its checksum error count).
    if (lastCycle() || (trial && trial.on)) sensing = null;
    function finish(fresh: QueueRecord | null): void {
      flush(fresh, function (f) {
        // The OTA health check of a new script: it runs, the sensor answered, a request went out.
        if (trial) loadTrial().trialHealth(hal, trial, raw.ok);
        reportHealth(f, function () {
          if (!f || !f.delivered || !trial) return sleepUntilNext(startedMs, f);
          // The cycle number counts periods of wall time, so it keeps going across deep sleeps.
          const n = wallKnown(clock) ? Math.floor(clock.nowMs() / periodMs) : stats.reads;
          // A trial confirmed by this cycle ends the boot after it too. What the update does not
          // need goes first: the sensor part, the queue and the delivery.
          if (lastCycle()) {
            sensing = null;
            queueNow = null;
            deliveryNow = null;
          }
          // From a 0 ms timer: the delivery's calls are then off the stack, so the compaction
          // before the OTA step's first request frees what was just dropped.
          hal.timers.after(0, function () {
            // Not called back when an update was installed: the device reboots into it.
            loadOta().createOta(hal, { version: FIRMWARE_VERSION, productKey: config.productKey, deviceName: config.deviceName, manifestUrl: config.otaUrl,
              everyCycles: config.otaEveryCycles, chunkBytes: config.otaChunkBytes, trialBoots: config.otaTrialBoots }, client, trial, loadOtaLib).afterPublish(n, function () {
              sleepUntilNext(startedMs, f);
            });
          });
        });
      });
    }
    if (!r.ok) {
      stats.sensorFailures++;
      reportSensorFault(r.error, h, function () {
        finish(null);
      });
      return;
    }
    // No local keeps the Alink part: this scope lives through the network phase.
    log("I", "reading " + loadAlink().readingText(r.temperature, r.humidity));
    // Into flash first: from here on a reboot or power loss cannot lose it.
    const rec = loadQueue().push(q(), { temperature: r.temperature, humidity: r.humidity });
    if (!rec) log("E", "queue: reading not stored (Storage full or failing)");
    if (ACCOUNT) log("M", "reading queued, sensor part dropped");
    finish(rec);
  }

  if (ACCOUNT) log("M", "app");
  // The watchdog reboots a device whose cycle stopped coming round; each cycle kicks it.
  hal.power.watchdog(config.intervalSec * 2 + 120);
  const early = deep ? loadOnce().dueInMs(hal.store, clock) : 0;
  if (early) {
    log("I", "woke " + Math.round(early / 1000) + " s early, back to sleep");
    if (!hal.power.deepSleep(early)) cycleTimer = hal.timers.after(early, cycle);
  } else cycle();

  return {
    stats: stats,
    client: client,
    queue: q(),
    stop: function () {
      stopped = true;
      if (cycleTimer >= 0) hal.timers.cancel(cycleTimer);
      if (retryTimer >= 0) hal.timers.cancel(retryTimer);
    },
  };
}
