// OTA script update over the HAL: polls a manifest, checks its LMS signature (RFC 8554, public key
// in Storage `ota.pub`; the signing key never leaves the release tool), downloads the image in
// Range chunks straight into the idle slot, checks its size and SHA-256, then switches the boot
// record and reboots; reports the running version, progress and failures on the /ota/device topics.
// A new script is confirmed by a local health check (started, sensor answered, a request left the
// device), not by the platform's answer, so blocking the endpoint cannot force a rollback.
import type { Hal, HttpRequest, HttpResponse, NetError, Store } from "../platform/hal";
import { hssSignatureBytes, hssVerify } from "./crypto/lms";
import { toHex } from "./crypto/bytes";
import type { OtaLib } from "./ota-lib.lazy";
import { ACCOUNT } from "./account";
import { strictJson } from "./iot/http";
import { BOOT_STAGE, PENDING, ROLLED_BACK, SLOTS, UP_MARK, readBootRecord, writeBootRecord } from "./ota-slots";
import { OTA_PUB, otaCounter, parseRecord, Trial } from "./ota-trial";

export { FIRMWARE_VERSION } from "./version";
export { OTA_KEY, OTA_PUB, OTA_COUNTER, adoptKey, createTrial } from "./ota-trial";

/**
 * Image bytes per download request by default (`otaChunkBytes`). On Espruino the chunk is streamed
 * into the slot as it arrives, so its size costs requests, not RAM.
 */
export const OTA_CHUNK_DEFAULT = 4096;

/** Last version reported on the inform topic (one inform per version, not per boot). */
const INFORMED = "ota.inf";

export interface OtaConfig {
  productKey: string;
  deviceName: string;
  /** Manifest URL (https://...); "" turns OTA checks off. */
  manifestUrl: string;
  /** Running version (the caller passes FIRMWARE_VERSION: a lazy part must not hold a copy). */
  version: string;
  /** Check on cycles where `cycle % everyCycles == 0`; default 24. */
  everyCycles?: number;
  /** Bytes per Range request (the most image bytes in RAM at once when the HAL does not stream); default OTA_CHUNK_DEFAULT. */
  chunkBytes?: number;
  /** Boots a new script gets to pass its health check before rollback; default 3. */
  trialBoots?: number;
  /** Ms a trial boot may run without passing before the boot stage reboots; default 600000. */
  trialWaitMs?: number;
  /** Per request; default 20000. */
  timeoutMs?: number;
}

/** The publishing side of the IoT client (firmware/iot/client.ts fits). */
export interface OtaPublisher {
  publish(topic: string, payload: string, cb: (r: { ok: boolean }) => void): void;
  nextId(): string;
}

/** Manifest as published by the release tool (build/release.ts). */
export interface OtaManifest {
  version: string;
  /** Release counter: grows by one with every signed release of the product. */
  counter: number;
  size: number;
  /** SHA-256 of the image, lowercase hex. */
  sha256: string;
  /** The image, absolute or relative to the manifest. */
  url: string;
  /** The HSS signature file (binary) of manifestSignedText, absolute or relative to the manifest. */
  sig: string;
}

/** The bytes the manifest signature covers; the release tool signs exactly this. */
export function manifestSignedText(version: string, counter: number, size: number, sha: string): string {
  return "ota2\n" + version + "\n" + counter + "\n" + size + "\n" + sha;
}

/** Bytes of a hex string (no validation beyond what the caller checked). */
export function fromHex(hex: string): string {
  let s = "";
  for (let i = 0; i + 1 < hex.length; i += 2) s += String.fromCharCode(parseInt(hex.substr(i, 2), 16));
  return s;
}

/** Version parts as numbers; null unless digits separated by single dots. */
function versionParts(v: string): number[] | null {
  const parts = String(v).split(".");
  const out: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (!p.length || p.length > 9) return null;
    for (let j = 0; j < p.length; j++) if (p.charCodeAt(j) < 48 || p.charCodeAt(j) > 57) return null;
    out.push(parseInt(p, 10));
  }
  return out;
}

