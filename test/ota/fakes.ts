// Test doubles for the OTA tests: an Espruino-like flash store that can lose power in the middle
// of an operation, an update host answering Range requests, and a recording publisher.
import { trialHealth, watchRequests } from "../../firmware/ota-trial";
import { load as loadOtaLib } from "../../firmware/ota-lib.lazy";
import * as crypto from "node:crypto";
import type { Hal, HttpRequest, HttpResponse, NetError, Store } from "../../platform/hal";
import { createOta, createTrial, type Ota, type OtaConfig, type OtaPublisher } from "../../firmware/ota";
import { makeManifest, Manifest, signedText } from "../../build/release";
import { generateLmsKey, hssPublicKey, hssSignAt, lmsTree, type LmsKey } from "../../build/lms";

export const MANIFEST_URL = "https://updates.example.com/p1/manifest.json";

/** A small LMS test key (H5 / W4, made once per test process) and its signer. Tests may sign
 * with a leaf again (no secret is at stake); the release tool never does (release.test.ts). */
export interface TestKey { key: LmsKey; nodes: Buffer[]; pub: string; next: number }

export function testKey(): TestKey {
  const key = generateLmsKey(5, 3);
  const nodes = lmsTree(key);
  return { key, nodes, pub: hssPublicKey(key, nodes).toString("hex"), next: 0 };
}

/** The key every fake host signs with and every factory device holds (hex, as in `ota.pub`). */
export const KEY = testKey();

export function sign(k: TestKey, text: string): string {
  return hssSignAt(k.key, k.next++ % 32, Buffer.from(text, "latin1"), undefined, k.nodes).toString("latin1");
}

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
    if (!out) return done({ kind: "refused", detail: "-9" }, null);
    if (!this.streamPiece || !req.stream) return done(null, out);
    // As the Espruino HAL streams (platform/espruino/net.ts): pieces with the status, no body.
    const cut = this.cutOnce && this.cutOnce.url === req.url ? this.cutOnce : null;
    for (let o = 0; o < out.body.length; o += this.streamPiece) {
      if (cut && o >= cut.after) {
        this.cutOnce = undefined;
        return done({ kind: "io", detail: "connection closed after " + o + " bytes" }, null);
      }
      req.stream(out.status, out.headers, out.body.substr(o, this.streamPiece), o);
    }
    this.bodiesSeen.push("");
    done(null, Object.assign({}, out, { body: "" }));
  }
  /** Set: a request with `stream` gets its body in pieces of this many bytes (and an empty body). */
  streamPiece = 0;
  /** The next streamed request for `url` is cut (a network error) once `after` bytes went out. */
  cutOnce?: { url: string; after: number };
  /** The body of each streamed response as handed to `done`. */
  bodiesSeen: string[] = [];

  /** Release counter of the last publish. */
  counter = 0;

  /**
   * Publishes image `img` as `version`: manifest (the release tool's code) with the next counter,
   * signature file signed by `key`, then `edit` may change the manifest after signing.
   */
  publish(version: string, img: string, key = KEY, edit?: (m: Manifest) => void, counter = ++this.counter): Manifest {
    const name = `firmware-${version}`;
    const m = makeManifest(Buffer.from(img, "latin1"), version, counter, name + ".js", name + ".sig");
    this.files[MANIFEST_URL.replace("manifest.json", name + ".sig")] = sign(key, signedText(m.version, m.counter, m.size, m.sha256));
    if (edit) edit(m);
    this.files[MANIFEST_URL.replace("manifest.json", name + ".js")] = img;
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
    // what the board's crypto module gives (platform/espruino/boot.ts)
    sha256: (bytes) => crypto.createHash("sha256").update(Buffer.from(bytes, "latin1")).digest("latin1"),
  };
  return dev;
}

/** One duty cycle's health check on `dev`: a request goes out (any answer), the sensor answered. */
export function passHealth(dev: FakeDevice, ota: { health(sensorOk: boolean): void }): void {
  dev.hal.net.request({ method: "POST", url: "https://iot.example.com/topic/x", headers: {}, body: "", timeoutMs: 1000, maxBodyBytes: 100 }, () => undefined);
  ota.health(true);
}

export function sha256(s: string): string {
  return crypto.createHash("sha256").update(Buffer.from(s, "latin1")).digest("hex");
}

/**
 * The updater as a device has it on a cycle that gets to it, with this boot's trial, made first;
 * `health` runs the trial's health check as the app does each cycle.
 */
export function otaFor(hal: Hal, cfg: OtaConfig, pub: OtaPublisher): Ota & { health(sensorOk: boolean): void } {
  const trial = createTrial(hal, cfg.version);
  if (trial.on) watchRequests(hal.net, trial);
  const ota = createOta(hal, cfg, pub, trial, loadOtaLib);
  return { afterPublish: ota.afterPublish, check: ota.check, health: (ok) => trialHealth(hal, trial, ok) };
}
