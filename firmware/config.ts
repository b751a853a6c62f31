// Device config from the Storage file `iot.json`: parsed, checked field by field, defaults filled in.
import { signMethodBuilt } from "./crypto/hmac";
import { OTA_CHUNK_DEFAULT } from "./ota";

export interface DeviceConfig {
  productKey: string;
  deviceName: string;
  /** Never logged, never in dist/. */
  deviceSecret: string;
  /** `https://host[:port]` or `http://...`, no path. */
  endpoint: string;
  signMethod: string;
  /** At most 64 chars; default `productKey.deviceName`. */
  clientId: string;
  /** Time between readings in seconds. */
  intervalSec: number;
  /** Espruino pin name of the DHT22 data line, e.g. "D4". */
  dhtPin: string;
  /** Absent: the network is managed outside the app (Ethernet, the Linux build). */
  wifi?: { ssid: string; password: string };
  /** Deep-sleep between readings when the interval allows it and nothing waits to be sent. */
  deepSleep: boolean;
  /** Lowest log level printed: "E", "W", "I" or "D". */
  logLevel: string;
  /** "realtime": a property post per reading; "batch": a history post per `batchSize` readings. */
  delivery: string;
  batchSize: number;
  /** Storage bytes the reading queue may use; the oldest readings are evicted (and counted) beyond. */
  queueBudgetBytes: number;
  /** Bytes per queue segment file: the unit of erase and eviction. */
  queueSegmentBytes: number;
  /** HTTPS posts per cycle at most (a backlog drains over several cycles). */
  maxPostsPerCycle: number;
  /** OTA manifest URL; "" = no update checks. */
  otaUrl: string;
  /** Check the manifest every this many cycles (after a successful publish). */
  otaEveryCycles: number;
  /** Bytes per image download request (the most image bytes in RAM at once). */
  otaChunkBytes: number;
  /** Boots a new script gets to publish successfully before the boot stage rolls it back. */
  otaTrialBoots: number;
  /** Absent: the Telnet console is off. Present: on, and the console (serial too) locked with this password. */
  console?: { password: string };
}

export type ConfigResult = { ok: true; config: DeviceConfig; warnings: string[] } | { ok: false; error: string };

export const DEFAULT_ENDPOINT = "https://iot-as-http.cn-shanghai.aliyuncs.com";
export const SIGN_METHODS = ["hmacsha1", "hmacmd5", "hmacsha256"];

/** A check of one value: "" when good, else what is expected (the error reads "<key> must be <that>"). */
type Check = (v: unknown) => string;
type Obj = { [k: string]: unknown };

function isObject(x: unknown): boolean {
  return x instanceof Object && !(x instanceof Array);
}

/** `o` has `k` itself: Espruino's JSON.parse makes a "__proto__" key the prototype, whose keys `in` sees too. */
function has(o: Obj, k: string): boolean {
  // Espruino has no Object.prototype.hasOwnProperty; the instance form works (and a "hasOwnProperty" key cannot shadow it)
  return ({}).hasOwnProperty.call(o, k);
}

function isText(v: unknown, lo: number, hi: number): boolean {
  return typeof v === "string" && v.length >= lo && v.length <= hi;
}

/** A name that can sit in a topic path: no "/", no spaces or control chars, 1..64 chars. */
function topicSafe(s: unknown): boolean {
  if (!isText(s, 1, 64)) return false;
  for (let i = 0; i < (s as string).length; i++) {
    const c = (s as string).charCodeAt(i);
    if (c <= 32 || c == 47 || c > 126) return false;
  }
  return true;
}

function isHttpUrl(url: unknown): boolean {
  return typeof url === "string" && (!url.indexOf("https://") || !url.indexOf("http://"));
}

// Check makers: the range or the list is written once and the error text is made from it.
function whole(lo: number, hi: number): Check {
  // Math.floor(v) === v holds for numbers only ("6", true and null give a different value).
  return (v) => (Math.floor(v as number) === v && v >= lo && v <= hi ? "" : "a whole number from " + lo + " to " + hi);
}
function chars(lo: number, hi: number): Check {
  return (v) => (isText(v, lo, hi) ? "" : "a string of " + lo + ".." + hi + " chars");
}
function oneOf(list: unknown[]): Check {
  return (v) => (list.indexOf(v) < 0 ? "one of " + list.join(", ") : "");
}