/** True when version `a` is newer than `b` (numeric per dotted part; a bad `a` is never newer). */
export function versionNewer(a: string, b: string): boolean {
  const x = versionParts(a);
  const y = versionParts(b) || [];
  if (!x) return false;
  for (let i = 0; i < x.length || i < y.length; i++) {
    const d = (x[i] || 0) - (y[i] || 0);
    if (d) return d > 0;
  }
  return false;
}

/** Checks the manifest's fields; the error names the first bad one. */
export function parseManifest(text: string): { ok: true; manifest: OtaManifest } | { ok: false; error: string } {
  let m: OtaManifest;
  try {
    // strict JSON, read the same by every engine (Espruino's JSON.parse is lenient: http.ts strictJson)
    if (!strictJson(text)) throw 0;
    m = JSON.parse(text);
  } catch {
    return { ok: false, error: "manifest: not JSON" };
  }
  if (!m || typeof m != "object") return { ok: false, error: "manifest: not an object" };
  if (typeof m.version != "string" || !versionParts(m.version)) return { ok: false, error: "manifest: version" };
  if (typeof m.size != "number" || !(m.size > 0) || Math.floor(m.size) !== m.size) return { ok: false, error: "manifest: size" };
  if (typeof m.counter != "number" || !(m.counter > 0) || Math.floor(m.counter) !== m.counter) return { ok: false, error: "manifest: counter" };
  if (typeof m.sha256 != "string" || m.sha256.length != 64 || /[^0-9a-f]/.test(m.sha256)) return { ok: false, error: "manifest: sha256" };
  if (typeof m.url != "string" || !m.url) return { ok: false, error: "manifest: url" };
  if (typeof m.sig != "string" || !m.sig) return { ok: false, error: "manifest: sig" };
  return { ok: true, manifest: m };
}

/** Bytes of the signature file for the update verify key `keyHex`. */
export function signatureBytes(keyHex: string): number {
  return hssSignatureBytes(fromHex(keyHex));
}

/** Whether `sig` is a signature of manifest `m` under the update verify key `keyHex`. */
export function signatureGood(keyHex: string, m: OtaManifest, sig: string, hash: (s: string) => string): boolean {
  return hssVerify(fromHex(keyHex), manifestSignedText(m.version, m.counter, m.size, m.sha256), sig, hash);
}

/** `hash(bytes)` as lowercase hex. */
export function hashHex(hash: (s: string) => string, bytes: string): string {
  return toHex(hash(bytes));
}

/** `url` made absolute against the manifest's URL (same folder when relative). */
export function imageUrl(manifestUrl: string, url: string): string {
  if (url.indexOf("://") > 0) return url;
  if (url.charAt(0) == "/") {
    const host = manifestUrl.indexOf("/", manifestUrl.indexOf("://") + 3);
    return (host < 0 ? manifestUrl : manifestUrl.substr(0, host)) + url;
  }
  return manifestUrl.substr(0, manifestUrl.lastIndexOf("/") + 1) + url;
}

/** How a check ended: "off" (no url, key, native SHA-256 or boot stage), "idle" (not due), "trial" (this script
 * is not yet confirmed), "unreachable", "current" (nothing newer), "refused" (reported). */
export type OtaOutcome = string;

/** The updater; the trial's health check is `trialHealth` (ota-trial.ts), run by the app each cycle. */
export interface Ota {
  /**
   * Call after each successful publish: reports a rollback and the running version when not yet
   * reported, and on due cycles checks the manifest. `done` is not called when an update was
   * installed: the device reboots.
   */
  afterPublish(cycle: number, done: (outcome: OtaOutcome) => void): void;
  /** Checks the manifest now and installs a newer signed version. */
  check(done: (outcome: OtaOutcome) => void): void;
}

/** Whether a Range request of `want` bytes at `offset` got its chunk: 206, or 200 for a whole image asked from 0. */
function chunkStatusOk(status: number, offset: number, want: number, size: number): boolean {
  return status == 206 || (status == 200 && offset == 0 && want == size);
}

