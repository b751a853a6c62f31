// Fault scenarios: JSON files in this folder, each a timeline of faults applied to one emulated
// run (network, Wi-Fi, TLS, platform codes, slow responses, sensor faults, power loss).
import * as fs from "node:fs";
import * as path from "node:path";
import type { Scheduler } from "../runtime/clock";
import type { Device } from "../runtime/device";
import type { DhtSim, SensorFaults } from "../sensor/sim";
import type { OtaScenario } from "../runtime/ota-run";

export type FaultEvent =
  | { fault: "networkDown"; atMin: number; forMin: number }
  | { fault: "wifiDrop"; atMin: number; forMin: number }
  | { fault: "tlsFail"; atMin: number; forMin: number }
  | { fault: "platformCode"; atMin: number; forMin?: number; code: number; count?: number }
  | { fault: "slowResponse"; atMin: number; forMin: number; delayMs: number }
  | ({ fault: "sensor"; atMin: number; forMin: number } & SensorFaults)
  | { fault: "powerLoss"; atMin: number; offSec: number; tornWrite?: { keepBytes: number } };

export interface Scenario {
  name: string;
  description: string;
  /** Suggested run length. */
  minutes?: number;
  /** Local platform options (e.g. a short token life). */
  cloud?: { tokenTtlMs?: number };
  events: FaultEvent[];
  /** OTA run (emulator/runtime/ota-run.ts): OTA flash layout, releases on the local platform. */
  ota?: OtaScenario;
  /** Extra iot.json keys (`otaUrl` is filled in with the local platform's manifest URL). */
  config?: Record<string, unknown>;
  /** What a correct firmware shows in the report (checked by the tests, documented in docs/emulator.md and docs/ota.md). */
  expect?: string;
  /** Settings for the real-interpreter runner (emulator/real/): e.g. random power cuts. */
  real?: { powerCuts?: number };
}

const DIR = __dirname;

export function scenarioNames(): string[] {
  return fs
    .readdirSync(DIR)
    .filter((f) => f.endsWith(".json"))
    .map((f) => f.slice(0, -5))
    .sort();
}

export function loadScenario(name: string): Scenario {
  const file = path.join(DIR, name + ".json");
  if (!/^[a-z0-9-]+$/.test(name) || !fs.existsSync(file)) throw new Error("unknown scenario " + JSON.stringify(name) + "; known: " + scenarioNames().join(", "));
  const s = JSON.parse(fs.readFileSync(file, "utf8")) as Omit<Scenario, "name">;
  if (!Array.isArray(s.events)) throw new Error("scenario " + name + ": events must be an array");
  for (const e of s.events) {
    if (typeof e.atMin !== "number") throw new Error("scenario " + name + ": every event needs atMin");
    if (!["networkDown", "wifiDrop", "tlsFail", "platformCode", "slowResponse", "sensor", "powerLoss"].includes(e.fault))
      throw new Error("scenario " + name + ": unknown fault " + JSON.stringify(e.fault));
  }
  return { name, ...s };
}

/** The platform-side switch scenarios need (the local platform's setFault). */
export interface FaultTarget {
  setFault(f: { code: number; count?: number } | null): void;
}

/** Schedules the scenario's faults on the run's clock (times from `startMs`, emulated). */
export function applyScenario(s: Scenario, t: { sched: Scheduler; device: Device; sensor: DhtSim; cloud: FaultTarget | null; startMs: number; log?: (l: string) => void }): void {
  const at = (min: number, fn: () => void) => t.sched.at(t.startMs + min * 60000, fn);
  const note = (l: string) => t.log && t.log(l);
  for (const e of s.events) {
    const end = "forMin" in e && e.forMin !== undefined ? e.atMin + e.forMin : undefined;
    switch (e.fault) {
      case "networkDown":
        at(e.atMin, () => ((t.device.faults.down = true), note("network down")));
        at(end!, () => ((t.device.faults.down = false), note("network up")));
        break;
      case "wifiDrop":
        at(e.atMin, () => (t.device.wifiDrop(e.forMin * 60000), note("Wi-Fi access point gone")));
        break;
      case "tlsFail":
        at(e.atMin, () => ((t.device.faults.tlsFail = true), note("TLS handshakes fail")));
        at(end!, () => ((t.device.faults.tlsFail = false), note("TLS ok")));
        break;
      case "slowResponse":
        at(e.atMin, () => ((t.device.faults.slowMs = e.delayMs), note("responses " + e.delayMs + " ms late")));
        at(end!, () => ((t.device.faults.slowMs = 0), note("responses on time")));
        break;
      case "platformCode":
        if (!t.cloud) throw new Error("scenario " + s.name + " needs the local platform");
        at(e.atMin, () => (t.cloud!.setFault({ code: e.code, count: e.count }), note("platform answers " + e.code)));
        if (end !== undefined) at(end, () => (t.cloud!.setFault(null), note("platform answers normally")));
        break;
      case "sensor": {
        const knobs: SensorFaults = { noAnswer: e.noAnswer, bitFlipProb: e.bitFlipProb, oneBitFlipProb: e.oneBitFlipProb, jitterUs: e.jitterUs, stuck: e.stuck };
        at(e.atMin, () => ((t.sensor.faults = knobs), note("sensor " + JSON.stringify(knobs))));
        at(end!, () => ((t.sensor.faults = {}), note("sensor ok")));
        break;
      }
      case "powerLoss":
        at(e.atMin, () => {
          if (e.tornWrite) {
            note("power goes during the next Storage write");
            t.device.cutPowerOnWrite(1, e.tornWrite.keepBytes, e.offSec * 1000);
          } else t.device.cutPower(e.offSec * 1000);
        });
        break;
    }
  }
}
