// HAL Clock on Espruino's getTime/setTime, and a Net wrapper that sets it from the HTTP Date header.
import type { Clock, Net } from "../hal";

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

/** Max drift tolerated before the clock is reset from a Date header (1 s resolution anyway). */
const RESYNC_MS = 5000;

/**
 * Wraps a Net so every response's `Date` header sets the clock when it is unsynced or off by
 * more than RESYNC_MS: the platform checks auth timestamps within 15 minutes of its own time.
 */
export function syncClockFromDate(net: Net, clock: Clock): Net {
  return {
    request: function (req, done) {
      net.request(req, function (err, res) {
        const date = res ? res.headers["date"] : undefined;
        if (date) {
          const ms = Date.parse(date);
          if (ms > EARLIEST_MS && (!clock.synced() || Math.abs(ms - clock.nowMs()) > RESYNC_MS)) clock.set(ms);
        }
        done(err, res);
      });
    },
  };
}
