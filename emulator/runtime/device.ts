// One emulated ESP32 running Espruino: a Node vm context per boot with exactly the Espruino API
// surface (no Node globals), booting `.boot0`..`.boot3` and `.bootcde` from its Storage; deep
// sleep, E.reboot, the watchdog and power loss end the context (RAM gone, Storage kept) and boot
// again later on the virtual clock.
import { createHash } from "node:crypto";
import * as vm from "node:vm";
import type { Scheduler } from "./clock";
import { Flash, PowerCut, storageModule } from "./storage";
import { httpModule, newNetStats, type NetFaults, type NetStats, type DeviceLink } from "./http";
import { Pins } from "./pins";
import { nodeUses } from "./check";
import { installQuirks } from "./quirks";
import type { DhtSim } from "../sensor/sim";

/** Thrown through device code when the device stops (sleep, reboot, power loss). */
class Halt extends Error {}

/** ESP-IDF wake-up causes as ESP32.getWakeupCause() returns them. */
const WAKE_UNDEFINED = 0;
const WAKE_TIMER = 4;

export interface DeviceOptions {
  sched: Scheduler;
  flash: Flash;
  sensor?: DhtSim | null;
  /** GPIO number of the DHT22 data line. */
  dhtPin?: number;
  /** What getSerial() and the MAC show. */
  serial?: string;
  /** "connected": the network is just there (managed outside the app); "auto": saved credentials connect 2 s after boot; "off": only Wifi.connect connects. */
  wifiAtBoot?: "connected" | "auto" | "off";
  /** Device console output, one line per call. */
  console?: (line: string) => void;
  /** Runtime events (boot, sleep, request...) for logs. */
  event?: (kind: string, detail: string) => void;
  /** Emulated ms from power-off/reset to running code. */
  bootMs?: number;
  /** JsVars of the interpreter (process.memory().total). */
  memoryTotal?: number;
}

export interface DeviceStats {
  boots: number;
  /** Emulated wall time of each boot: readings taken in different boots are different readings. */
  bootWallMs: number[];
  bootsByCause: Record<string, number>;
  deepSleeps: number;
  sleptMs: number;
  uncaught: number;
  refused: string | null;
  wifiConnects: number;
  /** Wifi.connect calls (each is a join: scan, association, DHCP). */
  wifiJoins: number;
  /** Emulated ms the radio was on for Wifi.connect: from the call (the join included) until the link dropped or the device slept, rebooted or lost power. */
  wifiOnMs: number;
  net: NetStats;
}

interface Life {
  alive: boolean;
  bootAt: number;
  offsetMs: number;
  closers: Set<() => void>;
  timers: Map<number, number>;
  nextTimer: number;
  eHandlers: Record<string, unknown[]>;
  wifiHandlers: Record<string, unknown[]>;
  wakeCause: number;
  wdt: { sec: number; lastKick: number } | null;
  ctx: vm.Context | null;
}

const HIDDEN_GLOBALS = [
  "Map", "Set", "WeakMap", "WeakSet", "Symbol", "Proxy", "BigInt", "WebAssembly", "SharedArrayBuffer",
  "Atomics", "FinalizationRegistry", "WeakRef", "BigInt64Array", "BigUint64Array", "Intl", "AggregateError",
];

/** Runs in each new context first: Date on the device clock, Pin, and the built-ins Espruino lacks removed. */
const BOOTSTRAP = `(function (nowMs, pinName, pinCount) {
  var RealDate = Date;
  class EspDate extends RealDate {
    constructor() { if (arguments.length === 0) super(nowMs()); else super(...arguments); }
    static now() { return nowMs(); }
  }
  EspDate.parse = RealDate.parse; EspDate.UTC = RealDate.UTC;
  globalThis.Date = EspDate;
  function Pin(v) {
    if (!(this instanceof Pin)) return new Pin(v);
    this.num = typeof v === "string" ? parseInt(v.substr(1), 10) : (v && v.num !== undefined ? v.num : v | 0);
  }
  Pin.prototype.toString = function () { return pinName(this.num); };
  Pin.prototype.valueOf = function () { return this.num; };
  Pin.prototype.getInfo = function () { return { num: this.num, port: "D" }; };
  globalThis.Pin = Pin;
  for (var i = 0; i < pinCount; i++) globalThis["D" + i] = new Pin(i);
  ${JSON.stringify(HIDDEN_GLOBALS)}.forEach(function (k) { delete globalThis[k]; });
  delete Number.isInteger; delete Number.isFinite; delete Math.imul; delete Math.trunc;
  delete Array.from; delete Object.freeze; delete Promise.prototype.finally; delete Promise.race;
  delete Object.getPrototypeOf(Uint8Array).from;
})`;

