// OTA in emulation runs: flashes the device in the OTA layout (.boot0 + fw.a + ota.pub), builds
// releases from the bundle under test (another FW_VERSION, or one that throws at boot), serves them
// through the local platform's update hosting with host-side faults and power cuts, and observes
// which version ran at each boot (from the scripts the boot stage starts, never the firmware's word).
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import type { Flash } from "./storage";
import type { Device } from "./device";
import type { Scheduler } from "./clock";
import { makeManifest, signedText } from "../../build/release";
import { generateLmsKey, hssPublicKey, hssSignAt, lmsTree, type LmsKey } from "../../build/lms";
import { versionNewer } from "../../firmware/ota";
import { BODY_PIECE_BYTES } from "./http";

/** The `ota` block of a scenario. */
export interface OtaScenario {
  /** The B release: the same bundle with the next version, or one that throws at boot. */
  image: "good" | "throws";
  /** Host-side faults from `atMin` on: a tampered image, a manifest signed with another key, a
   * manifest with the wrong size (correctly signed), a download whose connection drops mid-body,
   * an older genuine release served again (replay). */
  phases?: { atMin: number; fault: "none" | "tamper" | "signature" | "size" | "truncate" | "replay" }[];
  /** From the first boot of the new release on, for `forMin` minutes: the platform unreachable
   * ("networkDown": connects fail, as when an attacker blocks the endpoint) or no Wi-Fi at all
   * ("wifiDrop": no request can leave the device). */
  afterInstall?: { fault: "networkDown" | "wifiDrop"; forMin: number };
  /** Power cuts at random OTA Storage writes (image chunks, boot record, success mark); after each
   * installed release the next one is published, so the cuts cover download and switch-over. */
  powerCuts?: number;
  seed?: number;
}

export interface OtaReport {
  /** Manifest fetches that offered a version newer than the one running. */
  offered: number;
  /** Progress 100 (installed, rebooting into it). */
  installed: number;
  /** Progress -2..-4 (download, verification or storage failures). */
  refused: number;
  /** Progress -1 "rolled back". */
  rolledBack: number;
  /** Each progress failure as the platform received it, in order. */
  failures: { step: number; desc: string }[];
  /** Versions on the inform topic, in order. */
  informed: string[];
  releases: string[];
  powerCuts: number;
  /** Boots whose script was not a complete released image (0 when every boot ran a verified script). */
  unverifiedBoots: number;
}

const OTA_FILES = new Set(["fw.a", "fw.b", "ota.m0", "ota.m1", "ota.ok", "ota.rb", "ota.up", "ota.ctr", "ota.nc"]);

function sha1(s: string | Buffer): string {
  return crypto.createHash("sha1").update(typeof s === "string" ? Buffer.from(s, "latin1") : s).digest("hex");
}

/**
 * The FW_VERSION the bundle was built with: its one string literal of a dotted version of three or
 * four numbers (firmware/version.ts keeps it in one place; a second one is an error, not a guess).
 */
export function bundleVersion(code: string): string {
  const found: string[] = [];
  const re = /"(\d{1,9}\.\d{1,9}\.\d{1,9}(?:\.\d{1,9})?)"/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(code))) if (found.indexOf(m[1]) < 0) found.push(m[1]);
  if (found.length !== 1) throw new Error("cannot find the FW_VERSION of the bundle: " + (found.length ? "several version literals " + found.join(", ") : "no version literal") + " (is it a dist/firmware.js?)");
  return found[0];
}

function bump(v: string): string {
  const p = v.split(".").map(Number);
  p[p.length - 1]++;
  return p.join(".");
}

/** One version and the boots it ran in a row. */
export interface VersionRun {
  version: string;
  boots: number;
}

/**
 * Versions seen at the boots, in order, a version booted several times in a row counted once with
 * its boots: a boot starts with `.boot0` or `.bootcde`; the script it runs names the version.
 */
export class VersionTracker {
  readonly versions: VersionRun[] = [];
  unverified = 0;
  private known = new Map<string, string>();
  private pending = false;
  onBoot: ((version: string) => void) | null = null;

  add(code: string, version: string): void {
    this.known.set(sha1(code), version);
  }

