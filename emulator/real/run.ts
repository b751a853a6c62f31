// One run of dist/ on the real Espruino interpreter, in real time: the Storage image flash.sh
// would leave, booted with the test prelude (simulated DHT22, board clock, reboot markers, RAM
// sampler), against the local IoT Platform over HTTPS through a fault proxy; a scenario's faults on
// a timeline scaled to the run; the same JSON report as the V8 emulator plus RAM and the console.
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import type { ChildProcess } from "node:child_process";
import { startCloud, type Cloud } from "../cloud/server";
import { buildReport, type Report } from "../runtime/report";
import { newNetStats } from "../runtime/http";
import type { DeviceStats } from "../runtime/device";
import type { Frame } from "../sensor/sim";
import { seededRng } from "../sensor/wave";
import type { Scenario } from "../scenarios";
import { otaRig, type VersionRun } from "../runtime/ota-run";
import { bootEngine, throwawayUpdateKey, writeImage, type Layout } from "./engine";
import { OTA_CHUNK_DEFAULT } from "../../firmware/ota";

/** Image bytes per OTA download request in OTA scenarios: the firmware's default, as a board has it (RAM is measured here). */
const OTA_CHUNK_BYTES = OTA_CHUNK_DEFAULT;

/** Faults this runner can apply on a real engine (the host build has no Wi-Fi, TLS faults or slow links here). */
const REAL_FAULTS = ["networkDown", "platformCode", "sensor", "powerLoss"];

export interface RealOptions {
  engine: string;
  layout: Layout;
  /** Real minutes to run. */
  minutes: number;
  scenario?: Scenario | null;
  intervalSec?: number;
  /** Extra iot.json keys. */
  config?: Record<string, unknown>;
  /** Folder for the image and the platform (default: a fresh temp folder). */
  dir?: string;
  /** dist/ folder (firmware.js, boot0.js). */
  distDir?: string;
  /** OTA layout: update key file for flash.sh. */
  updateKey?: string;
  /** Extra engine code run after flash.sh's files are written (e.g. a console-written config). */
  imageExtra?: (identity: { productKey: string; deviceName: string; deviceSecret: string; endpoint: string }) => string;
  /** Sees each token the platform issues. */
  onToken?: (token: string) => void;
  /** Give the board ESP32.deepSleep (a deep sleep ends the engine; it boots again, woken by the timer, after the sleep). */
  deepSleep?: boolean;
  /** Random power cuts (kill -9) at instants spread over the run. */
  powerCuts?: number;
  seed?: number;
  onConsole?: (line: string) => void;
  /**
   * Where the RAM goes: each console line also gets the JsVars in use as it is printed and the most
   * sampled since the line before (`RealReport.memory.trace`). The prelude's console wrapper costs a few
   * JsVars itself; leave it off for budget figures.
   */
  trace?: boolean;
  /**
   * The step account of a firmware built with `memAccount` (build/build.ts): each step mark and
   * each socket opened, with the JsVars alive after a collection (`RealReport.memory.account`).
   * Collections change the figures around them: leave it off for budget figures.
   */
  account?: boolean;
}

export interface MemoryReport {
  /** JsVars in use between cycles: the median over the boots that slept of each one's lowest sample after its `sleep` line (0: none slept). */
  idle: number;
  /** Most JsVars in use in any 20 ms sample. */
  peak: number;
  /** JsVars the engine has. */
  total: number;
  /**
   * JsVars the interpreter and the test prelude hold before the firmware runs (the most over the
   * boots, after a collection): part of every figure here, and not on a board, whose shims are built in.
   */
  rig: number;
  /** Per boot (each cycle is one): the lowest and highest sample, and the lowest once it slept (absent when it never did). */
  cycles: { low: number; high: number; idle?: number }[];
  /** Console lines that report a memory failure. */
  errors: string[];
  /** With `trace`: each console line, the JsVars in use as it was printed and the most sampled since the line before. */
  trace?: { line: string; usage: number; peakBefore: number }[];
  /** With `account`: each step mark and socket, the boot it was in (1 = the first) and the JsVars alive after a collection. */
  account?: { boot: number; step: string; alive: number }[];
}

