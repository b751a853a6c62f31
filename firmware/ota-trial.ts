// The trial of a new script, on every boot of a device with OTA on: whether this script is still
// unconfirmed, and its local health check (started, sensor answered, a request left the device).
// Its state is a small record kept for the boot; its functions are a lazy part, made when used;
// the updater itself (firmware/ota.ts) is a lazy part made only when a cycle gets to it.
import type { Hal, Net, Store } from "../platform/hal";
import { OK_MARK, PENDING, UP_MARK, readBootRecord } from "./ota-slots";

/** The HMAC update key of firmware before LMS signing: erased once this firmware is confirmed. */
export const OTA_KEY = "ota.key";
/** The product's update verify key: hex of the HSS public key (release tool --gen-key). */
export const OTA_PUB = "ota.pub";
/** Highest release counter of a confirmed update: manifests with a counter not above it are replays. */
export const OTA_COUNTER = "ota.ctr";

declare const OTA_PUB_KEY: string;
/** Set only in a migration build (release --migrate): the public key it brings to HMAC-era devices. */
const BUILT_PUB: string = typeof OTA_PUB_KEY == "undefined" ? "" : OTA_PUB_KEY;

/**
 * This boot's trial, a plain record: made in a lazy part (ota-trial.lazy.ts), methods of its own
 * would be closures keeping that part in RAM for the whole boot.
 */
export interface Trial {
  /** A new script not yet confirmed by its health check (each boot counts one trial). */
  on: boolean;
  /** A request of this boot left the device (any outcome but "offline"): watchRequests. */
  sent: boolean;
  /** The running version. */
  v: string;
}

/** Migration from HMAC-signed updates: a build carrying the public key stores it when the device
 * has none (the HMAC key is erased once this firmware is confirmed). */
export function adoptKey(store: Store, builtPub: string): void {
  if (builtPub && !store.read(OTA_PUB)) store.write(OTA_PUB, builtPub);
}

/** The release counter floor (0 when none). */
export function otaCounter(store: Store): number {
  return parseInt(store.read(OTA_COUNTER) || "0", 10) || 0;
}

/** JSON of a Storage record, null when absent or torn. */
export function parseRecord(text: string | undefined): unknown {
  try {
    return JSON.parse(text || "null");
  } catch {
    return null;
  }
}

/** Made at boot (`version`: the running one); on a trial boot the caller then watches its requests (watchRequests). */
export function createTrial(hal: Hal, version: string): Trial {
  const store = hal.store;
  adoptKey(store, BUILT_PUB);
  const rec = readBootRecord(store);
  return { on: !!rec && rec.t !== undefined && store.read(OK_MARK) !== version, sent: false, v: version };
}

/**
 * Sets `t.sent` once a request of this boot leaves the device, for the health check. Not in the
 * trial's lazy part: its closure would keep that part in RAM for the whole boot.
 */
export function watchRequests(net: Net, t: Trial): void {
  const request = net.request;
  net.request = function (req, cb) {
    request.call(net, req, function (err, res) {
      if (!err || err.kind != "offline") t.sent = true;
      cb(err, res);
    });
  };
}

/**
 * The local health check, once per cycle: `sensorOk` when the sensor answered. With a request
 * sent this boot as well, a script on trial is confirmed (Storage `ota.ok`); with the sensor
 * fine but nothing sent, the version goes to `ota.up` (a rollback then is for lack of network).
 */
export function trialHealth(hal: Hal, t: Trial, sensorOk: boolean): void {
  const store = hal.store;
  const version = t.v;
  if (!t.on || !sensorOk) return;
  if (!t.sent) {
    if (store.read(UP_MARK) !== version) store.write(UP_MARK, version);
    return;
  }
  t.on = false;
  store.write(OK_MARK, version);
  // Confirmed: this release's counter is now the floor for manifests (older signed ones are replays).
  const p = parseRecord(store.read(PENDING)) as { v: string; n: number } | null;
  if (p && p.v === version && p.n > otaCounter(store)) store.write(OTA_COUNTER, String(p.n));
  // The HMAC key of the firmware before LMS signing is of no use now, and must not be readable.
  if (store.read(OTA_PUB) && store.read(OTA_KEY) !== undefined) store.erase(OTA_KEY);
  hal.log("I", "ota: " + version + " confirmed by its health check");
}