export class Device {
  readonly flash: Flash;
  readonly sched: Scheduler;
  readonly stats: DeviceStats;
  readonly faults: NetFaults = {};
  private life: Life | null = null;
  private pins: Pins;
  private wifi = { ap: true, connected: false, connecting: false };
  /** When Wifi.connect turned the station on (emulated ms), -1 while it is off. */
  private joinedAt = -1;
  private bootTask = -1;
  /** Called with each script the device starts: boot files by name, eval'd text as "eval" (OTA boot stage). */
  onScript: ((name: string, code: string) => void) | null = null;
  /** Called after every response the device got (path, status, body). */
  onResponse: ((path: string, status: number, body: string) => void) | null = null;

  constructor(private opts: DeviceOptions) {
    this.sched = opts.sched;
    this.flash = opts.flash;
    this.stats = { boots: 0, bootWallMs: [], bootsByCause: {}, deepSleeps: 0, sleptMs: 0, uncaught: 0, refused: null, wifiConnects: 0, wifiJoins: 0, wifiOnMs: 0, net: newNetStats() };
    this.pins = new Pins(
      {
        sched: this.sched,
        alive: () => !!this.life && this.life.alive,
        invoke: (fn, ...a) => this.invoke(fn, ...a),
        deviceSecAt: (emu) => this.deviceMsAt(emu) / 1000,
        onEnd: (c) => this.onEnd(c),
      },
      opts.dhtPin ?? 4,
      opts.sensor ?? null,
    );
    this.flash.writeHook = null;
  }

  private event(kind: string, detail: string): void {
    if (this.opts.event) this.opts.event(kind, detail);
  }

  /** Whether code is running (false while asleep or off). */
  running(): boolean {
    return !!this.life && this.life.alive;
  }

  /** Device clock (Date.now()) at an emulated time. */
  private deviceMsAt(emu: number): number {
    const l = this.life;
    return l ? emu - l.bootAt + l.offsetMs : 0;
  }

  deviceNowMs(): number {
    return this.deviceMsAt(this.sched.now());
  }

  private onEnd(closer: () => void): () => void {
    const l = this.life;
    if (!l) return () => undefined;
    l.closers.add(closer);
    return () => l.closers.delete(closer);
  }

  /** Calls device code the way Espruino's event loop does: an uncaught error is printed, the device goes on. */
  invoke(fn: unknown, ...args: unknown[]): void {
    const l = this.life;
    if (!l || !l.alive || typeof fn !== "function") return;
    try {
      (fn as (...a: unknown[]) => void)(...args);
    } catch (e) {
      if (e instanceof Halt || e instanceof PowerCut || !l.alive) return;
      this.stats.uncaught++;
      this.print("Uncaught " + describe(e));
    }
  }

  private print(line: string): void {
    if (this.opts.console) this.opts.console(line);
    if (this.consoleOut) this.consoleOut(line + "\r\n");
  }

  /** Where console output also goes (the emulated telnet console), raw with \r\n. */
  consoleOut: ((text: string) => void) | null = null;

  /** TelnetServer.setOptions({mode}): "on" at every boot until the script turns it off. */
  telnetMode: "on" | "off" = "on";
  /** Called when the script changes the Telnet mode (the console server drops its clients on "off"). */
  onTelnetMode: ((mode: "on" | "off") => void) | null = null;
  /** E.setPassword's password (RAM: gone at every boot) and E.lockConsole's lock. */
  private consolePassword = "";
  consoleLocked = false;

