// Test doubles for the OTA tests: an Espruino-like flash store that can lose power in the middle
// of an operation, an update host answering Range requests, and a recording publisher.
import * as crypto from "node:crypto";
import type { Hal, HttpRequest, HttpResponse, NetError, Store } from "../../platform/hal";
import { makeManifest, Manifest } from "../../build/release";

export const KEY = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
export const MANIFEST_URL = "https://updates.example.com/p1/manifest.json";

/** Deterministic PRNG (the shared mulberry32) so a failing instant can be replayed by seed. */
export { seededRng as rng } from "../../emulator/sensor/wave";

/** A script image of `size` bytes whose text names its version (byte string). */
export function image(version: string, size: number, body = ""): string {
  let s = `/*v${version}*/` + body;
  let i = 0;
  while (s.length < size) s += String.fromCharCode(32 + ((i++ * 7 + version.length) % 90));
  return s.substr(0, size);
}

/**
 * Flash with Espruino's Storage behaviour (espruino.md "Storage"): `write` replaces a file whole
 * (old copy erased first), `writeAt` at offset 0 creates the file with its full size in erased
 * (0xFF) bytes, later offsets write only over erased bytes. `powerFailAt(n)`: the n-th mutating
 * operation from now is torn (a random part of it happens) and the flash then takes no more writes.
 */
export class FlashStore implements Store {
  files: { [name: string]: string } = {};
  ops = 0;
  dead = false;
  private failAt = -1;
  private rand: () => number = Math.random;
  constructor(files?: { [name: string]: string }) {
    if (files) this.files = Object.assign({}, files);
  }
  powerFailAt(n: number, rand: () => number): void {
    this.failAt = this.ops + n;
    this.rand = rand;
  }
  /** A fresh store with the surviving contents: the next boot. */
  reboot(): FlashStore {
    return new FlashStore(this.files);
  }
  /** True when this operation may proceed whole; applies the torn part when power fails now. */
  private live(torn: () => void): boolean {
    if (this.dead) return false;
    if (this.ops++ === this.failAt) {
      this.dead = true;
      torn();
      return false;
    }
    return true;
  }
  read(name: string): string | undefined {
    return this.files[name];
  }
  write(name: string, data: string): boolean {
    const torn = () => {
      const r = this.rand();
      if (r < 0.2) return; // nothing reached the flash
      delete this.files[name];
      if (r < 0.4) return; // old copy erased, new header not written
      const k = Math.floor(this.rand() * data.length);
      this.files[name] = data.substr(0, k) + "\xff".repeat(data.length - k);
    };
    if (!this.live(torn)) return false;
    this.files[name] = data;
    return true;
  }
  writeAt(name: string, data: string, offset: number, size: number): boolean {
    const apply = (d: string) => {
      if (offset === 0) this.files[name] = "\xff".repeat(size);
      const cur = this.files[name];
      if (cur === undefined) throw new Error(`writeAt ${name}@${offset}: file not created`);
      if (cur.substr(offset, d.length) !== "\xff".repeat(d.length)) throw new Error(`writeAt ${name}@${offset}: bytes not erased`);
      this.files[name] = cur.substr(0, offset) + d + cur.substr(offset + d.length);
    };
    const torn = () => {
      const r = this.rand();
      if (r < 0.2) return;
      if (offset === 0) delete this.files[name];
      if (r < 0.4) return;
      apply(data.substr(0, Math.floor(this.rand() * data.length)));
    };
    if (!this.live(torn)) return false;
    apply(data);
    return true;
  }
  append(name: string, data: string): boolean {
    if (!this.live(() => undefined)) return false;
    this.files[name] = (this.files[name] || "") + data;
    return true;
  }
  readLog(name: string): string | undefined {
    return this.files[name];
  }
  erase(name: string): void {
    if (!this.live(() => { if (this.rand() < 0.5) delete this.files[name]; })) return;
    delete this.files[name];
  }
  list(prefix: string): string[] {
    return Object.keys(this.files).filter((n) => n.indexOf(prefix) === 0);
  }
  free(): number {
    return 1 << 20;
  }
}

/** An update host: files by URL, single Range requests, optional per-request faults. */
export class UpdateHost {
  files: { [url: string]: string } = {};
  requests: HttpRequest[] = [];
  /** Replaces the response of one request (return null for a network error). */
  fault?: (req: HttpRequest, res: HttpResponse) => HttpResponse | null;

  request(req: HttpRequest, done: (err: NetError | null, res: HttpResponse | null) => void): void {
    this.requests.push(req);
    const body = this.files[req.url];
    let res: HttpResponse;
    if (body === undefined) res = { status: 404, headers: {}, body: "not found", truncated: false };
    else {
      const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.Range || "");
      if (m) {
        const a = Number(m[1]);
        const b = Math.min(Number(m[2]), body.length - 1);
        res = a >= body.length
          ? { status: 416, headers: { "content-range": `bytes */${body.length}` }, body: "", truncated: false }
          : { status: 206, headers: { "content-range": `bytes ${a}-${b}/${body.length}` }, body: body.substring(a, b + 1), truncated: false };
      } else res = { status: 200, headers: {}, body, truncated: false };
      if (res.body.length > req.maxBodyBytes) res = Object.assign({}, res, { body: res.body.substr(0, req.maxBodyBytes), truncated: true });
    }
    const out = this.fault ? this.fault(req, res) : res;
    if (!out) done({ kind: "refused", detail: "-9" }, null);
    else done(null, out);
  }

  /** Publishes image `img` as `version` with a manifest signed by `key` (the release tool's code). */
  publish(version: string, img: string, key = KEY, edit?: (m: Manifest) => void): Manifest {
    const name = `firmware-${version}.js`;
    const m = makeManifest(Buffer.from(img, "latin1"), version, key, name);
    if (edit) edit(m);
    this.files[MANIFEST_URL.replace("manifest.json", name)] = img;
    this.files[MANIFEST_URL] = JSON.stringify(m);
    return m;
  }
}

export interface Sent { topic: string; payload: string }

/** Records publishes; answers ok unless `ok` is false. */
export class Publisher {
  sent: Sent[] = [];
  ok = true;
  private id = 100;
  publish(topic: string, payload: string, cb: (r: { ok: boolean }) => void): void {
    this.sent.push({ topic, payload });
    cb({ ok: this.ok });
  }
  nextId(): string {
    return String(this.id++);
  }
  /** `params` of the progress reports, in order. */
  steps(): { step: string; desc: string }[] {
    return this.sent.filter((s) => s.topic.startsWith("/ota/device/progress/")).map((s) => JSON.parse(s.payload).params);
  }
}

export interface FakeDevice { hal: Hal; reboots: number; logs: string[] }

/** A HAL over `store` and `host`; only what the OTA code touches does anything. */
export function fakeHal(store: Store, host: UpdateHost): FakeDevice {
  const dev: FakeDevice = { hal: undefined as unknown as Hal, reboots: 0, logs: [] };
  dev.hal = {
    net: { request: (req, done) => host.request(req, done) },
    store,
    clock: { nowMs: () => 1790000000000, synced: () => true, set: () => undefined, uptimeMs: () => 1000 },
    timers: { after: () => 0, cancel: () => undefined },
    dht: { capture: (_a, _b, done) => done([]) },
    power: { deepSleep: () => false, reboot: () => { dev.reboots++; }, watchdog: () => undefined, kick: () => undefined },
    log: (level, msg) => { dev.logs.push(level + " " + msg); },
  };
  return dev;
}

export function sha1(s: string): string {
  return crypto.createHash("sha1").update(Buffer.from(s, "latin1")).digest("hex");
}
