// HAL Power on ESP32.deepSleep and E's watchdog/reboot; sleeps past the int32 microsecond
// limit are split, the rest kept in Storage, because waking from deep sleep is a reboot.
import type { Power, Store } from "../hal";

/** ESP32/E functions used here; `deepSleep` is absent off ESP32 (Linux build). */
export interface EspPower {
  deepSleep?: (us: number) => void;
  /** ESP-IDF wakeup cause; 4 is the timer. */
  wakeupCause?: () => number;
  reboot(): void;
  /** Drops RAM and boots again after `ms` (absent: idle with timers). */
  restart?: (ms: number) => void;
  enableWatchdog(sec: number, isAuto: boolean): void;
  kickWatchdog(): void;
}

/** Longest single deep sleep: int32 microseconds wrap at about 35.8 min, so stay well below. */
export const MAX_SLEEP_MS = 2000000;
/** Storage record holding the ms still to sleep after a split sleep's wake-up. */
export const SLEEP_REST = "sleep.rest";
/** ESP-IDF wakeup cause of the deep-sleep timer. */
export const WAKE_TIMER = 4;

export function createPower(p: EspPower, store: Store): Power {
  return {
    deepSleep: function (ms) {
      if (!p.deepSleep) return false;
      const now = ms > MAX_SLEEP_MS ? MAX_SLEEP_MS : ms;
      if (ms > now) {
        if (!store.write(SLEEP_REST, String(Math.floor(ms - now)))) return false;
      } else if (store.read(SLEEP_REST) !== undefined) store.erase(SLEEP_REST);
      p.deepSleep(Math.floor(now) * 1000);
      return true;
    },
    restartIn: function (ms) {
      if (!p.restart) return false;
      p.restart(Math.floor(ms));
      return true;
    },
    reboot: function () {
      p.reboot();
    },
    watchdog: function (sec) {
      p.enableWatchdog(sec, false); // kicked by the app when it makes progress, not by idle
    },
    kick: function () {
      p.kickWatchdog();
    },
  };
}

/**
 * At boot: if a split sleep is unfinished and the timer woke us, sleeps the next part and returns
 * true (the caller then does nothing else). A reset by hand or power cancels the rest.
 */
export function resumeSleep(p: EspPower, power: Power, store: Store): boolean {
  const rest = store.read(SLEEP_REST);
  if (rest === undefined) return false;
  const ms = parseInt(rest, 10);
  if (!(ms > 0) || !p.wakeupCause || p.wakeupCause() !== WAKE_TIMER) {
    store.erase(SLEEP_REST);
    return false;
  }
  return power.deepSleep(ms);
}