  /** A line typed at a locked console: the password unlocks every console (Espruino's jsinteractive). */
  unlockConsole(line: string): boolean {
    if (this.consoleLocked && this.consolePassword && line === this.consolePassword) this.consoleLocked = false;
    return !this.consoleLocked;
  }

  /** Runs console input in the running context like Espruino's REPL; the value, or the thrown error. */
  repl(code: string): { ok: true; value: unknown } | { ok: false; error: string } {
    const l = this.life;
    if (!l || !l.alive || !l.ctx) return { ok: false, error: "device not running" };
    try {
      return { ok: true, value: vm.runInContext(code, l.ctx, { filename: "console" }) };
    } catch (e) {
      if (e instanceof Halt || e instanceof PowerCut) return { ok: true, value: undefined };
      return { ok: false, error: describe(e) };
    }
  }

  // ---- lifecycle

  /** First power-on (or after a power cut): boots after `bootMs`. */
  powerOn(delayMs = 0): void {
    this.scheduleBoot(delayMs + (this.opts.bootMs ?? 300), "power", WAKE_UNDEFINED);
  }

  private scheduleBoot(ms: number, cause: string, wake: number, keepClockFrom?: number, file?: string): void {
    if (this.bootTask >= 0) this.sched.cancel(this.bootTask);
    this.bootTask = this.sched.after(ms, () => {
      this.bootTask = -1;
      this.boot(cause, wake, keepClockFrom, file);
    });
  }

  /** Ends the running context: timers, watches, sockets, handlers all go. */
  private end(): void {
    this.stationOff();
    const l = this.life;
    if (!l) return;
    l.alive = false;
    for (const id of l.timers.values()) this.sched.cancel(id);
    l.timers.clear();
    for (const c of [...l.closers]) c();
    l.closers.clear();
    this.pins.reset();
  }

  /** Stops the device for good (end of an emulation run). */
  shutdown(): void {
    this.end();
    if (this.bootTask >= 0) this.sched.cancel(this.bootTask);
    this.bootTask = -1;
    this.life = null;
  }

  /** Power loss now: off for `offMs`, then a cold boot (RAM and clock gone, Storage kept). */
  cutPower(offMs: number): void {
    this.event("power", "lost for " + Math.round(offMs / 1000) + " s");
    this.end();
    this.life = null;
    this.wifi.connected = false;
    this.powerOn(offMs);
  }

  /** Power loss during the `n`th Storage write from now (1 = next), keeping `keepBytes` of it. */
  cutPowerOnWrite(n: number, keepBytes: number, offMs: number): void {
    let left = n;
    this.flash.writeHook = (_kind, _name, bytes) => {
      if (--left > 0) return -1;
      this.flash.writeHook = null;
      this.cutPower(offMs);
      return Math.min(keepBytes, bytes);
    };
  }

  private boot(cause: string, wake: number, keepClockFrom?: number, file?: string): void {
    this.end();
    this.stats.boots++;
    this.stats.bootWallMs.push(this.sched.wallMs());
    this.stats.bootsByCause[cause] = (this.stats.bootsByCause[cause] || 0) + 1;
    const now = this.sched.now();
    const l: Life = {
      alive: true,
      bootAt: now,
      // the RTC is not kept: time starts near 0 after any reset (load() keeps it)
      offsetMs: keepClockFrom ?? 0,
      closers: new Set(),
      timers: new Map(),
      nextTimer: 1,
      eHandlers: {},
      wifiHandlers: {},
      wakeCause: wake,
      wdt: null,
      ctx: null,
    };
    this.life = l;
    if (cause !== "load") {
      const w = this.opts.wifiAtBoot ?? "connected";
      this.wifi.connected = w === "connected" && this.wifi.ap;
      this.wifi.connecting = false;
      if (w === "auto") this.autoConnect(l, 2000);
    }
    this.event("boot", cause);
    // RAM is new: no password, no lock; the Telnet server is on again (load() keeps its mode)
    this.consolePassword = "";
    this.consoleLocked = false;
    if (cause !== "load") this.setTelnet("on");
    const ctx = this.makeContext(l);
    l.ctx = ctx;
    // reset() passes "": a fresh interpreter that runs no boot file
    const files = file !== undefined ? (file ? [file] : []) : [".boot0", ".boot1", ".boot2", ".boot3", ".bootcde"];
    for (const name of files) {
      const b = this.flash.get(name);
      if (!b || !l.alive) continue;
      const code = b.toString("latin1");
      const problem = checkCached(code);
      if (problem) {
        this.stats.refused = name + ": " + problem;
        this.event("refused", this.stats.refused);
        this.print("Refused " + name + ": " + problem);
        this.end();
        return;
      }
      if (this.onScript) this.onScript(name, code);
      this.invoke(() => compiled(code, name).runInContext(ctx));
    }
    if (l.alive) for (const h of l.eHandlers.init || []) this.invoke(h);
  }

