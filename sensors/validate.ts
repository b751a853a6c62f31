// Reading checks between the driver and the publisher: thing-model range, rate of change, median, health.
import type { DhtResult } from "./dht22";

/** A filter takes a result and the time in ms and returns it, or an error result in its place. */
export type Filter = (r: DhtResult, nowMs: number) => DhtResult;

/** Thing model: temperature FLOAT -50..100 °C, humidity FLOAT 0..100 %RH. */
export function modelRange(r: DhtResult): DhtResult {
  if (!r.ok) return r;
  const t = r.temperature;
  const h = r.humidity;
  // Written so that NaN fails too.
  if (!(t >= -50 && t <= 100 && h >= 0 && h <= 100)) return { ok: false, error: "model-range" };
  return r;
}

export interface RateOptions {
  /** Allowed temperature change: `tempC` plus `tempCPerMin` per minute since the last accepted reading. */
  tempC?: number;
  tempCPerMin?: number;
  /** Same for humidity in %RH. */
  humRh?: number;
  humRhPerMin?: number;
  /** After this many rejections in a row the new level is taken as real (default 3). */
  maxRejects?: number;
}

/** The rate check's memory: the last accepted reading (`atMs` on the filter's time base) and the rejections since. */
export interface RateState {
  last: { t: number; h: number; atMs: number } | null;
  rejects: number;
}

/**
 * Rejects a reading that jumps further from the last accepted one than the air can change
 * (error "rate"). The allowance grows with the time since that reading, and a level that keeps
 * coming back is accepted after `maxRejects` rejections, so one bad baseline cannot lock it out.
 * `state` is the caller's object, kept up to date, so a deep-sleeping caller can store and restore it.
 */
export function rateCheck(opts?: RateOptions, state?: RateState): Filter {
  const o = opts || {};
  const tempC = o.tempC || 2;
  const tempCPerMin = o.tempCPerMin || 1;
  const humRh = o.humRh || 5;
  const humRhPerMin = o.humRhPerMin || 5;
  const maxRejects = o.maxRejects || 3;
  const s: RateState = state || { last: null, rejects: 0 };
  return function (r, nowMs) {
    if (!r.ok) return r;
    const last = s.last;
    if (last && s.rejects < maxRejects) {
      const min = Math.max(0, nowMs - last.atMs) / 60000;
      if (
        Math.abs(r.temperature - last.t) > tempC + tempCPerMin * min ||
        Math.abs(r.humidity - last.h) > humRh + humRhPerMin * min
      ) {
        s.rejects++;
        return { ok: false, error: "rate" };
      }
    }
    s.rejects = 0;
    s.last = { t: r.temperature, h: r.humidity, atMs: nowMs };
    return r;
  };
}

/** Runs filters in order; the first error result stops the chain. */
export function chain(filters: Filter[]): Filter {
  return function (r, nowMs) {
    for (let i = 0; i < filters.length && r.ok; i++) r = filters[i](r, nowMs);
    return r;
  };
}

/** Median of numbers (mean of the middle two for an even count), rounded to 0.1. */
export function median(values: number[]): number {
  const s = values.slice().sort(function (a, b) {
    return a - b;
  });
  const m = s.length >> 1;
  const v = s.length & 1 ? s[m] : (s[m - 1] + s[m]) / 2;
  // halves away from zero on every engine (Espruino's Math.round(-37.5) is -38, V8's -37)
  return (v < 0 ? -1 : 1) * Math.round(Math.abs(v) * 10) / 10;
}

/**
 * Takes `n` readings through `read` and answers the per-channel median of the good ones; needs
 * a majority of good readings, else the last error. `read` is the driver's, so spacing holds.
 */
export function readMedian(read: (cb: (r: DhtResult) => void) => void, n: number, cb: (r: DhtResult) => void): void {
  const ts: number[] = [];
  const hs: number[] = [];
  let done = 0;
  let lastError = "timeout";
  function next(): void {
    if (done === n) {
      if (ts.length * 2 > n) cb({ ok: true, temperature: median(ts), humidity: median(hs) });
      else cb({ ok: false, error: lastError });
      return;
    }
    read(function (r) {
      done++;
      if (r.ok) {
        ts.push(r.temperature);
        hs.push(r.humidity);
      } else lastError = r.error;
      next();
    });
  }
  next();
}

/** What the firmware reports about the sensor. */
export interface HealthReport {
  /** Failed reads since the last good one (across boots when the caller passes the count in). */
  consecutiveFailures: number;
  /** Failed reads since boot. */
  failures: number;
  /** Captures that failed the checksum since boot (wiring or noise). */
  checksumErrors: number;
  /** Seconds since the last good reading; null before the first. */
  lastGoodAgeSec: number | null;
  /** The last read's error, or "" after a good read. */
  lastError: string;
}

export interface Health {
  /** Counts one read's outcome; `checksumErrors` is the driver's count for that read, if any. */
  record(r: DhtResult & { checksumErrors?: number }, nowMs: number): void;
  report(nowMs: number): HealthReport;
}

/** `failedInARow`: failed reads in a row before this boot (a device that reboots every cycle keeps it in Storage). */
export function createHealth(failedInARow?: number): Health {
  let consecutiveFailures = failedInARow || 0;
  let failures = 0;
  let checksumErrors = 0;
  let lastGoodMs: number | null = null;
  let lastError = "";
  return {
    record: function (r, nowMs) {
      if (r.checksumErrors) checksumErrors += r.checksumErrors;
      else if (!r.ok && r.error === "checksum") checksumErrors++;
      if (r.ok) {
        consecutiveFailures = 0;
        lastGoodMs = nowMs;
        lastError = "";
      } else {
        consecutiveFailures++;
        failures++;
        lastError = r.error;
      }
    },
    report: function (nowMs) {
      return {
        consecutiveFailures: consecutiveFailures,
        failures: failures,
        checksumErrors: checksumErrors,
        lastGoodAgeSec: lastGoodMs === null ? null : Math.floor((nowMs - lastGoodMs) / 1000),
        lastError: lastError,
      };
    },
  };
}
