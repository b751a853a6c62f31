// Emulated GPIO of one device: pin modes and levels, setWatch/clearWatch with Espruino's event
// shape ({state, time, lastTime} in seconds), digitalPulse, and the DHT22 line: when the host
// stops driving the line low after >= 1 ms, the simulated sensor answers with its pulse train.
import type { Scheduler } from "./clock";
import type { DhtSim } from "../sensor/sim";

const DRIVING = ["output", "af_output"];
const OPEN_DRAIN = ["opendrain", "opendrain_pullup", "af_opendrain"];

interface Watch {
  id: number;
  pin: number;
  fn: unknown;
  repeat: boolean;
  edge: "rising" | "falling" | "both";
  lastEmu: number;
}

interface PinState {
  mode: string;
  auto: boolean;
  out: 0 | 1;
  /** Emulated ms when the host began driving the line low, or -1. */
  lowSince: number;
  /** Sensor answer in progress: absolute edges (emulated ms, level after the edge). */
  answer: { edges: { t: number; level: 0 | 1 }[]; endMs: number } | null;
  /** Emulated times when the host drove the line (answer edges then are masked). */
  drivenSince: number;
}

export interface PinHost {
  sched: Scheduler;
  alive(): boolean;
  invoke(fn: unknown, ...args: unknown[]): void;
  /** Device time in seconds (getTime) at an emulated ms. */
  deviceSecAt(emuMs: number): number;
  onEnd(closer: () => void): () => void;
}

export class Pins {
  private pins = new Map<number, PinState>();
  private watches: Watch[] = [];
  private nextWatch = 1;
  private gen = 0;

  constructor(
    private host: PinHost,
    private dhtPin: number,
    private sensor: DhtSim | null,
  ) {}

  private st(pin: number): PinState {
    let s = this.pins.get(pin);
    if (!s) {
      s = { mode: "input", auto: true, out: 0, lowSince: -1, answer: null, drivenSince: -1 };
      this.pins.set(pin, s);
    }
    return s;
  }

  private drivesLow(s: PinState): boolean {
    return (DRIVING.includes(s.mode) || OPEN_DRAIN.includes(s.mode)) && s.out === 0;
  }

  private drivesHigh(s: PinState): boolean {
    return DRIVING.includes(s.mode) && s.out === 1;
  }

  /** Level on the wire now. */
  level(pin: number, at = this.host.sched.now()): 0 | 1 {
    const s = this.st(pin);
    if (this.drivesLow(s)) return 0;
    if (this.drivesHigh(s)) return 1;
    if (s.answer) {
      let lvl: 0 | 1 = 1;
      for (const e of s.answer.edges) if (e.t <= at) lvl = e.level;
      return lvl;
    }
    return s.mode === "input_pulldown" ? 0 : 1; // the DHT line has a pull-up resistor
  }

  /** Applies a change of mode/output and fires what the wire does because of it. */
  private change(pin: number, fn: (s: PinState) => void): void {
    const s = this.st(pin);
    const now = this.host.sched.now();
    const before = this.level(pin, now);
    const wasLow = this.drivesLow(s);
    fn(s);
    const isLow = this.drivesLow(s);
    if (!wasLow && isLow) s.lowSince = now;
    if (this.drivesHigh(s) || isLow) s.drivenSince = now;
    const after = this.level(pin, now);
    if (before !== after && !(wasLow && !isLow && pin === this.dhtPin && this.sensor)) this.edge(pin, now, after);
    if (wasLow && !isLow && pin === this.dhtPin && this.sensor) this.release(pin, s, now);
  }