  private setTelnet(mode: "on" | "off"): void {
    if (mode === this.telnetMode) return;
    this.telnetMode = mode;
    this.event("telnet", mode);
    if (this.onTelnetMode) this.onTelnetMode(mode);
  }

  // ---- the context

  private makeContext(l: Life): vm.Context {
    const sandbox: Record<string, unknown> = {};
    const ctx = vm.createContext(sandbox, { codeGeneration: { strings: true, wasm: false } });
    const setup = vm.runInContext(BOOTSTRAP, ctx) as (n: () => number, p: (i: number) => string, c: number) => void;
    setup(() => this.deviceNowMs(), (i) => "D" + i, 40);
    const CtxError = vm.runInContext("Error", ctx) as ErrorConstructor;
    const realm = installQuirks(ctx);
    const err = (msg: string) => new CtxError(msg);
    const guard = () => {
      if (!l.alive) throw new Halt("device stopped");
    };
    const pin = (v: unknown): number => {
      if (typeof v === "number") return v;
      if (v && typeof v === "object" && typeof (v as { num?: unknown }).num === "number") return (v as { num: number }).num;
      if (typeof v === "string" && /^D\d+$/.test(v)) return parseInt(v.slice(1), 10);
      throw err("Invalid pin: " + String(v));
    };
    const link: DeviceLink = {
      sched: this.sched,
      alive: () => l.alive,
      invoke: (fn, ...a) => this.invoke(fn, ...a),
      error: err,
      onEnd: (c) => this.onEnd(c),
      online: () => this.wifi.connected,
      faults: this.faults,
      stats: this.stats.net,
      onResponse: (p, s, b) => {
        if (this.onResponse) this.onResponse(p, s, b);
      },
    };
    const modules: Record<string, object> = {};
    const fmt = (a: unknown[]) => a.map((x) => (typeof x === "string" ? x : safeJson(x))).join(" ");
    const con = { log: (...a: unknown[]) => this.print(fmt(a)) };
    const addTimer = (fn: unknown, ms: unknown, repeat: boolean, args: unknown[]): number => {
      guard();
      if (typeof fn !== "function") throw err("Function expected");
      const id = l.nextTimer++;
      const period = Math.max(0, Number(ms) || 0);
      let due = this.sched.now() + period;
      const fire = () => {
        if (repeat) {
          due += Math.max(period, 1);
          l.timers.set(id, this.sched.at(due, fire));
        } else l.timers.delete(id);
        this.invoke(fn, ...args);
      };
      l.timers.set(id, this.sched.at(due, fire));
      return id;
    };
    const clearTimer = (id?: unknown) => {
      if (id === undefined) {
        for (const t of l.timers.values()) this.sched.cancel(t);
        l.timers.clear();
        return;
      }
      const t = l.timers.get(Number(id));
      if (t !== undefined) this.sched.cancel(t);
      l.timers.delete(Number(id));
    };
    const api: Record<string, unknown> = {
      console: { log: con.log, info: con.log, warn: con.log, error: con.log, debug: con.log },
      print: con.log,
      setTimeout: (fn: unknown, ms?: unknown, ...args: unknown[]) => addTimer(fn, ms, false, args),
      setInterval: (fn: unknown, ms?: unknown, ...args: unknown[]) => addTimer(fn, ms, true, args),
      clearTimeout: clearTimer,
      clearInterval: clearTimer,
      getTime: () => this.deviceNowMs() / 1000,
      setTime: (sec: unknown) => {
        l.offsetMs = Number(sec) * 1000 - (this.sched.now() - l.bootAt);
      },
      getSerial: () => this.opts.serial ?? "24:0a:c4:00:00:01",
      btoa: (s: unknown) => Buffer.from(String(s), "latin1").toString("base64"),
      atob: (s: unknown) => Buffer.from(String(s), "base64").toString("latin1"),
      require: (name: unknown) => {
        const n = String(name);
        if (modules[n]) return modules[n];
        if (n === "http") modules[n] = httpModule(link);
        else if (n === "Storage") modules[n] = storageModule(this.flash, realm, guard);
        else if (n === "Wifi") modules[n] = this.wifiModule(l);
        else if (n === "TelnetServer")
          modules[n] = {
            setOptions: (o: unknown) => {
              const m = o && typeof o === "object" ? (o as { mode?: unknown }).mode : undefined;
              if (m === "on" || m === "off") this.setTelnet(m);
            },
          };
        // the ESP32 build's crypto module (mbedTLS): one-shot hashes to an ArrayBuffer
        else if (n === "crypto") modules[n] = { SHA256: (d: unknown) => new Uint8Array(createHash("sha256").update(Buffer.from(String(d), "latin1")).digest()).buffer };
        else throw err("Module " + n + " not found");
        return modules[n];
      },
      reset: () => {
        // Espruino's reset(): RAM and timers cleared, no boot code run (load() runs it)
        this.boot("reset", l.wakeCause, this.deviceNowMs(), "");
      },
      load: (file?: unknown) => {
        guard();
        const keep = this.deviceNowMs();
        this.sched.after(0, () => {
          if (this.life !== l) return;
          this.boot("load", l.wakeCause, keep, file === undefined ? undefined : String(file));
        });
      },
      setWatch: (fn: unknown, p: unknown, o: unknown) => {
        guard();
        return this.pins.setWatch(fn, pin(p), o);
      },
      clearWatch: (id?: unknown) => this.pins.clearWatch(id),
      digitalWrite: (p: unknown, v: unknown) => {
        guard();
        this.pins.digitalWrite(pin(p), v);
      },
      digitalRead: (p: unknown) => this.pins.digitalRead(pin(p)),
      pinMode: (p: unknown, m?: unknown) => {
        guard();
        this.pins.pinMode(pin(p), m);
      },
      getPinMode: (p: unknown) => this.pins.getPinMode(pin(p)),
      digitalPulse: (p: unknown, v: unknown, ms: unknown) => {
        guard();
        this.pins.digitalPulse(pin(p), v, ms);
      },
      analogRead: () => 0,
      process: {
        version: "2v29",
        env: { VERSION: "2v29", BOARD: "ESP32", FLASH: 0, STORAGE: this.flash.capacityBytes, RAM: 524288, SERIAL: this.opts.serial ?? "24:0a:c4:00:00:01",
          CONSOLE: "Telnet", MODULES: "Flash,Storage,heatshrink,fs,net,dgram,http,NetworkJS,Wifi,TelnetServer,crypto,tls,ESP32", EXPTR: 1073484860 },
        memory: () => {
          const total = this.opts.memoryTotal ?? 3600;
          // coarse stand-in: V8 cannot count Espruino JsVars
          const usage = Math.min(total, 400 + 8 * l.timers.size + 60 * l.closers.size);
          return { free: total - usage, usage, total, history: 0, gc: 0, gctime: 0, blocksize: 14 };
        },
      },
      E: {
        reboot: () => {
          this.event("reboot", "E.reboot()");
          this.end();
          this.scheduleBoot(this.opts.bootMs ?? 300, "reboot", WAKE_UNDEFINED);
          throw new Halt("reboot");
        },
        enableWatchdog: (sec: unknown, isAuto?: unknown) => {
          // auto mode is kicked by the idle loop: only a hung interpreter trips it, which JS here cannot do
          if (isAuto !== false) return;
          const s = Number(sec);
          l.wdt = { sec: s, lastKick: this.sched.now() };
          const check = () => {
            if (this.life !== l || !l.alive || !l.wdt) return;
            if (this.sched.now() - l.wdt.lastKick >= l.wdt.sec * 1000 - 1e-6) {
              this.event("watchdog", "not kicked for " + l.wdt.sec + " s");
              this.end();
              this.scheduleBoot(this.opts.bootMs ?? 300, "watchdog", WAKE_UNDEFINED);
              return;
            }
            this.sched.at(l.wdt.lastKick + l.wdt.sec * 1000, check);
          };
          this.sched.after(s * 1000, check);
        },
        kickWatchdog: () => {
          if (l.wdt) l.wdt.lastKick = this.sched.now();
        },
        on: (evt: unknown, fn: unknown) => {
          (l.eHandlers[String(evt)] = l.eHandlers[String(evt)] || []).push(fn);
        },
        setPassword: (pw?: unknown) => {
          this.consolePassword = pw === undefined ? "" : String(pw);
          if (!this.consolePassword) this.consoleLocked = false;
        },
        lockConsole: () => {
          if (this.consolePassword) this.consoleLocked = true;
        },
        getErrorFlags: () => [],
        hwRand: () => (Math.random() * 4294967296) | 0,
        toString: (...a: unknown[]) => a.map((x) => (typeof x === "string" ? x : Buffer.from(x as Uint8Array).toString("latin1"))).join(""),
        getSizeOf: () => 0,
      },
      ESP32: {
        deepSleep: (us: unknown) => {
          guard();
          // ESP-IDF takes the JS integer as int32: values past 2^31 us wrap (negative = never wakes)
          const v = Number(us) | 0;
          this.stats.deepSleeps++;
          this.end();
          if (v < 0) {
            this.event("sleep", "deepSleep(" + String(us) + ") wraps to " + v + " us: never wakes");
            this.life = null;
          } else {
            this.stats.sleptMs += v / 1000;
            this.event("sleep", (v / 1e6).toFixed(1) + " s");
            this.scheduleBoot(v / 1000 + (this.opts.bootMs ?? 300), "deepsleep", WAKE_TIMER);
          }
          throw new Halt("deep sleep");
        },
        getWakeupCause: () => l.wakeCause,
        getState: () => ({ sdkVersion: "v4.4.8", freeHeap: 90000, BLE: false, Wifi: true, minHeap: 70000 }),
      },
    };
    for (const k of Object.keys(api)) sandbox[k] = api[k];
    // eval runs through the same gate as the boot files
    const realEval = vm.runInContext("eval", ctx) as (s: string) => unknown;
    sandbox.eval = (code: unknown) => {
      if (typeof code === "string") {
        if (this.onScript && code.length > 256) this.onScript("eval", code);
        const problem = checkCode(code);
        if (problem) throw err("Refused by the emulator: " + problem);
      }
      return realEval(code as string);
    };
    return ctx;
  }