export interface RealReport extends Report {
  engine: string;
  layout: Layout;
  memory: MemoryReport;
  /** Every post the platform recorded, oldest first (refused ones too). */
  posts: { topic: string; payload: string; code: number; time: number }[];
  console: string[];
}

/** A line the interpreter printed, without the REPL's prompt and erase-line codes. */
export function cleanLine(raw: string): string {
  // eslint-disable-next-line no-control-regex
  const l = raw.replace(/\r/g, "").replace(/^(>|\x1b\[J)+/, "").replace(/\x1b\[J/g, "").trimEnd();
  // an error's column marker is a line of spaces and "^"
  return /^\s+\^$/.test(l) ? "" : l;
}

const MEMORY_ERROR = /not enough memory|out of memory|low_memory|memory_busy/i;


/** Checks that a scenario can run here; a clear error naming the fault when it cannot. */
export function checkRealScenario(s: Scenario): void {
  for (const e of s.events) {
    if (!REAL_FAULTS.includes(e.fault))
      throw new Error(`scenario ${s.name} cannot run on the real engine: fault "${e.fault}" is not modelled there (it supports ${REAL_FAULTS.join(", ")}); run it on the V8 emulator`);
  }
  if (s.ota && (s.ota.powerCuts || s.ota.afterInstall))
    throw new Error(`scenario ${s.name} cannot run on the real engine: power cuts at OTA Storage writes and faults after the install need the V8 emulator's hooks`);
}

/** A TCP proxy in front of the platform: counts connections and bytes, and can be "down". */
class FaultProxy {
  server: net.Server;
  down = false;
  connections = 0;
  refused = 0;
  bytesSent = 0;
  bytesReceived = 0;
  times: number[] = [];
  private open = new Set<net.Socket>();

  constructor(private target: number) {
    this.server = net.createServer((c) => this.accept(c));
  }

  listen(): Promise<number> {
    return new Promise((res) => this.server.listen(0, "127.0.0.1", () => res((this.server.address() as net.AddressInfo).port)));
  }

  private accept(c: net.Socket): void {
    this.connections++;
    this.times.push(Date.now());
    if (this.down) {
      this.refused++;
      c.destroy();
      return;
    }
    const up = net.connect(this.target, "127.0.0.1");
    this.open.add(c);
    this.open.add(up);
    c.on("data", (d) => (this.bytesSent += d.length));
    up.on("data", (d) => (this.bytesReceived += d.length));
    c.pipe(up);
    up.pipe(c);
    const end = () => {
      c.destroy();
      up.destroy();
      this.open.delete(c);
      this.open.delete(up);
    };
    c.on("error", end).on("close", end);
    up.on("error", end).on("close", end);
  }

  close(): Promise<void> {
    for (const s of this.open) s.destroy();
    return new Promise((res) => this.server.close(() => res()));
  }
}

export interface RealRun {
  done: Promise<RealReport>;
  stop(): void;
  cloud: Cloud;
  identity: { productKey: string; deviceName: string; deviceSecret: string };
}

export async function runReal(o: RealOptions): Promise<RealRun> {
  const scenario = o.scenario ?? null;
  if (scenario) checkRealScenario(scenario);
  const dir = o.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), "real-"));
  const distDir = o.distDir ?? path.resolve(__dirname, "..", "..", "dist");
  const firmware = fs.readFileSync(path.join(distDir, "firmware.js"), "latin1");
  const intervalSec = o.intervalSec ?? 5;
  const runMs = o.minutes * 60000;
  // The scenario's timeline (in its suggested minutes) is squeezed into this run.
  const scale = scenario && scenario.minutes ? runMs / (scenario.minutes * 60000) : 1;
  // OTA scenarios: releases of this bundle served by the platform (the emulator's rig), OTA layout
  const otaSpec = scenario && scenario.ota ? scenario.ota : null;
  const layout: Layout = otaSpec ? "ota" : o.layout;
  const rig = otaSpec
    ? otaRig(firmware, fs.readFileSync(path.join(distDir, "boot0.js"), "latin1"), path.join(dir, "updates"), otaSpec, OTA_CHUNK_BYTES)
    : null;
  const cloud = await startCloud({
    dataDir: path.join(dir, "platform"),
    updatesDir: rig ? rig.dir : undefined,
    onUpdateServe: rig ? (n, b, r) => rig.onServe(n, b, r) : undefined,
    tokenTtlMs: scenario && scenario.cloud && scenario.cloud.tokenTtlMs ? Math.max(5000, scenario.cloud.tokenTtlMs * scale) : undefined,
    throttle: { perSec: 1000, burst: 1000 },
    log: (line) => platformLine(line),
    onToken: o.onToken,
  });
  const proxy = new FaultProxy(Number(new URL(cloud.httpsUrl).port));
  const proxyPort = await proxy.listen();
  const endpoint = "https://127.0.0.1:" + proxyPort;
  const identity = cloud.registerDevice();
  const t0 = Date.now();
  const faults: { from: number; to: number; noAnswer?: boolean; bitFlipProb?: number }[] = [];
  const timers: NodeJS.Timeout[] = [];
  const at = (min: number, fn: () => void) => timers.push(setTimeout(fn, Math.max(0, min * 60000 * scale)));
  const rand = seededRng(o.seed ?? 1);
  const cuts: number[] = [];
  for (const e of scenario ? scenario.events : []) {
    const end = "forMin" in e && e.forMin !== undefined ? e.atMin + e.forMin : undefined;
    if (e.fault === "networkDown") {
      at(e.atMin, () => (proxy.down = true));
      at(end!, () => (proxy.down = false));
    } else if (e.fault === "platformCode") {
      at(e.atMin, () => cloud.setFault({ code: e.code, count: e.count }));
      if (end !== undefined) at(end, () => cloud.setFault(null));
    } else if (e.fault === "sensor") {
      const from = (t0 + e.atMin * 60000 * scale) / 1000;
      faults.push({ from, to: (t0 + end! * 60000 * scale) / 1000, noAnswer: !!e.noAnswer, bitFlipProb: e.oneBitFlipProb || e.bitFlipProb || undefined });
    } else if (e.fault === "powerLoss") cuts.push(e.atMin * 60000 * scale);
  }
  // Random power cuts: anywhere after the first cycle, so some fall into Storage writes and requests.
  for (let i = 0; i < (o.powerCuts ?? 0); i++) cuts.push(intervalSec * 1000 + rand() * (runMs - 2 * intervalSec * 1000));
  cuts.sort((a, b) => a - b);

  const otaConfig = rig ? { otaUrl: endpoint + "/ota/manifest.json", otaEveryCycles: 1, otaChunkBytes: OTA_CHUNK_BYTES } : {};
  const config = { ...identity, endpoint, intervalSec, dhtPin: "D4", ...((scenario && scenario.config) || {}), ...(o.config || {}), ...otaConfig };
  let updateKey = o.updateKey;
  if (rig) {
    updateKey = path.join(dir, "rig.pub");
    fs.writeFileSync(updateKey, rig.pub + "\n");
    for (const p of otaSpec!.phases || []) at(p.atMin, () => rig.phase(p.fault));
  }
  writeImage({
    engine: o.engine,
    dir,
    credentials: config,
    layout,
    // the OTA layout needs an update public key: a throwaway one unless given
    updateKey: updateKey ?? (layout === "ota" ? throwawayUpdateKey(dir) : undefined),
    sim: { pin: "D4", faults, deepSleep: !!o.deepSleep, trace: !!o.trace, account: !!o.account },
    distDir: o.distDir,
    extraCode: o.imageExtra ? o.imageExtra({ ...identity, endpoint }) : undefined,
  });

  const frames: Frame[] = [];
  let noAnswer = 0;
  const consoleLines: string[] = [];
  const mem: MemoryReport = { idle: 0, peak: 0, total: 0, rig: 0, cycles: [], errors: [], trace: o.trace ? [] : undefined, account: o.account ? [] : undefined };
  const stats: DeviceStats = { boots: 0, bootWallMs: [], bootsByCause: {}, deepSleeps: 0, sleptMs: 0, uncaught: 0, refused: null, wifiConnects: 0, wifiJoins: 0, wifiOnMs: 0, net: newNetStats() };
  const versions: VersionRun[] = [];
  let bootVersionPending = false;
  /** 0 awake; 1 the cycle said it sleeps; more: sample windows since then. */
  let asleep = 0;

  function platformLine(line: string): void {
    const m = /^(auth|publish) (\S+).* -> (-?\d+)/.exec(line);
    if (!m) return;
    const p = m[1] === "auth" ? "/auth" : "/topic" + m[2];
    stats.net.requestsByPath[p] = (stats.net.requestsByPath[p] || 0) + 1;
    if (m[3] !== "0") stats.net.errorsByCode[m[3]] = (stats.net.errorsByCode[m[3]] || 0) + 1;
  }

  let child: ChildProcess | null = null;
  let stopped = false;
  let finish: () => void = () => undefined;
  const ended = new Promise<void>((res) => (finish = res));

  function deviceLine(text: string): void {
    let line = text;
    // trace mode: "<line> \x01<usage> <most since the line before>"
    const tr = line.lastIndexOf("\x01");
    if (tr >= 0) {
      const w = line.slice(tr + 1).split(" ");
      line = line.slice(0, tr).trimEnd();
      if (mem.trace && line && line[0] !== "@") mem.trace.push({ line, usage: Number(w[0]), peakBefore: Number(w[1]) });
      // account mode: a step mark ("M <t> <step>"), alive after a collection; the boot it belongs to
      const am = /^M \S+ (.*)$/.exec(line);
      if (mem.account && am) mem.account.push({ boot: mem.cycles.length, step: am[1], alive: Number(w[0]) });
      if (am) return;
    }
    if (!line) return;
    if (line[0] === "@") {
      const w = line.slice(1).split(" ");
      if (w[0] === "m") {
        const lo = Number(w[1]);
        const hi = Number(w[2]);
        mem.peak = Math.max(mem.peak, hi);
        const c = mem.cycles[mem.cycles.length - 1];
        if (c) {
          c.low = Math.min(c.low, lo);
          c.high = Math.max(c.high, hi);
          // a whole sample window after the cycle said it sleeps: what the device holds while idle
          if (asleep > 1) c.idle = Math.min(c.idle ?? 1e9, lo);
          if (asleep) asleep++;
        }
      } else if (w[0] === "boot") {
        // every cycle is a boot (deep sleep, or a restart from flash between cycles)
        mem.total = Number(w[3]);
        mem.rig = Math.max(mem.rig, Number(w[2]));
        mem.cycles.push({ low: 1e9, high: 0 });
        asleep = 0;
      } else if (w[0] === "reboot") restart("reboot", 0);
      else if (w[0] === "load") {
        // a soft reset: RAM goes, the clock runs on
        const at = Date.now();
        const t = Number(w[1]);
        kill();
        timers.push(setTimeout(() => boot("load", w[2], t + (Date.now() - at) / 1000), 0));
      }
      else if (w[0] === "sleep") {
        stats.deepSleeps++;
        restart("timer", Number(w[1]) / 1000);
      }
      return;
    }
    consoleLines.push(line);
    if (o.onConsole) o.onConsole(line);
    if (/^I [\d.]+ (deep )?sleep \d+ s$/.test(line)) asleep = 1;
    // the version each boot runs, from the script's boot line (an OTA slot names its own)
    const bv = bootVersionPending && / boot: .*, firmware (\S+)$/.exec(line);
    if (bv) {
      bootVersionPending = false;
      const last = versions[versions.length - 1];
      if (last && last.version === bv[1]) last.boots++;
      else versions.push({ version: bv[1], boots: 1 });
    }
    if (MEMORY_ERROR.test(line)) mem.errors.push(line);
    if (/^Uncaught/.test(line)) stats.uncaught++;
    if (/^E iot\.json/.test(line)) stats.refused = line.slice(2);
  }

  function boot(cause: string, file?: string, t?: number): void {
    if (stopped) return;
    stats.boots++;
    stats.bootWallMs.push(Date.now());
    stats.bootsByCause[cause] = (stats.bootsByCause[cause] || 0) + 1;
    bootVersionPending = true;
    const p = bootEngine(o.engine, dir, { cause, file, t });
    child = p;
    let buf = "";
    p.stdout!.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = cleanLine(buf.slice(0, i));
        buf = buf.slice(i + 1);
        if (child === p) deviceLine(line);
      }
    });
    p.stderr!.on("data", (d: Buffer) => consoleLines.push("stderr: " + d.toString("latin1").trim()));
    p.on("exit", () => {
      if (child === p && !stopped) {
        // the interpreter itself ended (a crash): a board would reset
        consoleLines.push("engine exited");
        child = null;
        setTimeout(() => boot("reboot"), 500);
      }
    });
  }

  function kill(): void {
    const p = child;
    child = null;
    if (p) p.kill("SIGKILL");
  }

  function restart(cause: string, afterMs: number, file?: string): void {
    kill();
    timers.push(setTimeout(() => boot(cause, file), afterMs));
  }

  // A cut that falls between two runs of the interpreter (a load() or a wake on its way) waits
  // for the next one to start: cutting nothing would lose the cut, and booting beside the
  // pending start would leave two interpreters on one flash file.
  function cut(): void {
    if (stopped) return;
    if (!child) {
      timers.push(setTimeout(cut, 50));
      return;
    }
    consoleLines.push("-- power cut --");
    restart("power", 1000);
  }
  for (const ms of cuts) timers.push(setTimeout(cut, ms));

  boot("power");
  const endTimer = setTimeout(() => finish(), runMs);
  const stop = () => {
    clearTimeout(endTimer);
    finish();
  };

  const done = (async (): Promise<RealReport> => {
    await ended;
    stopped = true;
    kill();
    for (const t of timers) clearTimeout(t);
    const messages = cloud.messages(identity.productKey, identity.deviceName, 1e9);
    // the sensor's own record (the prelude's frames.log): "wallMs none" or "wallMs t h ok|flip"
    const framesLog = path.join(dir, "frames.log");
    for (const l of fs.existsSync(framesLog) ? fs.readFileSync(framesLog, "latin1").split("\n") : []) {
      const w = l.split(" ");
      if (w[1] === "none") noAnswer++;
      else if (w.length === 4) {
        const t = Number(w[1]);
        const h = Number(w[2]);
        frames.push({ wallMs: Number(w[0]), temperature: t, humidity: h, trueC: t, trueRh: h, corrupted: w[3] !== "ok", stuck: false });
      }
    }
    stats.net.requests = proxy.connections;
    stats.net.tlsHandshakes = proxy.connections - proxy.refused;
    stats.net.requestTimes = proxy.times.map((t) => t - t0);
    stats.net.bytesSent = proxy.bytesSent;
    stats.net.bytesReceived = proxy.bytesReceived;
    if (proxy.refused) stats.net.errorsByCode.refused = proxy.refused;
    await proxy.close();
    await cloud.close();
    const report = buildReport({
      minutes: Math.round(((Date.now() - t0) / 60000) * 1000) / 1000,
      fast: false,
      scenario: scenario ? scenario.name : null,
      wallMs: Date.now() - t0,
      endWallMs: Date.now(),
      graceMs: 2 * intervalSec * 1000 + 30000,
      gapMs: Math.min(30000, (intervalSec * 1000) / 2),
      frames,
      noAnswer,
      stats,
      messages,
    });
    const cycles = mem.cycles.filter((c) => c.high > 0);
    const lows = cycles.filter((c) => c.idle !== undefined).map((c) => c.idle!).sort((a, b) => a - b);
    mem.idle = lows.length ? lows[Math.floor(lows.length / 2)] : 0;
    mem.cycles = cycles;
    const posts = messages.slice().reverse().map((m) => ({ topic: m.topic, payload: m.payload, code: m.code, time: m.time }));
    if (rig) report.ota = rig.report(messages);
    return { ...report, versions, engine: o.engine, layout, memory: mem, posts, console: consoleLines };
  })();
  return { done, stop, cloud, identity };
}