  script(name: string, code: string): void {
    if (name === ".boot0") {
      this.pending = true;
      return;
    }
    if (name !== "eval" && name !== ".bootcde") return;
    if (name === ".bootcde") this.pending = true;
    if (!this.pending) return;
    this.pending = false;
    const v = this.known.get(sha1(code));
    if (v === undefined) this.unverified++;
    const version = v ?? "unverified";
    const last = this.versions[this.versions.length - 1];
    if (last && last.version === version) last.boots++;
    else this.versions.push({ version: version, boots: 1 });
    if (v !== undefined && this.onBoot) this.onBoot(v);
  }

  running(): string {
    return this.versions.length ? this.versions[this.versions.length - 1].version : "";
  }
}

export interface OtaRig {
  tracker: VersionTracker;
  /** The release folder (startCloud updatesDir). */
  dir: string;
  /** For startCloud onUpdateServe. */
  onServe(name: string, body: Buffer, range: string | undefined): Buffer;
  /** Flash layout and hooks; call once the device exists. */
  attach(flash: Flash, device: Device, sched: Scheduler): void;
  /** The update public key the device holds (hex, as in `ota.pub` and the .pub file flash.sh takes). */
  pub: string;
  /**
   * Switches the host-side fault now (the real-interpreter runner, which has no emulated device: a
   * "truncate" phase then serves half the image, so its chunks come short).
   */
  phase(fault: string): void;
  report(messages: { topic: string; payload: string }[]): OtaReport;
}

/** An LMS signer for emulation runs: a small tree (H5 / W4, 32 leaves, made in a fraction of a
 * second) whose leaves may sign again (no secret is at stake here; the release tool never does). */
class RigSigner {
  private key: LmsKey = generateLmsKey(5, 3);
  private nodes = lmsTree(this.key);
  private q = 0;
  readonly pub = hssPublicKey(this.key, this.nodes).toString("hex");
  sign(text: string): Buffer {
    return hssSignAt(this.key, this.q++ % 32, Buffer.from(text, "latin1"), undefined, this.nodes);
  }
}