  // ---- Wi-Fi

  /** Ends a radio-on interval that a Wifi.connect started. */
  private stationOff(): void {
    if (this.joinedAt >= 0) this.stats.wifiOnMs += this.sched.now() - this.joinedAt;
    this.joinedAt = -1;
  }

  private emitWifi(l: Life, evt: string, details: object): void {
    for (const h of l.wifiHandlers[evt] || []) this.invoke(h, details);
  }

  private autoConnect(l: Life, ms: number): void {
    this.wifi.connecting = true;
    this.sched.after(ms, () => {
      if (this.life !== l) return;
      this.wifi.connecting = false;
      if (this.wifi.ap && !this.wifi.connected) {
        this.wifi.connected = true;
        this.stats.wifiConnects++;
        this.emitWifi(l, "connected", { ip: "192.168.4.2", mac: this.opts.serial ?? "24:0a:c4:00:00:01" });
      }
    });
  }

  /** The access point goes away for `ms`; the station drops and Espruino's 3 reconnect tries fail. */
  wifiDrop(ms: number): void {
    this.wifi.ap = false;
    const l = this.life;
    this.stationOff();
    if (this.wifi.connected) {
      this.wifi.connected = false;
      this.event("wifi", "dropped for " + Math.round(ms / 1000) + " s");
      if (l) this.emitWifi(l, "disconnected", { reason: "beacon_timeout" });
    }
    this.sched.after(ms, () => {
      this.wifi.ap = true;
      // a network managed outside the app comes back by itself
      if ((this.opts.wifiAtBoot ?? "connected") === "connected" && this.life && !this.wifi.connected) {
        this.wifi.connected = true;
        this.emitWifi(this.life, "connected", { ip: "192.168.4.2" });
      }
    });
  }