/** The total of `Content-Range: bytes a-b/total`, or null when the response does not say. */
function rangeTotal(headers: { [name: string]: string }): string | null {
  const cr = headers["content-range"];
  return cr && cr.indexOf("/") > 0 ? cr.substr(cr.indexOf("/") + 1) : null;
}

/**
 * One updater's state, passed to its steps. The steps are functions of the module, not closures
 * nested in each other: on Espruino a function made inside N scopes carries a copy of all N, and
 * keeps each of them alive (docs/espruino-quirks.md), so a deep chain of callbacks held the whole
 * check (manifest reply, signature reply, every step's locals) through the download.
 */
interface Run {
  hal: Hal;
  cfg: OtaConfig;
  pub: OtaPublisher;
  trial: Trial;
  /** The manifest, signature and hash checks and the report writers (a lazy part on the device: made for each use). */
  lib: () => OtaLib;
  /** The current check's callback. */
  done: (outcome: OtaOutcome) => void;
  cycle: number;
  /** The update verify key (hex), once the check found it. */
  key: string;
  /** The manifest being installed, its signature checked. */
  m: OtaManifest | null;
  /** The idle slot written and the running one. */
  slot: string;
  running: string;
  /** Image bytes in the slot so far; whether the current offset was asked twice already. */
  offset: number;
  retried: boolean;
}

/** One Range request's progress: its offset and size, bytes streamed into the slot, a failed write. */
interface Chunk {
  at: number;
  want: number;
  got: number;
  bad: boolean;
}

function progress(o: Run, step: number, desc: string, cb: (sent: boolean) => void): void {
  o.hal.log(step < 0 ? "W" : "I", "ota " + step + " " + desc);
  // The writers exist only for this call (no local keeps them through the request).
  o.pub.publish(o.lib().topics(o.cfg.productKey, o.cfg.deviceName).otaProgress, o.lib().otaProgress(o.pub.nextId(), step, desc), function (r) { cb(r.ok); });
}

function refuse(o: Run, step: number, why: string): void {
  progress(o, step, why, function () { o.done("refused"); });
}

function get(o: Run, url: string, range: string, maxBytes: number, cb: (err: NetError | null, res: HttpResponse | null) => void, stream?: HttpRequest["stream"]): void {
  const headers: { [name: string]: string } = {};
  if (range) headers.Range = range;
  const req: HttpRequest = { method: "GET", url: url, headers: headers, body: "", timeoutMs: o.cfg.timeoutMs || 20000, maxBodyBytes: maxBytes };
  if (stream) req.stream = stream;
  o.hal.net.request(req, cb);
}

/** The rolled-back version, `n` set when it was for lack of network (its sensor answered). */
function rolledBack(store: Store): { v: string; r?: number; n?: number } | null {
  const rb = parseRecord(store.read(ROLLED_BACK)) as { v: string; r?: number; n?: number } | null;
  if (rb && store.read(UP_MARK) === rb.v) rb.n = 1;
  return rb;
}

function checkNow(o: Run): void {
  const store = o.hal.store;
  // Trimmed: a key file may end in a newline.
  const key = (store.read(OTA_PUB) || "").trim();
  if (!o.cfg.manifestUrl || !key || !o.hal.sha256 || store.read(BOOT_STAGE) === undefined) {
    o.hal.log("D", "ota off: " + (!o.cfg.manifestUrl ? "no url" : !key ? "no " + OTA_PUB : !o.hal.sha256 ? "no native SHA-256" : "no boot stage"));
    o.done("off");
    return;
  }
  // The previous slot is the rollback target until this script is confirmed: keep it.
  if (o.trial.on) {
    o.done("trial");
    return;
  }
  o.key = key;
  get(o, o.cfg.manifestUrl, "", 1024, function (err, res) {
    gotManifest(o, err, res);
  });
}

