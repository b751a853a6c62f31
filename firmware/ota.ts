// OTA script update over the HAL: polls a signed manifest, downloads the image in Range chunks
// straight into the idle slot, verifies size, SHA-1 and HMAC, then switches the boot record and
// reboots; reports the running version, progress and failures on the /ota/device topics.
import type { Hal, HttpResponse, NetError } from "../platform/hal";
import { createSha1 } from "./crypto/sha1";
import { hmacHex, signMethodBuilt } from "./crypto/hmac";
import { otaInform, otaProgress, topics } from "./iot/alink";
import { strictJson } from "./iot/http";
import { BOOT_STAGE, OK_MARK, ROLLED_BACK, SLOTS, readBootRecord, writeBootRecord } from "./ota-slots";

declare const FW_VERSION: string;
/** This bundle's version: esbuild `define` FW_VERSION (set by the build); "0.0.0" when unset. */
export const FIRMWARE_VERSION: string = typeof FW_VERSION == "undefined" ? "0.0.0" : FW_VERSION;

/** Per-product update key, provisioned at flash time; never in the bundle. */
export const OTA_KEY = "ota.key";
/** Last version reported on the inform topic (one inform per version, not per boot). */
const INFORMED = "ota.inf";

export interface OtaConfig {
  productKey: string;
  deviceName: string;
  /** Manifest URL (https://...); "" turns OTA checks off. */
  manifestUrl: string;
  /** Running version; default FIRMWARE_VERSION. */
  version?: string;
  /** Check on cycles where `cycle % everyCycles == 0`; default 24. */
  everyCycles?: number;
  /** Bytes per Range request (and the most image bytes in RAM at once); default 4096. */
  chunkBytes?: number;
  /** Boots a new script gets to reach a successful publish before rollback; default 3. */
  trialBoots?: number;
  /** Ms a trial boot may run without success before the boot stage reboots; default 600000. */
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
  size: number;
  sha1: string;
  url: string;
  signMethod: string;
  signature: string;
}

