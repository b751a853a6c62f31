// Wi-Fi link from config: connect once, reconnect with backoff on every `disconnected` (the
// driver's own auto-reconnect gives up after 3 tries). No Wifi module: the network is managed outside.
import type { Log, Timers } from "../hal";

/** The parts of Espruino's `Wifi` module used here. */
export interface EspWifi {
  connect(ssid: string, opts: { password: string }, cb: (err: unknown) => void): void;
  on(event: "connected" | "disconnected", fn: (details?: unknown) => void): void;
}

export const WIFI_BASE_MS = 2000;
export const WIFI_CAP_MS = 300000;

/** Delay before reconnect attempt `n` (1, 2, ...): doubles from WIFI_BASE_MS up to WIFI_CAP_MS. */
export function wifiBackoffMs(n: number): number {
  let d = WIFI_BASE_MS;
  for (let i = 1; i < n && d < WIFI_CAP_MS; i++) d *= 2;
  return d > WIFI_CAP_MS ? WIFI_CAP_MS : d;
}

/** Longest wait at boot for the first connection before the app starts anyway (it retries sends). */
export const WIFI_WAIT_MS = 20000;

/** Keeps Wi-Fi up; `ready` is called once: on the first connection, after WIFI_WAIT_MS, or at once without Wi-Fi. */
export function startWifi(
  wifi: EspWifi | undefined,
  cfg: { ssid: string; password: string } | undefined,
  timers: Timers,
  log: Log,
  ready: () => void,
): void {
  if (!wifi || !cfg) {
    log("I", "network managed outside the app");
    ready();
    return;
  }
  let waiting = true;
  function go(): void {
    if (!waiting) return;
    waiting = false;
    ready();
  }
  const waitTimer = timers.after(WIFI_WAIT_MS, go);
  const ssid = cfg.ssid;
  const password = cfg.password;
  let tries = 0;
  let pending = -1;
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
  wifi.on("connected", function () {
    tries = 0;
    log("I", "wifi connected to " + ssid);
    timers.cancel(waitTimer);
    go();
  });
  wifi.on("disconnected", function () {
    retry("down");
  });
  connect();
}