/** An http(s) URL with a host, an optional port 1..65535 and at most "/" as path. */
function isEndpoint(url: unknown): boolean {
  if (!isHttpUrl(url)) return false;
  // "http(s)://host:port/" splits into "http(s):", "", "host:port", "".
  const parts = (url as string).split("/");
  const hostPort = parts[2].split(":");
  const port = hostPort[1];
  return parts.length < 5 && !parts[3] && parts[2].indexOf("?") < 0 && hostPort.length < 3 && topicSafe(hostPort[0]) &&
    (port === undefined || (String(parseInt(port)) == port && +port > 0 && +port < 65536));
}

const topicName: Check = (v) => (topicSafe(v) ? "" : "1..64 printable chars without '/' or spaces");

/**
 * The keys of `iot.json`, flat: key, default, check (an undefined default = required). `part` absent
 * is the top level (`o` = the given object: the clientId default is made from it), "wifi" and
 * "console" the keys of those objects; a number is the queue budget, already checked (whole, at
 * least 1024), and the table is the one of the segment size, whose default and range follow it.
 * Exported for the generator of the config reference (build/config-doc.ts).
 */
export function configTable(o: Obj, part?: number | string): unknown[] {
  if (part === "console") return ["password", undefined, (v: unknown) => (topicSafe(v) && (v as string).length >= 12 ? "" : "12..64 printable chars without '/' or spaces")];
  return part
    ? part !== "wifi"
      // A segment is at most half of the budget (eviction must free room), by default a quarter up
      // to 2 KB. The budget is a whole number, so >> is Math.floor of the quotient.
      ? ["queueSegmentBytes", Math.min(2048, (part as number) >> 2), whole(256, (part as number) >> 1)]
      : ["ssid", "", chars(1, 32), "password", "", chars(0, 64)]
    : [
      "productKey", undefined, topicName,
      "deviceName", undefined, topicName,
      "deviceSecret", undefined, (v: unknown) => (isText(v, 1, 1e9) ? "" : "a non-empty string"),
      "endpoint", DEFAULT_ENDPOINT, (v: unknown) => (isEndpoint(v) ? "" : "http(s)://host[:port] with no path"),
      "otaUrl", "", (v: unknown) => (v === "" || isHttpUrl(v) ? "" : "an http(s) URL or absent"),
      "clientId", o.productKey + "." + o.deviceName, chars(1, 64),
      "dhtPin", "D4", chars(1, 8),
      "signMethod", SIGN_METHODS[0], (v: unknown) => oneOf(SIGN_METHODS)(v) || (signMethodBuilt(v as string) ? "" : "built into this firmware: build with --sign-methods " + v),
      "deepSleep", true, oneOf([true, false]),
      "logLevel", "I", oneOf(["E", "W", "I", "D"]),
      "delivery", "realtime", oneOf(["realtime", "batch"]),
      // The DHT22 answers at most every 2 s; a day is the longest period that still shows the device alive.
      "intervalSec", 60, whole(2, 86400),
      // 100 readings of 2 properties fill one history post (200 properties).
      "batchSize", 6, whole(1, 100),
      "queueBudgetBytes", 32768, whole(1024, 1048576),
      "maxPostsPerCycle", 4, whole(1, 50),
      "otaEveryCycles", 24, whole(1, 100000),
      "otaChunkBytes", OTA_CHUNK_DEFAULT, whole(256, 16384),
      "otaTrialBoots", 3, whole(1, 20),
    ];
}

/**
 * Copies the keys of `configTable(o, part)` from `o`, or their defaults, into `c`; returns
 * "<key> ..." for the first bad one, or "".
 */
function checkKeys(o: Obj, c: Obj, part?: number | string): string {
  const table = configTable(o, part);
  for (let i = 0; i < table.length; i += 3) {
    const k = table[i] as string;
    // JSON has no undefined: a key that `o` has was given.
    const v = (c[k] = has(o, k) ? o[k] : table[i + 1]);
    if (v === undefined) return k + " is missing";
    const expected = (table[i + 2] as Check)(v);
    if (expected) return k + " must be " + expected;
  }
  return "";
}

