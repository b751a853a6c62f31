// DHT22 driver: start pulse, capture, decode, retries at the sensor's minimum spacing.
import type { Clock, PulseCapture, Timers } from "../platform/hal";
import { decodeDht22, DhtResult } from "./dht22";

/** One read: the decoded reading (or the last try's error), how many captures it took, and how many failed the checksum. */
export type DhtRead = DhtResult & { tries: number; checksumErrors: number };

export interface DhtOptions {
  /** Captures per read before giving up (default 3). */
  tries?: number;
  /** Spacing between captures; the datasheet's 2000 ms is the floor (default 2000). */
  minIntervalMs?: number;
  /** Host start pulse, low; the datasheet asks for at least 1 ms (default 2). */
  startLowMs?: number;
  /** How long to record the answer: 40 bits take at most ~5 ms (default 10). */
  windowMs?: number;
}

export interface Dht22 {
  /** Reads once (with retries); `cb` gets one result. Calls made while a read runs share its result. */
  read(cb: (r: DhtRead) => void): void;
}

/** The sensor's own limit: it answers garbage or nothing when polled faster. */
const MIN_SPACING_MS = 2000;

export function createDht22(capture: PulseCapture, timers: Timers, clock: Clock, opts?: DhtOptions): Dht22 {
  const o = opts || {};
  const maxTries = o.tries && o.tries > 0 ? o.tries : 3;
  const spacingMs = o.minIntervalMs && o.minIntervalMs > MIN_SPACING_MS ? o.minIntervalMs : MIN_SPACING_MS;
  const startLowMs = o.startLowMs && o.startLowMs >= 1 ? o.startLowMs : 2;
  const windowMs = o.windowMs && o.windowMs > 0 ? o.windowMs : 10;
  // Uptime of the last capture start; spacing holds across reads, not just between retries.
  let lastMs = -1;
  let waiting: ((r: DhtRead) => void)[] = [];
  let tries = 0;
  let checksumErrors = 0;

  function finish(r: DhtResult): void {
    const out = r as DhtRead;
    out.tries = tries;
    out.checksumErrors = checksumErrors;
    const cbs = waiting;
    waiting = [];
    for (let i = 0; i < cbs.length; i++) cbs[i](out);
  }

  function attempt(): void {
    lastMs = clock.uptimeMs();
    tries++;
    capture.capture(startLowMs, windowMs, function (highUs) {
      const r = decodeDht22(highUs);
      if (!r.ok && r.error === "checksum") checksumErrors++;
      if (r.ok || tries >= maxTries) finish(r);
      else schedule();
    });
  }

  function schedule(): void {
    const waitMs = lastMs < 0 ? 0 : lastMs + spacingMs - clock.uptimeMs();
    if (waitMs > 0) timers.after(waitMs, attempt);
    else attempt();
  }

  return {
    read: function (cb) {
      waiting.push(cb);
      if (waiting.length > 1) return;
      tries = 0;
      checksumErrors = 0;
      schedule();
    },
  };
}
