// Test doubles for the store-and-forward tests: a flash Store that can lose power in the middle of
// a write (keeping a prefix of the bytes), a settable clock, and a platform stand-in behind the
// IoT client contract that parses what it receives.
import type { Clock, Store } from "../../platform/hal";
import type { PublishResult } from "../../firmware/iot/client";

export class PowerLoss extends Error {}

/** Flash store; `cutAt(n, keep)` kills power at the n-th mutating operation from now. */
export class FakeStore implements Store {
  files: { [name: string]: string } = {};
  bytesWritten = 0;
  ops = 0;
  private cut = -1;
  private keep = 0;
  dead = false;

  /** Power dies at mutating op number `n` (1 = next); an append keeps `keepFrac` of its bytes. */
  cutAt(n: number, keepFrac: number): void {
    this.cut = this.ops + n;
    this.keep = keepFrac;
  }
  /** Power back: the device reboots with whatever reached flash. */
  reboot(): void {
    this.dead = false;
    this.cut = -1;
  }
  private mutate(): boolean {
    if (this.dead) throw new PowerLoss("dead");
    this.ops++;
    if (this.ops === this.cut) {
      this.dead = true;
      return true;
    }
    return false;
  }
  /** A non-storage instant (e.g. the platform accepted a post) that the power cut may hit. */
  tick(): void {
    if (this.mutate()) throw new PowerLoss("instant");
  }
  read(name: string): string | undefined {
    if (this.dead) throw new PowerLoss("dead");
    return this.files["r:" + name];
  }
  write(name: string, data: string): boolean {
    if (this.mutate()) throw new PowerLoss("write");
    this.files["r:" + name] = data;
    this.bytesWritten += data.length;
    return true;
  }
  writeAt(): boolean {
    throw new Error("not used");
  }
  append(name: string, data: string): boolean {
    if (data.indexOf("\xff") >= 0) throw new Error("0xFF in StorageFile data");
    const dies = this.mutate();
    const part = dies ? data.substr(0, Math.floor(data.length * this.keep)) : data;
    this.files["l:" + name] = (this.files["l:" + name] || "") + part;
    this.bytesWritten += part.length;
    if (dies) throw new PowerLoss("append");
    return true;
  }
  readLog(name: string): string | undefined {
    if (this.dead) throw new PowerLoss("dead");
    return this.files["l:" + name];
  }
  erase(name: string): void {
    if (this.mutate()) throw new PowerLoss("erase");
    delete this.files["r:" + name];
    delete this.files["l:" + name];
  }
  list(prefix: string): string[] {
    return Object.keys(this.files)
      .map((k) => k.substr(2))
      .filter((n) => n.indexOf(prefix) === 0);
  }
  free(): number {
    return 1e6;
  }
  /** Bytes currently stored under a prefix. */
  size(prefix: string): number {
    let n = 0;
    for (const k of Object.keys(this.files)) if (k.substr(2).indexOf(prefix) === 0) n += this.files[k].length;
    return n;
  }
}

export class FakeClock implements Clock {
  wall = 0;
  up = 0;
  isSynced = false;
  nowMs(): number {
    return this.isSynced ? this.wall + this.up : this.up;
  }
  synced(): boolean {
    return this.isSynced;
  }
  set(epochMs: number): void {
    this.wall = epochMs - this.up;
    this.isSynced = true;
  }
  uptimeMs(): number {
    return this.up;
  }
}

/** One reading as the platform saw it. */
export interface Seen {
  msgId: string;
  topic: string;
  values: { [k: string]: number };
  time: number | undefined;
}

/** Platform stand-in: parses property and history posts; `down` makes it fail with a retryable error. */
export class FakePlatform {
  seen: Seen[] = [];
  bodies: { topic: string; body: string }[] = [];
  down = false;
  /** Next answers to give instead of success. */
  script: PublishResult[] = [];
  /** Called after the platform accepted a post, before the device hears back (power-cut hook). */
  afterAccept: (() => void) | null = null;
  clock: FakeClock | null = null;
  /** Time requests (syncTime) answered; `noDate` leaves the Date header out of replies (the clock stays unsynced). */
  auths = 0;
  noDate = false;

  waitMs(): number {
    return 0;
  }
  private date(): void {
    if (this.clock && !this.clock.isSynced && !this.noDate) this.clock.set(1767225600000 + this.clock.up);
  }
  syncTime(cb: (r: PublishResult) => void): void {
    if (this.down) return cb({ ok: false, code: -1, error: "offline", retryInMs: 1000 });
    this.auths++;
    this.date();
    cb({ ok: true, code: 0 });
  }
  publish(topic: string, payload: string, cb: (r: PublishResult) => void): void {
    if (this.down) return cb({ ok: false, code: -1, error: "offline", retryInMs: 1000 });
    const scripted = this.script.shift();
    if (scripted && !scripted.ok) return cb(scripted);
    const m = JSON.parse(payload);
    this.bodies.push({ topic, body: payload });
    if (m.method === "thing.event.property.post") {
      const values: { [k: string]: number } = {};
      let time: number | undefined;
      for (const k of Object.keys(m.params)) {
        const v = m.params[k];
        if (typeof v === "object") {
          values[k] = v.value;
          time = v.time;
        } else values[k] = v;
      }
      this.seen.push({ msgId: m.id, topic, values, time });
    } else if (m.method === "thing.event.property.history.post") {
      for (const entry of m.params[0].properties) {
        const values: { [k: string]: number } = {};
        let time: number | undefined;
        for (const k of Object.keys(entry)) {
          values[k] = entry[k].value;
          time = entry[k].time;
        }
        this.seen.push({ msgId: m.id, topic, values, time });
      }
    } else throw new Error("unexpected method " + m.method);
    if (this.afterAccept) this.afterAccept();
    // Like the real client: a reply carries the server Date, which syncs the clock.
    this.date();
    cb({ ok: true, code: 0, messageId: "1" });
  }
}

/** Deterministic PRNG (the shared mulberry32) so a failing instant can be replayed by seed. */
export { seededRng as rng } from "../../emulator/sensor/wave";
