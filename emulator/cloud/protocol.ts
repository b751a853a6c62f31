// Pure rules of the platform's HTTPS device channel: signing, topic ownership, codes, throttling.
import { createHmac, timingSafeEqual } from "node:crypto";

export const CODE_MESSAGES: { [code: number]: string } = {
  0: "success",
  10000: "common error",
  10001: "param error",
  20000: "auth check error",
  20001: "token is expired",
  20002: "token is null",
  20003: "check token error",
  20004: "update session error",
  30001: "publish message error",
  40000: "request too many",
};

export const SIGN_METHODS: { [method: string]: string } = { hmacmd5: "md5", hmacsha1: "sha1", hmacsha256: "sha256" };
export const TIMESTAMP_WINDOW_MS = 15 * 60 * 1000;
export const MAX_BODY_BYTES = 128 * 1024;
export const MAX_CLIENT_ID = 64;

export interface AuthFields {
  productKey: string;
  deviceName: string;
  clientId: string;
  timestamp?: string | number;
}

/** The string to sign: submitted fields except sign/signmethod/version, keys sorted, key+value, no separators. */
export function signString(f: AuthFields): string {
  const fields: [string, string][] = [
    ["clientId", f.clientId],
    ["deviceName", f.deviceName],
    ["productKey", f.productKey],
  ];
  if (f.timestamp !== undefined) fields.push(["timestamp", String(f.timestamp)]);
  return fields
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([k, v]) => k + v)
    .join("");
}

/** Constant-time comparison of a submitted hex sign (any case) with the expected HMAC. */
export function signMatches(method: string, secret: string, f: AuthFields, sign: string): boolean {
  const expected = createHmac(SIGN_METHODS[method], secret).update(signString(f), "utf8").digest();
  const given = /^[0-9a-fA-F]*$/.test(sign) && sign.length === expected.length * 2 ? Buffer.from(sign, "hex") : Buffer.alloc(expected.length);
  const equal = timingSafeEqual(given, expected);
  return equal && sign.length === expected.length * 2;
}

/** The device a topic belongs to: /sys/{pk}/{dn}/..., /ota/device/{kind}/{pk}/{dn}, /{pk}/{dn}/user/... */
export function topicOwner(topic: string): { productKey: string; deviceName: string } | null {
  const s = topic.split("/");
  if (s[0] !== "" || s.some((part, i) => i > 0 && part === "")) return null;
  if (s[1] === "sys" && s.length > 4) return { productKey: s[2], deviceName: s[3] };
  if (s[1] === "ota" && s[2] === "device" && s.length === 6) return { productKey: s[4], deviceName: s[5] };
  if (s[3] === "user" && s.length > 4) return { productKey: s[1], deviceName: s[2] };
  return null;
}

/** Whether `key` is an own property of `obj` (a request field must never reach Object.prototype). */
export function hasOwn(obj: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

/** A log line with control characters (C0, DEL, C1, line/paragraph separators) shown as \xNN / \uNNNN: one request, one line. */
export function escapeLog(line: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return line.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\\]/g, (c) => {
    if (c === "\\") return "\\\\";
    const n = c.charCodeAt(0);
    return n < 256 ? "\\x" + n.toString(16).padStart(2, "0") : "\\u" + n.toString(16).padStart(4, "0");
  });
}

/** Platform JSON answer for a code (messages carry a detail after the platform's wording). */
export function codeBody(code: number, detail?: string): string {
  const message = (hasOwn(CODE_MESSAGES, String(code)) ? CODE_MESSAGES[code] : "error") + (detail ? `: ${detail}` : "");
  return JSON.stringify({ code, message });
}

/** Per-key token bucket (a device, a client address): `burst` requests at once, refilled at `perSec`. */
export function createThrottle(perSec: number, burst: number) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  // Full buckets are forgotten now and then, so many keys (addresses) cannot grow the map for ever.
  let sweepAt = 0;
  function sweep(nowMs: number): void {
    if (nowMs - sweepAt < 60000 && buckets.size < 10000) return;
    sweepAt = nowMs;
    for (const [k, b] of buckets) if (b.tokens + (Math.max(0, nowMs - b.at) * perSec) / 1000 >= burst) buckets.delete(k);
  }
  return {
    /** True when `key` could send now (takes nothing). */
    peek(key: string, nowMs: number): boolean {
      const b = buckets.get(key);
      return !b || b.tokens + (Math.max(0, nowMs - b.at) * perSec) / 1000 >= 1;
    },
    /** True when the device may send now (and takes one token). */
    take(device: string, nowMs: number): boolean {
      sweep(nowMs);
      const b = buckets.get(device) ?? { tokens: burst, at: nowMs };
      b.tokens = Math.min(burst, b.tokens + (Math.max(0, nowMs - b.at) * perSec) / 1000);
      b.at = nowMs;
      buckets.set(device, b);
      if (b.tokens < 1) return false;
      b.tokens -= 1;
      return true;
    },
  };
}
