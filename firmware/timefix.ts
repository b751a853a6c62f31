// Reading times before and after the clock syncs: a wall time when known, else an uptime offset
// of this boot that becomes a wall time once the clock syncs; never a 1970 timestamp.
//
//   stampText(clock)      -> "1732580000000" (wall ms) or "u12345" (uptime ms, clock not synced)
//   bootOffsetMs(clock)   -> wall ms minus uptime ms, or -1 while the clock cannot be trusted
//   resolveMs(stamp, off) -> wall ms of a stamp, given this boot's offset (-1 unknown); 0 = unknown
import type { Clock } from "../platform/hal";

/** Wall times before 2020-01-01 are an unset clock, not a reading time. */
export const MIN_EPOCH_MS = 1577836800000;

/** No server Date before this is believed (2026-11-01, before this firmware was built; raise it with
 * a release): a forged Date cannot send the clock back to replay old signed timestamps. */
export const TIME_FLOOR_MS = 1793491200000;

/** Whether the clock holds a plausible wall time. */
export function wallKnown(clock: Clock): boolean {
  return clock.synced() && clock.nowMs() >= MIN_EPOCH_MS;
}

/** Stamp stored with a reading: wall ms when known, else "u" + ms since this boot. */
export function stampText(clock: Clock): string {
  return wallKnown(clock) ? String(Math.floor(clock.nowMs())) : "u" + Math.floor(clock.uptimeMs());
}

/** Offset that turns this boot's uptime into wall time; -1 while unknown. */
export function bootOffsetMs(clock: Clock): number {
  return wallKnown(clock) ? Math.floor(clock.nowMs() - clock.uptimeMs()) : -1;
}

/** Wall ms of a stored stamp; `offsetMs` is the fix for uptime stamps (-1 none); 0 = unknown. */
export function resolveMs(stamp: string, offsetMs: number): number {
  if (stamp.charAt(0) !== "u") {
    const t = parseInt(stamp, 10);
    return t >= MIN_EPOCH_MS ? t : 0;
  }
  if (offsetMs < 0) return 0;
  const w = offsetMs + parseInt(stamp.substr(1), 10);
  return w >= MIN_EPOCH_MS ? w : 0;
}