  private wifiModule(l: Life): object {
    const mac = this.opts.serial ?? "24:0a:c4:00:00:01";
    return {
      connect: (ssid: unknown, _o: unknown, cb?: unknown) => {
        this.wifi.connecting = true;
        this.stats.wifiJoins++;
        if (this.joinedAt < 0) this.joinedAt = this.sched.now();
        this.sched.after(1500, () => {
          if (this.life !== l || !l.alive) return;
          this.wifi.connecting = false;
          if (this.wifi.ap) {
            this.wifi.connected = true;
            this.stats.wifiConnects++;
            this.invoke(cb, null);
            this.emitWifi(l, "connected", { ssid: String(ssid), mac, ip: "192.168.4.2" });
          } else {
            this.invoke(cb, "no_ap_found");
            this.emitWifi(l, "disconnected", { ssid: String(ssid), reason: "no_ap_found" });
          }
        });
      },
      disconnect: (cb?: unknown) => {
        this.wifi.connected = false;
        this.stationOff();
        this.sched.after(10, () => {
          this.invoke(cb);
          this.emitWifi(l, "disconnected", { reason: "assoc_leave" });
        });
      },
      on: (evt: unknown, fn: unknown) => {
        (l.wifiHandlers[String(evt)] = l.wifiHandlers[String(evt)] || []).push(fn);
      },
      removeAllListeners: (evt?: unknown) => {
        if (evt === undefined) l.wifiHandlers = {};
        else delete l.wifiHandlers[String(evt)];
      },
      getStatus: () => ({ station: this.wifi.connected ? "connected" : this.wifi.connecting ? "connecting" : "off", ap: "disabled", mode: "STA" }),
      getIP: (cb?: unknown) => {
        const ip = { ip: this.wifi.connected ? "192.168.4.2" : "0.0.0.0", netmask: "255.255.255.0", gw: "192.168.4.1", mac };
        if (typeof cb === "function") this.sched.after(0, () => this.invoke(cb, null, ip));
        return ip;
      },
      setHostname: () => undefined,
      save: () => undefined,
      restore: () => undefined,
      stopAP: () => undefined,
    };
  }
}