function gotManifest(o: Run, err: NetError | null, res: HttpResponse | null): void {
  if (err || !res || res.status != 200) {
    o.hal.log("W", "ota manifest: " + (err ? err.kind : "http " + (res ? res.status : 0)));
    o.done("unreachable");
    return;
  }
  const lib = o.lib();
  const p = lib.parseManifest(res.body);
  if (!p.ok) {
    refuse(o, -3, p.error);
    return;
  }
  const m = p.manifest;
  const store = o.hal.store;
  const rb = rolledBack(store);
  // A version rolled back for a crash stays refused; one rolled back for lack of network is
  // offered again once the rollback was reported (the network works again).
  if (!lib.versionNewer(m.version, o.cfg.version) || (rb && rb.v === m.version && !(rb.n && rb.r))) {
    o.done("current");
    return;
  }
  if (m.counter <= otaCounter(store)) {
    refuse(o, -3, "replayed release " + m.version + " (counter " + m.counter + ")");
    return;
  }
  if (store.free() < m.size) {
    refuse(o, -4, "no room for " + m.size);
    return;
  }
  o.m = m;
  getSignature(o);
}

/** Made apart from gotManifest: a callback keeps its maker's locals (there: the manifest reply). */
function getSignature(o: Run): void {
  // Exactly the signature's length and no more in RAM, whatever the host sends.
  get(o, imageUrl(o.cfg.manifestUrl, (o.m as OtaManifest).sig), "", o.lib().signatureBytes(o.key), function (err, sig) {
    gotSignature(o, err, sig);
  });
}

function gotSignature(o: Run, err: NetError | null, sig: HttpResponse | null): void {
  const m = o.m as OtaManifest;
  if (err || !sig || sig.status != 200) {
    refuse(o, -2, "signature file " + (err ? "net " + err.kind : "http " + (sig ? sig.status : 0)));
    return;
  }
  if (sig.truncated || !o.lib().signatureGood(o.key, m, sig.body, o.hal.sha256 as (s: string) => string)) {
    refuse(o, -3, "signature " + m.version);
    return;
  }
  install(o);
}

/** The download into the idle slot. Made apart from gotSignature: a callback keeps its maker's locals (there: the signature reply). */
function install(o: Run): void {
  const rec = readBootRecord(o.hal.store);
  o.running = rec ? rec.c : SLOTS[0];
  o.slot = o.running == SLOTS[0] ? SLOTS[1] : SLOTS[0];
  o.offset = 0;
  o.retried = false;
  progress(o, 1, "download " + (o.m as OtaManifest).version, function () {
    nextChunk(o);
  });
}

/** Asks for the next chunk, streamed into the idle slot as it arrives (never whole in RAM) once its
 * status and size are right; a HAL that does not stream returns the body, written whole. */
function nextChunk(o: Run): void {
  const m = o.m as OtaManifest;
  if (o.offset >= m.size) {
    downloaded(o);
    return;
  }
  const c: Chunk = { at: o.offset, want: Math.min(o.cfg.chunkBytes || OTA_CHUNK_DEFAULT, m.size - o.offset), got: 0, bad: false };
  get(o, imageUrl(o.cfg.manifestUrl, m.url), "bytes=" + c.at + "-" + (c.at + c.want - 1), c.want, function (err, res) {
    gotChunk(o, c, err, res);
  }, function (status, headers, piece, pos) {
    gotPiece(o, c, status, headers, piece, pos);
  });
}

/** A piece of chunk `c`: only what gotChunk would accept goes into the slot. */
function gotPiece(o: Run, c: Chunk, status: number, headers: { [name: string]: string }, piece: string, pos: number): void {
  const size = (o.m as OtaManifest).size;
  const total = rangeTotal(headers);
  if (c.bad || !chunkStatusOk(status, c.at, c.want, size) || (total !== null && total != String(size))) return;
  if (o.hal.store.writeAt(o.slot, piece, c.at + pos, size)) c.got += piece.length;
  else c.bad = true;
}

