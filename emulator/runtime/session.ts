// One emulation run: local platform (on emulated time) or a real endpoint, one emulated device
// provisioned with iot.json and the firmware bundle, the simulated DHT22, a scenario, a report.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Scheduler } from "./clock";
import { Flash } from "./storage";
import { Device } from "./device";
import { stopProbe } from "./probe";
import { buildReport, type Report } from "./report";
import { DhtSim, type ClimateOptions } from "../sensor/sim";
import { applyScenario, type Scenario } from "../scenarios";
import { startCloud, type Cloud } from "../cloud/server";
import { otaRig, bundleVersion, VersionTracker, type OtaRig } from "./ota-run";

export interface Credentials {
  productKey: string;
  deviceName: string;
  deviceSecret: string;
}

export interface SessionOptions {
  /** Emulated run length; Infinity runs until stop(). */
  minutes: number;
  fast: boolean;
  /** The script flashed as .bootcde. */
  firmwareFile: string;
  scenario?: Scenario | null;
  /** Real platform endpoint: no local platform is started; needs `credentials`. */
  endpoint?: string;
  credentials?: Credentials;
  /** Local platform data folder (default: a fresh temp folder). */
  dataDir?: string;
  /** Flash file of the emulated device (default: fresh, in dataDir). */
  flashFile?: string;
  /** Keep what is in the flash file (start.ts); otherwise it starts erased. */
  keepFlash?: boolean;
  intervalSec?: number;
  climate?: ClimateOptions;
  /** Extra iot.json keys. */
  config?: Record<string, unknown>;
  tokenTtlMs?: number;
  /** Readings younger than this at the end count as pending, not lost (default 2 intervals + 5 min). */
  graceMs?: number;
  /** Device console lines and runtime events. */
  onConsole?: (line: string) => void;
  onEvent?: (kind: string, detail: string) => void;
  onResponse?: (path: string, status: number, body: string) => void;
  /** Fixed pk/dn for the local platform's device (start.ts keeps one demo device). */
  deviceName?: string;
  productKey?: string;
  cloudPorts?: { https?: number; http?: number; host?: string };
}

export interface Session {
  sched: Scheduler;
  device: Device;
  sensor: DhtSim;
  cloud: Cloud | null;
  identity: Credentials;
  /** Runs to the end (or stop()) and returns the report. */
  done: Promise<Report>;
  stop(): void;
}

export async function startSession(o: SessionOptions): Promise<Session> {
  if (o.endpoint && !o.credentials) throw new Error("--endpoint needs credentials (productKey, deviceName, deviceSecret)");
  const firmware = fs.readFileSync(o.firmwareFile);
  // a real platform checks timestamps against real time: emulated time must not run ahead
  const fast = o.fast && !o.endpoint;
  const sched = new Scheduler(fast);
  const dataDir = o.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "emulate-"));
  const scenario = o.scenario ?? null;
  let cloud: Cloud | null = null;
  let identity: Credentials;
  let endpoint: string;
  let rig: OtaRig | null = null;
  const otaConfig: Record<string, unknown> | null = scenario && scenario.ota ? { otaEveryCycles: 1, otaChunkBytes: 4096, ...(scenario.config || {}), ...(o.config || {}) } : null;
  if (scenario && scenario.ota) {
    if (o.endpoint) throw new Error("OTA scenarios need the local platform (no --endpoint)");
    const boot0 = fs.readFileSync(path.join(path.dirname(o.firmwareFile), "boot0.js"), "latin1");
    const updatesDir = fs.mkdtempSync(path.join(dataDir, "updates-"));
    rig = otaRig(firmware.toString("latin1"), boot0, updatesDir, scenario.ota, Number(otaConfig!.otaChunkBytes));
  }
  if (o.endpoint) {
    identity = o.credentials!;
    endpoint = o.endpoint;
  } else {
    cloud = await startCloud({
      dataDir,
      now: () => sched.wallMs(),
      tokenTtlMs: (scenario && scenario.cloud && scenario.cloud.tokenTtlMs) || o.tokenTtlMs,
      httpsPort: o.cloudPorts && o.cloudPorts.https,
      httpPort: o.cloudPorts && o.cloudPorts.http,
      host: o.cloudPorts && o.cloudPorts.host,
      throttle: { perSec: 1000, burst: 1000 },
      updatesDir: rig ? rig.dir : undefined,
      onUpdateServe: rig ? rig.onServe : undefined,
    });
    if (rig) otaConfig!.otaUrl = cloud.httpsUrl + "/ota/manifest.json";
    identity = cloud.registerDevice(o.productKey, o.deviceName);
    endpoint = cloud.httpsUrl;
  }
  const flashFile = o.flashFile ?? path.join(dataDir, "flash.json");
  if (!o.keepFlash && fs.existsSync(flashFile)) fs.rmSync(flashFile);
  const flash = new Flash(flashFile);
  const intervalSec = o.intervalSec ?? 60;
  if (!rig) flash.put(".bootcde", firmware);
  const iot = { ...identity, endpoint, intervalSec, dhtPin: "D4", ...(scenario && scenario.config) || {}, ...(o.config || {}), ...(otaConfig || {}) };
  flash.put("iot.json", JSON.stringify(iot));
  const sensor = new DhtSim(o.climate);
  // With a wifi config the station is off after a reset or deep sleep until the firmware joins
  // (load() keeps the link); without one the network is just there, as on Ethernet.
  const wifiAtBoot = "wifi" in iot ? "off" : "connected";
  const device = new Device({ sched, flash, sensor, dhtPin: 4, console: o.onConsole, event: o.onEvent, wifiAtBoot });
  if (o.onResponse) device.onResponse = o.onResponse;
  let tracker: VersionTracker;
  if (rig) {
    rig.attach(flash, device, sched);
    tracker = rig.tracker;
  } else {
    tracker = new VersionTracker();
    try {
      tracker.add(firmware.toString("latin1"), bundleVersion(firmware.toString("latin1")));
    } catch {
      /* not our bundle (a test script): its boots show as "unverified" */
    }
    device.onScript = (n, c) => tracker.script(n, c);
  }
  if (scenario) applyScenario(scenario, { sched, device, sensor, cloud, startMs: 0, log: (l) => o.onEvent && o.onEvent("scenario", l) });
  device.powerOn();

  const wall0 = performance.now();
  const endMs = o.minutes * 60000;
  const done = (async () => {
    try {
      await sched.run(endMs);
      const wallMs = performance.now() - wall0;
      device.shutdown();
      const emulatedMin = Math.min(endMs, sched.now()) / 60000;
      const messages = cloud ? cloud.messages(identity.productKey, identity.deviceName, 1e9) : null;
      const report = buildReport({
        minutes: Math.round(emulatedMin * 1000) / 1000,
        fast,
        scenario: scenario ? scenario.name : null,
        wallMs,
        endWallMs: sched.wallMs(),
        graceMs: o.graceMs ?? 2 * intervalSec * 1000 + 300000,
        gapMs: Math.min(30000, (intervalSec * 1000) / 2),
        frames: sensor.frames,
        noAnswer: sensor.noAnswers,
        stats: device.stats,
        messages,
      });
      report.versions = tracker.versions;
      if (rig) report.ota = rig.report(messages || []);
      return report;
    } finally {
      device.shutdown();
      if (cloud) await cloud.close();
      stopProbe();
    }
  })();
  return { sched, device, sensor, cloud, identity, done, stop: () => sched.stop() };
}
