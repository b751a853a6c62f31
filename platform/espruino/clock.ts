// HAL Clock on Espruino's getTime/setTime (the IoT client sets it from the server's Date header).
import type { Clock } from "../hal";

/** Espruino time functions: `getTime()` in seconds (fractional), `setTime(seconds)`. */
export interface EspTime {
  getTime(): number;
  setTime(sec: number): void;
}

/** Wall time before 2020 means the RTC was never set (it starts near 0 after boot). */
const EARLIEST_MS = 1577836800000;

export function createClock(t: EspTime): Clock {
  // getTime() jumps when the time is set; `base` moves with it so uptime stays monotonic.
  let base = t.getTime();
  let wasSet = false;
  return {
    nowMs: function () {
      return Math.floor(t.getTime() * 1000);
    },
    synced: function () {
      return wasSet || t.getTime() * 1000 > EARLIEST_MS;
    },
    set: function (epochMs) {
      const before = t.getTime();
      t.setTime(epochMs / 1000);
      base += t.getTime() - before;
      wasSet = true;
    },
    uptimeMs: function () {
      return Math.floor((t.getTime() - base) * 1000);
    },
  };
}
