// Device config from the Storage file `iot.json`: parsed, checked field by field, defaults filled in.
import { signMethodBuilt } from "./crypto/hmac";

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
}

export type ConfigResult = { ok: true; config: DeviceConfig; warnings: string[] } | { ok: false; error: string };

export const DEFAULT_ENDPOINT = "https://iot-as-http.cn-shanghai.aliyuncs.com";
export const SIGN_METHODS = ["hmacsha1", "hmacmd5", "hmacsha256"];
/** The DHT22 answers at most every 2 s; a day is the longest period that still shows the device alive. */
export const MIN_INTERVAL_SEC = 2;
export const MAX_INTERVAL_SEC = 86400;
/** Store and forward: 100 readings of 2 properties fill one history post (200 properties). */
export const MAX_BATCH = 100;
export const MIN_QUEUE_BYTES = 1024;
export const MAX_QUEUE_BYTES = 1048576;
const KNOWN = ["productKey", "deviceName", "deviceSecret", "endpoint", "signMethod", "clientId", "intervalSec", "dhtPin", "wifi", "deepSleep", "logLevel",
  "delivery", "batchSize", "queueBudgetBytes", "queueSegmentBytes", "maxPostsPerCycle",
  "otaUrl", "otaEveryCycles", "otaChunkBytes", "otaTrialBoots"];

/** Whether `v` is a whole number in [lo, hi]. */
function wholeIn(v: unknown, lo: number, hi: number): boolean {
  return typeof v === "number" && Math.floor(v) === v && v >= lo && v <= hi;
}

/** A name that can sit in a topic path: no "/", no spaces or control chars, 1..64 chars. */
function topicSafe(s: string): boolean {
  if (!s.length || s.length > 64) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32 || c === 47 || c > 126) return false;
  }
  return true;
}

/** Error text for a bad endpoint, or "" when it is an http(s) URL with a host and at most "/" as path. */
function endpointError(url: string): string {
  const sep = url.indexOf("://");
  const scheme = sep < 0 ? "" : url.substr(0, sep);
  if (scheme !== "https" && scheme !== "http") return "must start with https:// or http://";
  let rest = url.substr(sep + 3);
  if (rest.charAt(rest.length - 1) === "/") rest = rest.substr(0, rest.length - 1);
  if (rest.indexOf("/") >= 0 || rest.indexOf("?") >= 0) return "must not have a path";
  const colon = rest.indexOf(":");
  const host = colon < 0 ? rest : rest.substr(0, colon);
  if (!host || !topicSafe(host)) return "has no valid host";
  if (colon >= 0) {
    const portText = rest.substr(colon + 1);
    const port = parseInt(portText, 10);
    if (String(port) !== portText || port < 1 || port > 65535) return "has a bad port";
  }
  return "";
}

