// The trial of a new script, on every boot of a device with OTA on: whether this script is still
// unconfirmed, and its local health check (started, sensor answered, a request left the device).
// Small and kept for the whole cycle; the updater itself (firmware/ota.ts) is a lazy part made
// only when a cycle gets to it.
import type { Hal, Store } from "../platform/hal";
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

export interface Trial {
  /** A new script not yet confirmed by its health check (each boot counts one trial). */
  onTrial(): boolean;
  /**
   * The local health check, once per cycle: `sensorOk` when the sensor answered. With a request
   * sent this boot as well, a script on trial is confirmed (Storage `ota.ok`); with the sensor
   * fine but nothing sent, the version goes to `ota.up` (a rollback then is for lack of network).
   */
  health(sensorOk: boolean): void;
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

/** Made at boot (it watches this boot's requests from the first one): `version` is the running one. */
export function createTrial(hal: Hal, version: string): Trial {
  const store = hal.store;
  adoptKey(store, BUILT_PUB);
  const rec0 = readBootRecord(store);
  let onTrial = !!rec0 && rec0.t !== undefined && store.read(OK_MARK) !== version;
  let sent = false;
  if (onTrial) {
    // Watches this boot's requests for the health check: one that left the device counts.
    const net = hal.net;
    const request = net.request;
    net.request = function (req, cb) {
      request.call(net, req, function (err, res) {
        if (!err || err.kind != "offline") sent = true;
        cb(err, res);
      });
    };
  }
  return {
    onTrial: function () {
      return onTrial;
    },
    health: function (sensorOk) {
      if (!onTrial || !sensorOk) return;
      if (!sent) {
        if (store.read(UP_MARK) !== version) store.write(UP_MARK, version);
        return;
      }
      onTrial = false;
      store.write(OK_MARK, version);
      // Confirmed: this release's counter is now the floor for manifests (older signed ones are replays).
      const p = parseRecord(store.read(PENDING)) as { v: string; n: number } | null;
      if (p && p.v === version && p.n > otaCounter(store)) store.write(OTA_COUNTER, String(p.n));
      // The HMAC key of the firmware before LMS signing is of no use now, and must not be readable.
      if (store.read(OTA_PUB) && store.read(OTA_KEY) !== undefined) store.erase(OTA_KEY);
      hal.log("I", "ota: " + version + " confirmed by its health check");
    },
  };
}
