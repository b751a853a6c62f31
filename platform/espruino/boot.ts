// Entry of dist/firmware.js (flashed as .bootcde): builds the HAL on the Espruino APIs, loads
// iot.json and starts the duty cycle at once (Wi-Fi joins on the first request: net.ts).
/* eslint-disable @typescript-eslint/no-require-imports -- Espruino's built-in modules exist only through require() */
import type { Hal, Timers } from "../hal";
import { createNet } from "./net";
import { createStore } from "./store";
import { createClock } from "./clock";
import { createPower, resumeSleep, EspPower, WAKE_TIMER } from "./power";
import { createLog } from "./log";
import { createWifi, EspWifi } from "./wifi";
import { createDhtCapture, espPinIo } from "./dht22-capture";
import { FIRMWARE_VERSION } from "../../firmware/version";
import { load as loadConfigParser } from "../../firmware/config.lazy";
import { startApp, DEEP_SLEEP_MIN_SEC } from "../../firmware/app";
import { load as loadOnce } from "../../firmware/once.lazy";
import { ACCOUNT } from "../../firmware/account";

/** Storage file written by flash.sh at provisioning. */
const CONFIG_FILE = "iot.json";
/**
 * Time from a deep-sleep timer wake to this script running (ROM, bootloader, Espruino start),
 * added to the planned wake time when the clock is estimated after a wake.
 */
const WAKE_BOOT_MS = 300;

function print(line: string): void {
  console.log(line);
}

/**
 * A built-in module, or undefined when this build has none. Asked of the module list, never by a
 * caught require(): on the host build a failing require() takes more than 2,800 JsVars (measured).
 */
function builtIn(name: string): unknown {
  return process.env.MODULES.indexOf(name) >= 0 ? require(name) : undefined;
}

/**
 * The Telnet console is off unless iot.json has `console: {password}`; then it is on and every
 * console (serial too) is locked with that password. A bad iot.json leaves Telnet off.
 */
function consoleSetup(c: { password: string } | undefined): void {
  const telnet = builtIn("TelnetServer") as { setOptions(o: { mode: string }): void } | undefined;
  if (telnet) telnet.setOptions({ mode: c ? "on" : "off" });
  if (c) {
    E.setPassword(c.password);
    E.lockConsole();
  }
}

function boot(): void {
  if (ACCOUNT) print("M - the script's functions (and the rig)"); // a step mark (firmware/account.ts)
  // Made here, not at the script's top level: the script's top-level names are globals, which
  // live until the next load(); what boot() makes goes once nothing of this cycle holds it, so
  // between cycles RAM holds little more than the script's functions.
  const storage = require("Storage");
  const timers: Timers = {
    after: function (ms, fn) {
      return setTimeout(fn, ms);
    },
    cancel: function (id) {
      clearTimeout(id);
    },
  };
  const store = createStore(storage);
  const clock = createClock({ getTime: getTime, setTime: setTime });
  // The interpreter's own functions, not wrappers: a native function costs a JsVar or two, a
  // closure of ours several (they ignore `this`, being static).
  const esp: EspPower = { reboot: E.reboot, enableWatchdog: E.enableWatchdog, kickWatchdog: E.kickWatchdog };
  if (typeof ESP32 !== "undefined") {
    esp.deepSleep = ESP32.deepSleep;
    esp.wakeupCause = ESP32.getWakeupCause;
  }
  const power = createPower(esp, store);
  if (ACCOUNT) print("M - HAL: storage, clock, power"); // a step mark (firmware/account.ts)
  // Waking from the first part of a long, split sleep: go straight back to sleep.
  if (resumeSleep(esp, power, store)) return;
  // the parser exists only for this call (a lazy part: build/lazy.ts)
  const parsed = loadConfigParser().parseConfig(storage.read(CONFIG_FILE));
  consoleSetup(parsed.ok ? parsed.config.console : undefined);
  if (!parsed.ok) {
    // No posting with a bad config: one clear line, and the console stays free for re-provisioning.
    print("E " + parsed.error);
    return;
  }
  const config = parsed.config;
  if (ACCOUNT) print("M - config"); // a step mark (firmware/account.ts)
  // The RTC starts near 0 after a wake (getTime() = time since this boot): the planned wake time
  // plus the boot is the best estimate of wall time (RTC drift aside; the platform's Date header
  // corrects the clock when it is more than 2 s off).
  const planned = loadOnce().readSchedule(store).n;
  if (planned && esp.wakeupCause && esp.wakeupCause() === WAKE_TIMER && !clock.synced()) clock.set(planned + WAKE_BOOT_MS + Math.floor(getTime() * 1000));
  // A wake before the next reading is due goes back to sleep at once.
  const deep = config.deepSleep && config.intervalSec >= DEEP_SLEEP_MIN_SEC;
  const early = deep ? loadOnce().dueInMs(store, clock) : 0;
  if (early && power.deepSleep(early)) return;
  const log = createLog(print, clock.uptimeMs, config.logLevel);
  log.hide(config.deviceSecret);
  if (config.console) log.hide(config.console.password);
  for (let i = 0; i < parsed.warnings.length; i++) log("W", parsed.warnings[i]);
  log("I", "boot: " + config.productKey + "/" + config.deviceName + " every " + config.intervalSec + " s via " + config.endpoint + ", firmware " + FIRMWARE_VERSION);
  // No Wifi module on Ethernet boards and the Linux build.
  const wifi = builtIn("Wifi") as EspWifi | undefined;
  // Between cycles: our Wi-Fi handlers go (they would keep every function of ours alive) and the
  // boot files run again after the wait, on a clean heap; the link and the clock stay up.
  esp.restart = function (ms) {
    if (wifi) {
      wifi.removeAllListeners("connected");
      wifi.removeAllListeners("disconnected");
    }
    setTimeout(load, ms);
    // Closures and their scopes are reference cycles, which only the collector frees, and the
    // interpreter does not collect when idle: collect the cycle's garbage now (its lazy parts,
    // replies, bodies), and what its calls still hold once they have returned.
    process.memory();
    setTimeout(process.memory, 0);
  };
  const hal: Hal = {
    // Wi-Fi joins only when a request is made: a wake that posts nothing (batch mode, backoff) keeps the radio off.
    net: createNet(require("http"), timers, createWifi(wifi, config.wifi, timers, log), E.defrag ? function () {
      E.defrag!();
    } : undefined, process.memory),
    store: store,
    clock: clock,
    timers: timers,
    dht: createDhtCapture(config.dhtPin, espPinIo()),
    power: power,
    log: log,
  };
  // The ESP32 build's crypto module hashes natively (mbedTLS): the OTA signature check needs it.
  // Without it OTA stays off (ota.ts): the interpreted hash is far too slow for the signature check.
  const crypto = builtIn("crypto") as { SHA256?: (data: string) => ArrayBuffer } | undefined;
  const sha = crypto && crypto.SHA256;
  if (sha) hal.sha256 = function (bytes) {
    return E.toString(sha(bytes));
  };
  if (ACCOUNT) print("M - HAL: log, net, Wi-Fi, DHT"); // a step mark (firmware/account.ts)
  startApp(hal, config);
  // The boot's lazy parts (config parser, Storage readers) are garbage now; collect it before the
  // cycle's sensor read fills the heap (the interpreter does not collect while idle).
  process.memory();
}

boot();