/** Parses `iot.json` text; an error names the first bad field. */
export function parseConfig(text: string | undefined): ConfigResult {
  if (text === undefined || text === "") return { ok: false, error: "iot.json: missing (provision it with flash.sh)" };
  let o: { [k: string]: unknown };
  try {
    o = JSON.parse(text);
  } catch {
    return { ok: false, error: "iot.json: not valid JSON" };
  }
  if (!o || typeof o !== "object" || o instanceof Array) return { ok: false, error: "iot.json: not a JSON object" };
  function bad(field: string, why: string): ConfigResult {
    return { ok: false, error: "iot.json: " + field + " " + why };
  }

  const req = ["productKey", "deviceName", "deviceSecret"];
  for (let i = 0; i < req.length; i++) {
    const v = o[req[i]];
    if (v === undefined) return bad(req[i], "is missing");
    if (typeof v !== "string" || !v) return bad(req[i], "must be a non-empty string");
  }
  const productKey = o.productKey as string;
  const deviceName = o.deviceName as string;
  if (!topicSafe(productKey)) return bad("productKey", "must be 1..64 printable chars without '/' or spaces");
  if (!topicSafe(deviceName)) return bad("deviceName", "must be 1..64 printable chars without '/' or spaces");

  const endpoint = o.endpoint === undefined ? DEFAULT_ENDPOINT : o.endpoint;
  if (typeof endpoint !== "string") return bad("endpoint", "must be a string");
  const epErr = endpointError(endpoint);
  if (epErr) return bad("endpoint", epErr);

  const signMethod = o.signMethod === undefined ? "hmacsha1" : o.signMethod;
  if (typeof signMethod !== "string" || SIGN_METHODS.indexOf(signMethod) < 0) return bad("signMethod", "must be one of " + SIGN_METHODS.join(", "));
  if (!signMethodBuilt(signMethod)) return bad("signMethod", signMethod + " is not built into this firmware (build with --sign-methods " + signMethod + ")");

  const clientId = o.clientId === undefined ? productKey + "." + deviceName : o.clientId;
  if (typeof clientId !== "string" || !clientId || clientId.length > 64) return bad("clientId", "must be a string of 1..64 chars");

  const intervalSec = o.intervalSec === undefined ? 60 : o.intervalSec;
  if (typeof intervalSec !== "number" || Math.floor(intervalSec) !== intervalSec || intervalSec < MIN_INTERVAL_SEC || intervalSec > MAX_INTERVAL_SEC) {
    return bad("intervalSec", "must be a whole number of seconds from " + MIN_INTERVAL_SEC + " to " + MAX_INTERVAL_SEC);
  }

  const dhtPin = o.dhtPin === undefined ? "D4" : o.dhtPin;
  if (typeof dhtPin !== "string" || !dhtPin || dhtPin.length > 8) return bad("dhtPin", 'must be a pin name such as "D4"');

  let wifi: { ssid: string; password: string } | undefined;
  if (o.wifi !== undefined) {
    const w = o.wifi as { [k: string]: unknown };
    if (!w || typeof w !== "object" || w instanceof Array) return bad("wifi", "must be an object {ssid, password}");
    if (typeof w.ssid !== "string" || !w.ssid || w.ssid.length > 32) return bad("wifi.ssid", "must be a string of 1..32 chars");
    const pw = w.password === undefined ? "" : w.password;
    if (typeof pw !== "string" || pw.length > 64) return bad("wifi.password", "must be a string of at most 64 chars");
    wifi = { ssid: w.ssid, password: pw };
  }

  const deepSleep = o.deepSleep === undefined ? true : o.deepSleep;
  if (typeof deepSleep !== "boolean") return bad("deepSleep", "must be true or false");

  const logLevel = o.logLevel === undefined ? "I" : o.logLevel;
  if (typeof logLevel !== "string" || logLevel.length !== 1 || "EWID".indexOf(logLevel) < 0) return bad("logLevel", 'must be "E", "W", "I" or "D"');

  const delivery = o.delivery === undefined ? "realtime" : o.delivery;
  if (delivery !== "realtime" && delivery !== "batch") return bad("delivery", 'must be "realtime" or "batch"');
  const batchSize = o.batchSize === undefined ? 6 : o.batchSize;
  if (!wholeIn(batchSize, 1, MAX_BATCH)) return bad("batchSize", "must be a whole number from 1 to " + MAX_BATCH);
  const queueBudgetBytes = o.queueBudgetBytes === undefined ? 32768 : o.queueBudgetBytes;
  if (!wholeIn(queueBudgetBytes, MIN_QUEUE_BYTES, MAX_QUEUE_BYTES)) return bad("queueBudgetBytes", "must be a whole number from " + MIN_QUEUE_BYTES + " to " + MAX_QUEUE_BYTES);
  const budget = queueBudgetBytes as number;
  const queueSegmentBytes = o.queueSegmentBytes === undefined ? Math.min(2048, Math.floor(budget / 4)) : o.queueSegmentBytes;
  if (!wholeIn(queueSegmentBytes, 256, budget / 2)) return bad("queueSegmentBytes", "must be a whole number from 256 to half of queueBudgetBytes");
  const maxPostsPerCycle = o.maxPostsPerCycle === undefined ? 4 : o.maxPostsPerCycle;
  if (!wholeIn(maxPostsPerCycle, 1, 50)) return bad("maxPostsPerCycle", "must be a whole number from 1 to 50");

  const otaUrl = o.otaUrl === undefined ? "" : o.otaUrl;
  if (typeof otaUrl !== "string" || (otaUrl !== "" && otaUrl.indexOf("https://") !== 0 && otaUrl.indexOf("http://") !== 0)) return bad("otaUrl", "must be an http(s) URL or absent");
  const otaEveryCycles = o.otaEveryCycles === undefined ? 24 : o.otaEveryCycles;
  if (!wholeIn(otaEveryCycles, 1, 100000)) return bad("otaEveryCycles", "must be a whole number from 1 to 100000");
  const otaChunkBytes = o.otaChunkBytes === undefined ? 4096 : o.otaChunkBytes;
  if (!wholeIn(otaChunkBytes, 256, 16384)) return bad("otaChunkBytes", "must be a whole number from 256 to 16384");
  const otaTrialBoots = o.otaTrialBoots === undefined ? 3 : o.otaTrialBoots;
  if (!wholeIn(otaTrialBoots, 1, 20)) return bad("otaTrialBoots", "must be a whole number from 1 to 20");

  const warnings: string[] = [];
  for (const k in o) if (KNOWN.indexOf(k) < 0) warnings.push("iot.json: unknown key " + k + " ignored");

  const config: DeviceConfig = {
    productKey: productKey,
    deviceName: deviceName,
    deviceSecret: o.deviceSecret as string,
    endpoint: endpoint,
    signMethod: signMethod,
    clientId: clientId,
    intervalSec: intervalSec,
    dhtPin: dhtPin,
    deepSleep: deepSleep,
    logLevel: logLevel,
    delivery: delivery,
    batchSize: batchSize as number,
    queueBudgetBytes: budget,
    queueSegmentBytes: queueSegmentBytes as number,
    maxPostsPerCycle: maxPostsPerCycle as number,
    otaUrl: otaUrl,
    otaEveryCycles: otaEveryCycles as number,
    otaChunkBytes: otaChunkBytes as number,
    otaTrialBoots: otaTrialBoots as number,
  };
  if (wifi) config.wifi = wifi;
  return { ok: true, config: config, warnings: warnings };
}