function gotChunk(o: Run, c: Chunk, err: NetError | null, res: HttpResponse | null): void {
  const size = (o.m as OtaManifest).size;
  // Streamed bytes are in the slot: a retry asks for the rest (each byte is written once).
  o.offset = c.at + c.got;
  if (c.bad) {
    refuse(o, -4, "write at " + o.offset);
    return;
  }
  if (err || !res || !chunkStatusOk(res.status, c.at, c.want, size)) {
    if (!o.retried) {
      o.retried = true;
      nextChunk(o);
      return;
    }
    refuse(o, -2, err ? "net " + err.kind : "http " + (res ? res.status : 0));
    return;
  }
  o.retried = false;
  // Content-Range "bytes a-b/total": the image on the host must have the signed size.
  const total = rangeTotal(res.headers);
  if (total !== null && total != String(size)) {
    refuse(o, -3, "size " + total + " != " + size);
    return;
  }
  if ((c.got || res.body.length) != c.want || res.truncated) {
    refuse(o, -2, "short chunk at " + c.at);
    return;
  }
  if (!c.got && !o.hal.store.writeAt(o.slot, res.body, c.at, size)) {
    refuse(o, -4, "write at " + c.at);
    return;
  }
  o.offset = c.at + c.want;
  nextChunk(o);
}

/** The image is in the slot: its hash as stored (a flash write that went wrong is caught too), then the switch. */
function downloaded(o: Run): void {
  const m = o.m as OtaManifest;
  const store = o.hal.store;
  if (o.lib().hashHex(o.hal.sha256 as (s: string) => string, store.read(o.slot) || "") !== m.sha256) {
    refuse(o, -3, "sha256 mismatch");
    return;
  }
  store.erase(UP_MARK);
  if (!store.write(PENDING, JSON.stringify({ v: m.version, n: m.counter })) ||
    !writeBootRecord(store, { s: 0, c: o.slot, v: m.version, p: o.running, pv: o.cfg.version, t: 0,
      k: o.cfg.trialBoots || 3, w: o.cfg.trialWaitMs || 600000 })) {
    refuse(o, -4, "boot record");
    return;
  }
  progress(o, 100, "installed " + m.version, function () {
    o.hal.power.reboot();
  });
}

function inform(o: Run): void {
  const store = o.hal.store;
  const version = o.cfg.version;
  if (store.read(INFORMED) === version) {
    due(o);
    return;
  }
  o.pub.publish(o.lib().topics(o.cfg.productKey, o.cfg.deviceName).otaInform, o.lib().otaInform(o.pub.nextId(), version), function (r) {
    if (r.ok) store.write(INFORMED, version);
    due(o);
  });
}

function due(o: Run): void {
  if (o.cycle % (o.cfg.everyCycles || 24) == 0) checkNow(o);
  else o.done("idle");
}

function afterPublish(o: Run): void {
  const rb = rolledBack(o.hal.store);
  if (rb && !rb.r) {
    progress(o, -1, "rolled back from " + rb.v + (rb.n ? " (no network)" : ""), function (ok) {
      if (ok) o.hal.store.write(ROLLED_BACK, JSON.stringify({ v: rb.v, r: 1 }));
      inform(o);
    });
  } else inform(o);
}

/**
 * The updater, made when a cycle gets to it (`trial`: this boot's, made at boot by createTrial:
 * nothing is installed while it is on). `lib`: the checks and writers (ota-lib.lazy.ts's load),
 * passed in so that on the device they are a part of their own, made for each use, and not a
 * part of the updater, which is in RAM through every request of the update.
 */
export function createOta(hal: Hal, cfg: OtaConfig, pub: OtaPublisher, trial: Trial, lib: () => OtaLib): Ota {
  const o: Run = { hal: hal, cfg: cfg, pub: pub, trial: trial, lib: lib, done: function () {}, cycle: 0, key: "", m: null, slot: "", running: "", offset: 0, retried: false };
  if (ACCOUNT) hal.log("M", "OTA updater");
  return {
    afterPublish: function (cycle, done) {
      o.cycle = cycle;
      o.done = done;
      afterPublish(o);
    },
    check: function (done) {
      o.done = done;
      checkNow(o);
    },
  };
}
