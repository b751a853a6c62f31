// Small helper to run one emulated device with a script as `.bootcde` (tests, benchmarks).
import * as os from "node:os";
import * as path from "node:path";
import * as fs from "node:fs";
import { Scheduler } from "./clock";
import { Flash } from "./storage";
import { Device, type DeviceOptions } from "./device";
import { DhtSim } from "../sensor/sim";

export interface Bench {
  sched: Scheduler;
  flash: Flash;
  device: Device;
  sensor: DhtSim;
  lines: string[];
  events: string[];
  /** Runs emulated time forward by `ms`. */
  run(ms: number): Promise<void>;
}

export function bench(code: string, opts: Partial<DeviceOptions> & { fast?: boolean; flashFile?: string } = {}): Bench {
  const sched = new Scheduler(opts.fast ?? true, Date.UTC(2026, 0, 1));
  const flashFile = opts.flashFile ?? path.join(fs.mkdtempSync(path.join(os.tmpdir(), "espemu-")), "flash.json");
  const flash = new Flash(flashFile);
  if (code) flash.put(".bootcde", code);
  const sensor = opts.sensor ?? new DhtSim({ seed: 7 });
  const lines: string[] = [];
  const events: string[] = [];
  const device = new Device({
    sched,
    flash,
    sensor,
    console: (l) => lines.push(l),
    event: (k, d) => events.push(k + " " + d),
    ...opts,
  });
  device.powerOn();
  return {
    sched,
    flash,
    device,
    sensor,
    lines,
    events,
    run: (ms: number) => sched.run(sched.now() + ms),
  };
}
