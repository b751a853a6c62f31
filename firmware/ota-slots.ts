// OTA script slots and their boot record, shared by the updater (firmware/ota.ts) and the boot
// stage (platform/espruino/boot0.ts), which decides at each boot which slot runs.
//
// Two slot files hold scripts; the running one is never written. The boot record lives in two
// copies with a sequence number: a write goes to the copy NOT holding the newest record, so a
// write torn by power loss leaves the newest complete record readable (torn text is not JSON).

/** The part of a store both sides need (HAL Store and Espruino's Storage both fit). */
export interface SlotStore {
  read(name: string): string | undefined;
  write(name: string, data: string): boolean;
}

/** Boot record: `c` slot to boot with version `v`; `p`/`pv` the previous (rollback) slot and
 * version; `t` trial boots so far (absent once confirmed); `k` trial boots allowed;
 * `w` ms a trial boot may run without passing its health check before the boot stage reboots. */
export interface BootRecord {
  s: number;
  c: string;
  v: string;
  p?: string;
  pv?: string;
  t?: number;
  k?: number;
  w?: number;
}

export const SLOTS = ["fw.a", "fw.b"];
const RECORDS = ["ota.m0", "ota.m1"];
/** Written by the firmware when its health check passed (started, sensor answered, a request
 * left the device): the running version. The boot stage keeps a trial that has it. */
export const OK_MARK = "ota.ok";
/** Written by the boot stage when it abandons a trial: `{"v":version}` (+ `"r":1` once reported).
 * The firmware reads the reason from UP_MARK (boot stages in the field predate it, and OTA never
 * replaces the boot stage). */
export const ROLLED_BACK = "ota.rb";
/** Written by a trial script whose sensor answered but that could not send a request: its
 * version. A rollback of that version was for lack of network: it is offered again. Erased when
 * an update is installed, so each trial starts without it. */
export const UP_MARK = "ota.up";
/** Written when an update is installed: `{"v":version,"n":counter}`, the release counter that
 * becomes the replay floor once that version is confirmed. */
export const PENDING = "ota.nc";
/** The boot stage's own file; updates are refused without it (nothing would boot the slot). */
export const BOOT_STAGE = ".boot0";

function parseRecord(text: string | undefined): BootRecord | null {
  if (text === undefined) return null;
  try {
    const r = JSON.parse(text);
    return r && typeof r.s == "number" && SLOTS.indexOf(r.c) >= 0 && typeof r.v == "string" ? r : null;
  } catch {
    return null;
  }
}

/** The newest complete boot record, or null (factory state: slot fw.a, nothing on trial). */
export function readBootRecord(store: SlotStore): BootRecord | null {
  const a = parseRecord(store.read(RECORDS[0]));
  const b = parseRecord(store.read(RECORDS[1]));
  return !a ? b : !b || a.s > b.s ? a : b;
}

/** Stores `r` as the newest record (its `s` is set here); false when the store refused. */
export function writeBootRecord(store: SlotStore, r: BootRecord): boolean {
  const cur = readBootRecord(store);
  r.s = cur ? cur.s + 1 : 1;
  return store.write(RECORDS[r.s % 2], JSON.stringify(r));
}

/** What to boot: slot name, version (undefined in factory state) and whether it is on trial. */
export interface BootChoice {
  slot: string;
  version?: string;
  trial: boolean;
  waitMs?: number;
}

/**
 * The boot stage's decision, made once per boot: confirms a trial that marked success, counts a
 * trial boot, or abandons the trial after `k` boots (records the version in ROLLED_BACK first,
 * so that the firmware reports it and never installs it again). Null: no slot, boot nothing.
 */
export function chooseBoot(store: SlotStore): BootChoice | null {
  const r = readBootRecord(store);
  if (!r) return store.read(SLOTS[0]) !== undefined ? { slot: SLOTS[0], trial: false } : null;
  if (r.t === undefined) return { slot: r.c, version: r.v, trial: false };
  if (store.read(OK_MARK) === r.v) {
    writeBootRecord(store, { s: 0, c: r.c, v: r.v, p: r.p, pv: r.pv });
    return { slot: r.c, version: r.v, trial: false };
  }
  if (r.t >= (r.k || 3) && r.p) {
    store.write(ROLLED_BACK, JSON.stringify({ v: r.v }));
    writeBootRecord(store, { s: 0, c: r.p, v: r.pv || "" });
    return { slot: r.p, version: r.pv, trial: false };
  }
  writeBootRecord(store, { s: 0, c: r.c, v: r.v, p: r.p, pv: r.pv, t: r.t + 1, k: r.k, w: r.w });
  return { slot: r.c, version: r.v, trial: true, waitMs: r.w };
}
