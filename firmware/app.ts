// The duty cycle: read the DHT22, publish each good reading as a property post, retry what the
// platform has not accepted (a few readings kept in RAM), report sensor trouble, sleep.
import type { Hal } from "../platform/hal";
import type { DeviceConfig } from "./config";
import { createIotClient, IotClient, PublishResult } from "./iot/client";
import { eventPost, propertyPost, Props, topics } from "./iot/alink";
import { createDht22 } from "../sensors/driver";
import { chain, createHealth, modelRange, rateCheck } from "../sensors/validate";

/** Readings kept while the platform is unreachable: the oldest goes when a newer one would exceed this. */
export const MAX_UNSENT = 4;
/** Shorter intervals idle with timers: waking from deep sleep costs a reboot, Wi-Fi join and TLS handshake. */
export const DEEP_SLEEP_MIN_SEC = 60;
/** Event that reports a failed sensor read (no values are made up; the error is the content). */
export const SENSOR_EVENT = "sensorError";

/** One good reading waiting to be accepted. `timeMs` is 0 when the wall time was unknown. */
export interface Reading {
  temperature: number;
  humidity: number;
  timeMs: number;
}

export interface AppStats {
  /** Reads attempted / that failed (after the driver's retries and validation). */
  reads: number;
  sensorFailures: number;
  /** Readings the platform accepted. */
  published: number;
  /** Readings dropped unsent: pushed out by newer ones, or refused as malformed (not retryable). */
  dropped: number;
  /** Readings waiting in RAM. */
  unsent: number;
}

export interface App {
  stats: AppStats;
  client: IotClient;
  /** Cancels the pending timers (tests, OTA). */
  stop(): void;
}

export function startApp(hal: Hal, config: DeviceConfig): App {
  const log = hal.log;
  const clock = hal.clock;
  const periodMs = config.intervalSec * 1000;
  const client = createIotClient(hal, {
    productKey: config.productKey,
    deviceName: config.deviceName,
    deviceSecret: config.deviceSecret,
    endpoint: config.endpoint,
    signMethod: config.signMethod,
    clientId: config.clientId,
  });
  const topic = topics(config.productKey, config.deviceName);
  const dht = createDht22(hal.dht, hal.timers, clock);
  const check = chain([modelRange, rateCheck()]);
  const health = createHealth();
  const unsent: Reading[] = [];
  const stats: AppStats = { reads: 0, sensorFailures: 0, published: 0, dropped: 0, unsent: 0 };
  let delivering = false;
  let cycleTimer = -1;
  let retryTimer = -1;
  let stopped = false;

  function props(r: Reading): Props {
    // A reading sent late carries its own sample time, when the time was known.
    if (r.timeMs) return { temperature: { value: r.temperature, time: r.timeMs }, humidity: { value: r.humidity, time: r.timeMs } };
    return { temperature: r.temperature, humidity: r.humidity };
  }

  /**
   * Delivers the unsent readings, oldest first, one property post each; stops at the first failure.
   * `done` gets the client's retry delay (ms) when something is left to resend, else -1.
   */
  function deliver(done: (retryInMs: number) => void): void {
    if (!unsent.length || delivering) {
      done(-1);
      return;
    }
    delivering = true;
    const r = unsent[0];
    client.publish(topic.property, propertyPost(client.nextId(), props(r)), function (res: PublishResult) {
      delivering = false;
      if (res.ok || res.retryInMs === undefined) {
        if (unsent[0] === r) unsent.shift();
        if (res.ok) stats.published++;
        else {
          stats.dropped++;
          log("E", "reading refused (code " + res.code + "), dropped");
        }
        stats.unsent = unsent.length;
        deliver(done);
        return;
      }
      done(res.retryInMs);
    });
  }

  /** Sends one `sensorError` event after a failed read; not retried (the next read tells again). */
  function reportSensorFault(error: string, then: () => void): void {
    const h = health.report(clock.uptimeMs());
    log("W", "sensor: " + error + " (" + h.consecutiveFailures + " in a row, " + h.checksumErrors + " checksum errors)");
    if (client.waitMs() || delivering) {
      then();
      return;
    }
    const values: Props = { error: error, consecutiveFailures: h.consecutiveFailures, checksumErrors: h.checksumErrors };
    client.publish(topic.event(SENSOR_EVENT), eventPost(client.nextId(), SENSOR_EVENT, values, clock.synced() ? clock.nowMs() : 0), function () {
      then();
    });
  }

  function retryLater(ms: number): void {
    if (retryTimer >= 0 || stopped) return;
    retryTimer = hal.timers.after(ms, function () {
      retryTimer = -1;
      deliver(function (again) {
        if (again >= 0) retryLater(again);
      });
    });
  }

  function sleepUntilNext(startedMs: number): void {
    if (stopped) return;
    hal.power.kick();
    let waitMs = startedMs + periodMs - clock.uptimeMs();
    if (waitMs < 0) waitMs = 0;
    // Deep sleep reboots: only when nothing is left in RAM to send.
    if (config.deepSleep && !unsent.length && config.intervalSec >= DEEP_SLEEP_MIN_SEC) {
      log("I", "deep sleep " + Math.round(waitMs / 1000) + " s");
      if (hal.power.deepSleep(waitMs)) return;
    }
    cycleTimer = hal.timers.after(waitMs, cycle);
  }

  function cycle(): void {
    cycleTimer = -1;
    const startedMs = clock.uptimeMs();
    stats.reads++;
    dht.read(function (raw) {
      const r = check(raw, startedMs);
      health.record(raw.ok ? r : raw, clock.uptimeMs());
      function finish(): void {
        deliver(function (retryInMs) {
          if (retryInMs >= 0) retryLater(retryInMs);
          sleepUntilNext(startedMs);
        });
      }
      if (!r.ok) {
        stats.sensorFailures++;
        reportSensorFault(r.error, finish);
        return;
      }
      log("I", "reading " + r.temperature.toFixed(1) + " C " + r.humidity.toFixed(1) + " %RH");
      unsent.push({ temperature: r.temperature, humidity: r.humidity, timeMs: clock.synced() ? clock.nowMs() : 0 });
      if (unsent.length > MAX_UNSENT && !delivering) {
        unsent.shift();
        stats.dropped++;
        log("W", "oldest unsent reading dropped (" + stats.dropped + " so far)");
      }
      stats.unsent = unsent.length;
      finish();
    });
  }

  // The watchdog reboots a device whose cycle stopped coming round; each cycle kicks it.
  hal.power.watchdog(config.intervalSec * 2 + 120);
  cycle();

  return {
    stats: stats,
    client: client,
    stop: function () {
      stopped = true;
      if (cycleTimer >= 0) hal.timers.cancel(cycleTimer);
      if (retryTimer >= 0) hal.timers.cancel(retryTimer);
    },
  };
}