/** "<key> why" for the first bad key, or "" when all are good; fills `c` with `o`'s values or the defaults. */
function check(o: Obj, c: Obj): string {
  // The segment table follows the budget, known once the top level has passed.
  let error = checkKeys(o, c) || checkKeys(o, c, c.queueBudgetBytes as number);
  // Optional objects: absent = feature off (no Wi-Fi management; Telnet console off).
  const subs = ["wifi", "{ssid, password}", "console", "{password}"];
  for (let i = 0; !error && i < subs.length; i += 2) {
    const k = subs[i];
    const w = o[k];
    if (!has(o, k)) continue;
    error = isObject(w) ? checkKeys(w as Obj, (c[k] = {}), k) : "must be an object " + subs[i + 1];
    error = error && k + (isObject(w) ? "." : " ") + error;
  }
  return error;
}

/** A char of a bare word: a key, a number, true/false/null (no RegExp: Espruino's is minimal). */
function wordChar(c: string): boolean {
  return (c >= "0" && c <= "9") || c.toUpperCase() != c.toLowerCase() || c == "_" || c == "$";
}

/**
 * iot.json text as strict JSON, so that the notation a person may use on the console parses on
 * every engine: bare keys (Storage.writeJSON writes `{productKey:"a1"}`) get quotes, and `\uXXXX`
 * escapes beyond ASCII become their UTF-8 bytes (an ESP32 keeps only the low byte of the code:
 * `\u4e2d` would read as "-"; Python's json.dump writes such escapes by default).
 */
export function configText(t: string): string {
  let out = "";
  let q = "";
  for (let i = 0; i < t.length; i++) {
    let c = t.charAt(i);
    if (q) {
      if (c == q) q = "";
      else if (c == "\\") {
        const u = t.charAt(i + 1) == "u" ? parseInt(t.substr(i + 2, 4), 16) : 0;
        if (u > 127) {
          i += 5;
          // UTF-8: a lead byte (110xxxxx or 1110xxxx), then 1 or 2 bytes of 6 bits. Surrogate pairs
          // (emoji) are not joined here; flash.sh writes every character as UTF-8 already.
          const n = u < 2048 ? 1 : 2;
          c = String.fromCharCode(((0xff00 >> (n + 1)) & 255) | (u >> (6 * n)));
          for (let k = n - 1; k >= 0; k--) c += String.fromCharCode(128 | ((u >> (6 * k)) & 63));
        } else c += t.charAt(++i);
      }
    } else if (c == '"' || c == "'") q = c;
    else if (wordChar(c)) {
      let j = i;
      while (wordChar(t.charAt(j + 1))) j++;
      c = t.substr(i, j - i + 1);
      // a number stays as it is; a word other than true/false/null is a bare key
      if (!(c >= "0" && c < ":") && c != "true" && c != "false" && c != "null") c = '"' + c + '"';
      i = j;
    }
    out += c;
  }
  return out;
}

/** Parses `iot.json` text; an error names the first bad key and what it expects. */
export function parseConfig(text: string | undefined): ConfigResult {
  let o: unknown;
  let error = "missing (provision it with flash.sh)";
  if (text) {
    try {
      o = JSON.parse(configText(text));
      error = "";
    } catch {
      error = "not valid JSON";
    }
  }
  const c: Obj = {};
  let n = 0;
  // Espruino's for-in also lists a repeated key twice and the keys of a "__proto__" object (Object.keys
  // lists neither); V8 keeps "__proto__" as a plain key. Either way the config is ambiguous: refused.
  for (const k in o as Obj) n += k == "__proto__" ? 99 : 1;
  error = error || (!isObject(o) ? "not a JSON object" : n != Object.keys(o as Obj).length ? "a key is repeated or is __proto__" : check(o as Obj, c));
  if (error) return { ok: false, error: "iot.json: " + error };
  const warnings: string[] = [];
  // Every known key is in `c` now (wifi and console only when given): the others are typos or stale keys.
  for (const k in o as Obj) if (!has(c, k)) warnings.push("iot.json: unknown key " + k + " ignored");
  return { ok: true, config: c as unknown as DeviceConfig, warnings: warnings };
}