export function otaRig(firmware: string, boot0: string, updatesDir: string, spec: OtaScenario, chunkBytes: number): OtaRig {
  const signer = new RigSigner();
  const other = new RigSigner();
  const a = bundleVersion(firmware);
  const tracker = new VersionTracker();
  tracker.add(firmware, a);
  let seed = spec.seed ?? 1;
  // xorshift: the run is repeatable for a seed
  const rand = (n: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const releases: string[] = [];
  let latest = a;
  let counter = 0;
  let fault = "none";
  let hostTruncates = false;
  let offered = 0;
  let cuts = 0;
  /** Manifests published so far, by version (the replay fault serves the first one again). */
  const manifests: string[] = [];

  function imageFor(v: string): string {
    const lit = JSON.stringify(a);
    const parts = firmware.split(lit);
    if (parts.length !== 2) throw new Error("the bundle holds " + lit + " " + (parts.length - 1) + " times; need exactly once");
    const img = parts.join(JSON.stringify(v));
    return spec.image === "throws" ? 'throw new Error("release ' + v + ' fails at boot");\n' + img : img;
  }

  /** What build/release.ts writes: image, signature file, then manifest.json. */
  function release(v: string): void {
    const img = imageFor(v);
    tracker.add(img, v);
    const m = makeManifest(Buffer.from(img, "latin1"), v, ++counter, `firmware-${v}.js`, `firmware-${v}.sig`);
    fs.writeFileSync(updatesDir + "/" + m.url, img, "latin1");
    fs.writeFileSync(updatesDir + "/" + m.sig, signer.sign(signedText(m.version, m.counter, m.size, m.sha256)));
    fs.writeFileSync(updatesDir + "/manifest.json", JSON.stringify(m, null, 2) + "\n");
    manifests.push(JSON.stringify(m));
    releases.push(v);
    latest = v;
  }
  fs.mkdirSync(updatesDir, { recursive: true });
  release(bump(a));

  return {
    tracker,
    dir: updatesDir,
    pub: signer.pub,
    phase(f) {
      fault = f;
      hostTruncates = true;
    },
    onServe(name, body) {
      if (name === "manifest.json") {
        const m = JSON.parse(fault === "replay" ? manifests[0] : body.toString("utf8"));
        if (versionNewer(m.version, tracker.running())) offered++;
        if (fault === "size") return Buffer.from(JSON.stringify({ ...m, size: m.size + 5 }));
        return fault === "replay" ? Buffer.from(manifests[0]) : body;
      }
      if (name.endsWith(".sig") && (fault === "signature" || fault === "size")) {
        const m = JSON.parse(fs.readFileSync(updatesDir + "/manifest.json", "utf8"));
        // another key over the right text, or the right key over a wrong size (only the size check
        // of the download can catch that one)
        if (fault === "signature") return other.sign(signedText(m.version, m.counter, m.size, m.sha256));
        return signer.sign(signedText(m.version, m.counter, m.size + 5, m.sha256));
      }
      if (fault === "truncate" && hostTruncates && name.endsWith(".js")) return body.subarray(0, body.length >> 1);
      if (fault === "tamper" && name.endsWith(".js")) {
        const t = Buffer.from(body);
        const i = t.indexOf("reading ");
        t[i >= 0 ? i : t.length >> 1] ^= 0x20; // one letter's case: still valid JS, another hash
        return t;
      }
      return body;
    },
    attach(flash, device, sched) {
      flash.put(".boot0", Buffer.from(boot0, "latin1"));
      flash.put("fw.a", Buffer.from(firmware, "latin1"));
      flash.put("ota.pub", Buffer.from(signer.pub, "latin1"));
      device.onScript = (n, c) => tracker.script(n, c);
      for (const p of spec.phases || []) {
        sched.at(p.atMin * 60000, () => {
          fault = p.fault;
          // the image only (its signature file is fetched whole before the download)
          device.faults.cutBody = p.fault === "truncate" ? { path: "/ota/firmware-" + latest + ".js", keepBytes: Math.floor(chunkBytes / 2) } : null;
        });
      }
      const after = spec.afterInstall;
      if (after) {
        let done = false;
        tracker.onBoot = (v) => {
          if (done || v === a) return;
          done = true;
          if (after.fault === "wifiDrop") device.wifiDrop(after.forMin * 60000);
          else {
            device.faults.down = true;
            sched.after(after.forMin * 60000, () => {
              device.faults.down = false;
            });
          }
        };
      }
      const total = spec.powerCuts ?? 0;
      if (!total) return;
      // the writes of one install: the image's pieces (each chunk is streamed into the slot as its
      // "data" events arrive), boot record, trial count, confirmation, success mark
      const span = () => Math.ceil(Buffer.byteLength(imageFor(latest), "latin1") / chunkBytes) * Math.ceil(chunkBytes / BODY_PIECE_BYTES) + 5;
      // Each OTA write is cut with the same chance, one in `span`: the writes to the next cut are
      // geometric, so about a third of the installs complete whatever the image's size (a cut
      // drawn uniformly within one install's writes completed installs only by how much `span`
      // overestimated them, which a few hundred bytes of firmware changed).
      const nextCut = () => 1 + Math.floor(Math.log((rand(1000000) + 1) / 1000001) / Math.log(1 - 1 / span()));
      let left = nextCut();
      flash.writeHook = (_kind, name, bytes) => {
        if (cuts >= total || !OTA_FILES.has(name) || --left > 0) return -1;
        cuts++;
        left = nextCut();
        device.cutPower(1000 + rand(30000));
        return rand(bytes + 1);
      };
      // the next release as soon as the newest one runs: cuts keep landing in downloads and switch-overs
      tracker.onBoot = (v) => {
        if (v === latest && cuts < total) release(bump(latest));
      };
    },
    report(messages) {
      const failures: { step: number; desc: string }[] = [];
      const informed: string[] = [];
      let installed = 0;
      let refused = 0;
      let rolledBack = 0;
      for (const m of [...messages].reverse()) {
        let p: { step?: string; desc?: string; version?: string };
        try {
          p = JSON.parse(m.payload).params || {};
        } catch {
          continue;
        }
        if (m.topic.indexOf("/ota/device/inform/") === 0) informed.push(String(p.version));
        if (m.topic.indexOf("/ota/device/progress/") !== 0) continue;
        const step = Number(p.step);
        if (step === 100) installed++;
        if (step < 0) failures.push({ step, desc: String(p.desc) });
        if (step === -1) rolledBack++;
        else if (step < 0) refused++;
      }
      return { offered, installed, refused, rolledBack, failures, informed, releases, powerCuts: cuts, unverifiedBoots: tracker.unverified };
    },
  };
}