  /** The host let go of the DHT line: the sensor answers (or not). */
  private release(pin: number, s: PinState, now: number): void {
    const lowMs = s.lowSince >= 0 ? now - s.lowSince : 0;
    s.lowSince = -1;
    const segs = this.sensor!.answer(this.host.sched.wallMs(), lowMs);
    const edges: { t: number; level: 0 | 1 }[] = [{ t: now, level: 1 }];
    let t = now;
    if (segs) {
      for (const seg of segs) {
        if (seg.level !== edges[edges.length - 1].level) edges.push({ t, level: seg.level });
        t += seg.us / 1000;
      }
      if (edges[edges.length - 1].level !== 1) edges.push({ t, level: 1 });
    }
    s.answer = { edges, endMs: t };
    const gen = this.gen;
    // Edge interrupts are timestamped as they happen; the callbacks run once the train is over.
    this.host.sched.at(t + 0.01, () => {
      const ans = s.answer;
      if (!ans || gen !== this.gen || !this.host.alive()) return;
      s.answer = null;
      for (const e of ans.edges) {
        // while the host drives the line, the sensor's edges do not show
        if (s.drivenSince > now && e.t >= s.drivenSince) break;
        this.fire(pin, e.t, e.level);
      }
    });
  }

  private edge(pin: number, at: number, level: 0 | 1): void {
    this.host.sched.at(at, () => this.fire(pin, at, level));
  }

  private fire(pin: number, at: number, level: 0 | 1): void {
    for (const w of this.watches.slice()) {
      if (w.pin !== pin) continue;
      const last = w.lastEmu;
      w.lastEmu = at;
      if (w.edge === "rising" && level !== 1) continue;
      if (w.edge === "falling" && level !== 0) continue;
      if (!w.repeat) this.watches.splice(this.watches.indexOf(w), 1);
      this.host.invoke(w.fn, { state: level === 1, time: this.host.deviceSecAt(at), lastTime: this.host.deviceSecAt(last) });
    }
  }

  /** All watches and pin states go with the context (a reboot resets the GPIO matrix). */
  reset(): void {
    this.gen++;
    this.watches = [];
    this.pins.clear();
  }

  // ---- the Espruino functions

  digitalWrite(pin: number, value: unknown): void {
    this.change(pin, (s) => {
      if (s.auto && !DRIVING.includes(s.mode) && !OPEN_DRAIN.includes(s.mode)) s.mode = "output";
      s.out = value ? 1 : 0;
    });
  }

  digitalRead(pin: number): number {
    const s = this.st(pin);
    if (s.auto && (DRIVING.includes(s.mode) || OPEN_DRAIN.includes(s.mode))) this.change(pin, (x) => (x.mode = "input"));
    return this.level(pin);
  }

  pinMode(pin: number, mode?: unknown): void {
    if (mode === undefined || mode === "auto") {
      this.st(pin).auto = true;
      return;
    }
    this.change(pin, (s) => {
      s.mode = String(mode);
      s.auto = false;
    });
  }

  getPinMode(pin: number): string {
    return this.st(pin).mode;
  }

  digitalPulse(pin: number, value: unknown, ms: unknown): void {
    const times = Array.isArray(ms) ? (ms as number[]) : [Number(ms)];
    let v = value ? 1 : 0;
    let at = this.host.sched.now();
    if (times.length === 1 && times[0] === 0) return;
    this.digitalWrite(pin, v);
    for (const t of times) {
      at += t;
      v = v ? 0 : 1;
      const lvl = v;
      this.host.sched.at(at, () => {
        if (this.host.alive()) this.digitalWrite(pin, lvl);
      });
    }
  }

  setWatch(fn: unknown, pin: number, opts: unknown): number {
    const o = (typeof opts === "object" && opts ? opts : {}) as { repeat?: boolean; edge?: unknown };
    let edge: Watch["edge"] = "both";
    if (o.edge === "rising" || o.edge === 1) edge = "rising";
    else if (o.edge === "falling" || o.edge === -1) edge = "falling";
    const id = this.nextWatch++;
    this.watches.push({ id, pin, fn, repeat: !!o.repeat, edge, lastEmu: this.host.sched.now() });
    return id;
  }

  clearWatch(id?: unknown): void {
    if (id === undefined) this.watches = [];
    else this.watches = this.watches.filter((w) => w.id !== Number(id));
  }
}