const scripts = new Map<string, vm.Script>();
const verdicts = new Map<string, string | null>();

/** Compiled once per text: booting every minute for a simulated week must stay cheap. */
function compiled(code: string, name: string): vm.Script {
  const key = name + "\n" + code;
  let s = scripts.get(key);
  if (!s) {
    if (scripts.size > 20) scripts.clear();
    s = new vm.Script(code, { filename: name });
    scripts.set(key, s);
  }
  return s;
}

/** Why a script must not run here, or null (cached per text). */
function checkCached(code: string): string | null {
  if (!verdicts.has(code)) {
    if (verdicts.size > 50) verdicts.clear();
    verdicts.set(code, checkCode(code));
  }
  return verdicts.get(code)!;
}

/** Why a script must not run here, or null. */
export function checkCode(code: string): string | null {
  try {
    const uses = nodeUses(code);
    if (!uses.length) return null;
    return "uses Node " + uses.map((u) => u.name + " (line " + u.line + ")").join(", ");
  } catch (e) {
    void e; // syntax errors surface when the code runs, as on the board
    return null;
  }
}

function safeJson(x: unknown): string {
  try {
    const s = JSON.stringify(x);
    return s === undefined ? String(x) : s;
  } catch {
    return String(x);
  }
}

function describe(e: unknown): string {
  if (e && typeof e === "object" && "message" in e) {
    const o = e as { name?: string; message: string; stack?: string };
    const where = o.stack ? o.stack.split("\n").slice(1, 3).join(" | ").trim() : "";
    return (o.name || "Error") + ": " + o.message + (where ? " @ " + where : "");
  }
  return String(e);
}
