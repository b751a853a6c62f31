// Reply codes of the Alibaba IoT HTTPS channel (alibaba-http.md section 3), the client's own
// negative codes, and the backoff policy that follows from them.

/** No response: timeout, DNS, refused, TLS, offline. */
export const NET = -1;
/** HTTP status not 2xx (or 5xx) and no usable platform code. */
export const HTTP = -2;
/** The reply was not the JSON the platform sends (HTML page, truncated, mistyped field). */
export const BAD_REPLY = -3;
/** A request is already in flight (the device holds one TLS connection). */
export const BUSY = -4;
/** Not sent: the client is backing off after earlier failures. */
export const HELD = -5;
/** Not sent: the configuration cannot work (e.g. sign method not built in). */
export const CONFIG = -6;

/**
 * What the client does on a code: "ok"; "reauth" (drop the token, re-authenticate, resend once);
 * "retry" (short exponential backoff, then the same message may go again); "hold" (long backoff,
 * credentials are refused: never a tight loop); "drop" (the request itself is wrong: do not resend
 * it; long backoff so a caller repeating the mistake cannot loop).
 */
export function codeAction(code: number): string {
  if (code === 0) return "ok";
  if (code === 20001 || code === 20002 || code === 20003) return "reauth";
  if (code === 20000 || code === CONFIG) return "hold";
  if (code === 10001) return "drop";
  return "retry"; // 10000, 20004, 30001, 40000, unknown codes, HTTP and network failures
}

/** Short schedule (transient faults) and long schedule (20000, 10001), in ms. */
export const SHORT_BASE_MS = 2000;
export const SHORT_CAP_MS = 600000;
export const LONG_BASE_MS = 600000;
export const LONG_CAP_MS = 21600000;

/**
 * Delay before the next attempt after `fails` consecutive failures (1, 2, ...): doubles from
 * `baseMs` up to `capMs`, then "equal jitter" keeps it in [d/2, d) so devices that failed together
 * do not retry together. `rand01` is a random number in [0, 1).
 */
export function backoffMs(fails: number, baseMs: number, capMs: number, rand01: number): number {
  let d = baseMs;
  for (let i = 1; i < fails && d < capMs; i++) d *= 2;
  if (d > capMs) d = capMs;
  return Math.floor(d / 2 + (d / 2) * rand01);
}
