// Wi-Fi link from config, joined on demand: the first network request starts the join (a wake that
// sends nothing never powers the radio up); once up it reconnects with backoff on every
// `disconnected` (the driver's own auto-reconnect gives up after 3 tries).
import type { Log, Timers } from "../hal";

/** The parts of Espruino's `Wifi` module used here. */
export interface EspWifi {
  connect(ssid: string, opts: { password: string }, cb: (err: unknown) => void): void;
  on(event: "connected" | "disconnected", fn: (details?: unknown) => void): void;
  removeAllListeners(event: string): void;
  getStatus?(): { station?: string };
}

/** What net.ts needs: `up` while connected; `whenUp(fn)` joins if needed and calls fn once connected; `drop(fn)` gives up waiting. */
export interface WifiLink {
  up: boolean;
  whenUp(fn: () => void): void;
  drop(fn: () => void): void;
}

export const WIFI_BASE_MS = 2000;
export const WIFI_CAP_MS = 300000;

/** Delay before reconnect attempt `n` (1, 2, ...): doubles from WIFI_BASE_MS up to WIFI_CAP_MS. */
export function wifiBackoffMs(n: number): number {
  let d = WIFI_BASE_MS;
  for (let i = 1; i < n && d < WIFI_CAP_MS; i++) d *= 2;
  return d > WIFI_CAP_MS ? WIFI_CAP_MS : d;
}

/** The link for net.ts, or undefined without a Wifi module or wifi config (network managed outside). */
export function createWifi(wifi: EspWifi | undefined, cfg: { ssid: string; password: string } | undefined, timers: Timers, log: Log): WifiLink | undefined {
  if (!wifi || !cfg) {
    log("I", "network managed outside the app");
    return undefined;
  }
  const ssid = cfg.ssid;
  const password = cfg.password;
  let started = false;
  let tries = 0;
  let pending = -1;
  let waiting: (() => void)[] = [];
  function retry(why: string): void {
    if (pending >= 0) return; // a reconnect is already scheduled
    tries++;
    const ms = wifiBackoffMs(tries);
    log("W", "wifi " + why + ", reconnect in " + ms + " ms");
    pending = timers.after(ms, connect);
  }
  function connect(): void {
    pending = -1;
    wifi!.connect(ssid, { password: password }, function (err) {
      if (err) retry("connect failed (" + err + ")");
    });
  }
  // Declared before the link object that refers to it (Espruino does not hoist).
  function whenUp(fn: () => void): void {
    if (link.up) return fn();
    waiting.push(fn);
    if (started) return; // joining or waiting to retry: the same join serves this request
    started = true;
    log("I", "wifi joining " + ssid);
    connect();
  }
  // Up already after a restart between cycles (load() keeps the link): no second join.
  const status = wifi.getStatus ? wifi.getStatus() : null;
  const link: WifiLink = {
    up: !!status && status.station === "connected",
    whenUp: whenUp,
    drop: function (fn) {
      const i = waiting.indexOf(fn);
      if (i >= 0) waiting.splice(i, 1);
    },
  };
  started = link.up;
  wifi.on("connected", function () {
    tries = 0;
    link.up = true;
    log("I", "wifi connected to " + ssid);
    const w = waiting;
    waiting = [];
    for (let i = 0; i < w.length; i++) w[i]();
  });
  wifi.on("disconnected", function () {
    link.up = false;
    if (started) retry("down");
  });
  return link;
}