/** The text the manifest signature covers; the release tool signs exactly this. */
export function manifestSignedText(version: string, size: number, sha1: string): string {
  return "ota1\n" + version + "\n" + size + "\n" + sha1;
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
  if (typeof m.sha1 != "string" || m.sha1.length != 40) return { ok: false, error: "manifest: sha1" };
  if (typeof m.url != "string" || !m.url) return { ok: false, error: "manifest: url" };
  if (typeof m.signMethod != "string") return { ok: false, error: "manifest: signMethod" };
  if (typeof m.signature != "string") return { ok: false, error: "manifest: signature" };
  return { ok: true, manifest: m };
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

/** How a check ended: "off" (no url, key or boot stage), "idle" (not due), "trial" (this script
 * is not yet marked good), "unreachable", "current" (nothing newer), "refused" (reported). */
export type OtaOutcome = string;

export interface Ota {
  /**
   * Call after each successful publish: marks this script good (the boot stage then keeps it),
   * reports a rollback and the running version when not yet reported, and on due cycles checks
   * the manifest. `done` is not called when an update was installed: the device reboots.
   */
  afterPublish(cycle: number, done: (outcome: OtaOutcome) => void): void;
  /** Checks the manifest now and installs a newer signed version. */
  check(done: (outcome: OtaOutcome) => void): void;
}

export function createOta(hal: Hal, cfg: OtaConfig, pub: OtaPublisher): Ota {
  const store = hal.store;
  const version = cfg.version || FIRMWARE_VERSION;
  const chunkBytes = cfg.chunkBytes || 4096;
  const timeoutMs = cfg.timeoutMs || 20000;
  const t = topics(cfg.productKey, cfg.deviceName);

  function progress(step: number, desc: string, cb: (sent: boolean) => void): void {
    hal.log(step < 0 ? "W" : "I", "ota " + step + " " + desc);
    pub.publish(t.otaProgress, otaProgress(pub.nextId(), step, desc), function (r) { cb(r.ok); });
  }

  function get(url: string, range: string, maxBytes: number, cb: (err: NetError | null, res: HttpResponse | null) => void): void {
    const headers: { [name: string]: string } = {};
    if (range) headers.Range = range;
    hal.net.request({ method: "GET", url: url, headers: headers, body: "", timeoutMs: timeoutMs, maxBodyBytes: maxBytes }, cb);
  }

  function rolledBack(): { v: string; r?: number } | null {
    try {
      return JSON.parse(store.read(ROLLED_BACK) || "null");
    } catch {
      return null;
    }
  }

  /** Downloads and verifies `m` into `slot`; `cb` gets null or [step, reason]. */
  function download(m: OtaManifest, slot: string, cb: (fail: [number, string] | null) => void): void {
    const url = imageUrl(cfg.manifestUrl, m.url);
    const hash = createSha1();
    let offset = 0;
    let retried = false;
    function next(): void {
      if (offset >= m.size) {
        cb(hash.digestHex() === m.sha1 ? null : [-3, "sha1 mismatch"]);
        return;
      }
      const want = Math.min(chunkBytes, m.size - offset);
      get(url, "bytes=" + offset + "-" + (offset + want - 1), want, function (err, res) {
        if (err || !res || (res.status != 206 && !(res.status == 200 && offset == 0 && want == m.size))) {
          if (!retried) {
            retried = true;
            next();
            return;
          }
          cb([-2, err ? "net " + err.kind : "http " + (res ? res.status : 0)]);
          return;
        }
        retried = false;
        // Content-Range "bytes a-b/total": the image on the host must have the signed size.
        const cr = res.headers["content-range"];
        if (cr && cr.indexOf("/") > 0 && cr.substr(cr.indexOf("/") + 1) != String(m.size)) {
          cb([-3, "size " + cr.substr(cr.indexOf("/") + 1) + " != " + m.size]);
          return;
        }
        const body = res.body;
        if (body.length != want || res.truncated) {
          cb([-2, "short chunk at " + offset]);
          return;
        }
        if (!store.writeAt(slot, body, offset, m.size)) {
          cb([-4, "write at " + offset]);
          return;
        }
        hash.update(body);
        offset += want;
        next();
      });
    }
    next();
  }

  function check(done: (outcome: OtaOutcome) => void): void {
    // Trimmed: a key file made with `openssl rand -hex 32 > F` ends in a newline.
    const key = (store.read(OTA_KEY) || "").trim();
    if (!cfg.manifestUrl || !key || store.read(BOOT_STAGE) === undefined) {
      hal.log("D", "ota off: " + (!cfg.manifestUrl ? "no url" : !key ? "no " + OTA_KEY : "no boot stage"));
      done("off");
      return;
    }
    const rec = readBootRecord(store);
    // The previous slot is the rollback target until this script is marked good: keep it.
    if (rec && rec.t !== undefined && store.read(OK_MARK) !== rec.v) {
      done("trial");
      return;
    }
    get(cfg.manifestUrl, "", 1024, function (err, res) {
      if (err || !res || res.status != 200) {
        hal.log("W", "ota manifest: " + (err ? err.kind : "http " + (res ? res.status : 0)));
        done("unreachable");
        return;
      }
      const p = parseManifest(res.body);
      function refuse(step: number, why: string): void {
        progress(step, why, function () { done("refused"); });
      }
      if (!p.ok) {
        refuse(-3, p.error);
        return;
      }
      const m = p.manifest;
      const rb = rolledBack();
      if (!versionNewer(m.version, version) || (rb && rb.v === m.version)) {
        done("current");
        return;
      }
      if (!signMethodBuilt(m.signMethod) ||
        hmacHex(m.signMethod, key, manifestSignedText(m.version, m.size, m.sha1)) !== m.signature) {
        refuse(-3, "signature " + m.version);
        return;
      }
      const running = rec ? rec.c : SLOTS[0];
      const slot = running == SLOTS[0] ? SLOTS[1] : SLOTS[0];
      if (store.free() < m.size) {
        refuse(-4, "no room for " + m.size);
        return;
      }
      progress(1, "download " + m.version, function () {
        download(m, slot, function (fail) {
          if (fail) {
            refuse(fail[0], fail[1]);
            return;
          }
          if (!writeBootRecord(store, { s: 0, c: slot, v: m.version, p: running, pv: version, t: 0,
            k: cfg.trialBoots || 3, w: cfg.trialWaitMs || 600000 })) {
            refuse(-4, "boot record");
            return;
          }
          progress(100, "installed " + m.version, function () { hal.power.reboot(); });
        });
      });
    });
  }

  function afterPublish(cycle: number, done: (outcome: OtaOutcome) => void): void {
    if (store.read(OK_MARK) !== version) store.write(OK_MARK, version);
    const rb = rolledBack();
    function inform(): void {
      if (store.read(INFORMED) === version) {
        due();
        return;
      }
      pub.publish(t.otaInform, otaInform(pub.nextId(), version), function (r) {
        if (r.ok) store.write(INFORMED, version);
        due();
      });
    }
    function due(): void {
      if (cycle % (cfg.everyCycles || 24) == 0) check(done);
      else done("idle");
    }
    if (rb && !rb.r) {
      progress(-1, "rolled back from " + rb.v, function (sent) {
        if (sent) store.write(ROLLED_BACK, JSON.stringify({ v: rb.v, r: 1 }));
        inform();
      });
    } else inform();
  }

  return { afterPublish: afterPublish, check: check };
}
