// OTA end to end: the real dist/firmware.js and dist/boot0.js on the emulated device in the OTA
// layout, releases built from that bundle and served by the real local platform over real sockets;
// versions come from the scripts the device started, counts from the platform's records.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startSession } from "../../emulator/runtime/session";
import type { Report } from "../../emulator/runtime/report";
import { loadScenario } from "../../emulator/scenarios";
import { bundleVersion, type VersionRun } from "../../emulator/runtime/ota-run";
import { Flash } from "../../emulator/runtime/storage";
import { build } from "../../build/build";

const FIRMWARE = path.resolve(__dirname, "../../dist/firmware.js");

/** The report's runs of one version in boot order as pairs: [["0.1.0", 3], ["0.1.1", 17]]. */
function runs(versions: VersionRun[]): [string, number][] {
  return versions.map((x) => [x.version, x.boots]);
}

/** Boots that ran a known script, over all runs. */
const bootsOf = (versions: VersionRun[]) => versions.reduce((n, x) => n + x.boots, 0);

describe("OTA end to end (dist/firmware.js + dist/boot0.js + local platform update hosting)", function () {
  this.timeout(120000);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "emu-ota-"));
  let n = 0;
  let A = "";
  let B = "";
  before(() => {
    assert.ok(fs.existsSync(FIRMWARE), "dist/firmware.js missing: npm run build");
    A = bundleVersion(fs.readFileSync(FIRMWARE, "latin1"));
    B = A.replace(/\d+$/, (d) => String(Number(d) + 1));
  });

  async function run(name: string): Promise<Report> {
    const sc = loadScenario(name);
    const s = await startSession({ fast: true, firmwareFile: FIRMWARE, dataDir, flashFile: path.join(dataDir, "flash-" + n++ + ".json"), minutes: sc.minutes ?? 30, scenario: sc });
    const r = await s.done;
    assert.equal(r.refused, null);
    assert.equal(r.madeUp, 0);
    assert.equal(r.lost, 0);
    // reboots into a new script (and power cuts) neither lose nor double a reading at the platform
    assert.equal(r.duplicates, 0);
    assert.ok(r.ota && r.versions);
    // one entry per run of a version: no two neighbours name the same version
    r.versions.forEach((x, i) => assert.ok(x.boots >= 1 && (i == 0 || r.versions![i - 1].version !== x.version), JSON.stringify(r.versions)));
    assert.equal(r.ota.unverifiedBoots, 0, "a boot ran a script that is no complete release");
    return r;
  }

  it("ota-good: A -> B, the device reboots into B and reports it", async () => {
    const r = await run("ota-good");
    const v = runs(r.versions!);
    assert.deepEqual(v.map((x) => x[0]), [A, B], JSON.stringify(v));
    assert.equal(r.ota!.installed, 1);
    assert.equal(r.ota!.refused, 0);
    assert.deepEqual(r.ota!.informed, [A, B]);
    assert.equal(r.uncaught, 0);
    assert.ok(r.published >= r.readings - 1);
  });

  it("ota-tampered: tampered image, wrong signature, wrong size, truncated download are each refused with their step; stays on A until served right", async () => {
    const r = await run("ota-tampered");
    const f = r.ota!.failures;
    const steps = (re: RegExp) => f.filter((x) => re.test(x.desc)).map((x) => x.step);
    // five minutes per fault, one check per minute
    assert.deepEqual(steps(/^sha256 mismatch$/), [-3, -3, -3, -3, -3]);
    assert.deepEqual(steps(/^signature /), [-3, -3, -3, -3, -3]);
    assert.deepEqual(steps(/^size \d+ != \d+$/), [-3, -3, -3, -3, -3]);
    const dl = f.filter((x) => x.step === -2);
    assert.equal(dl.length, 5, JSON.stringify(f));
    assert.equal(f.length, 20, JSON.stringify(f));
    const v = runs(r.versions!);
    assert.equal(v[0][0], A);
    assert.ok(v[0][1] >= 20, "A ran through the 20 faulty minutes: " + JSON.stringify(v));
    assert.deepEqual(v.map((x) => x[0]), [A, B], "installed once served right");
    assert.equal(r.ota!.installed, 1);
    assert.ok(r.errorsByCode["-9"] >= 5, "the truncated downloads lost their connection");
  });

  it("ota-bad-boot: B throws at boot, rolled back to A within K=3 boots, reported, not installed again", async () => {
    const r = await run("ota-bad-boot");
    const v = runs(r.versions!);
    assert.deepEqual(v, [[A, 1], [B, 3], [A, v[2][1]]], JSON.stringify(v));
    assert.ok(v[2][1] >= 10);
    assert.equal(r.ota!.installed, 1);
    assert.equal(r.ota!.rolledBack, 1);
    assert.deepEqual(r.ota!.failures, [{ step: -1, desc: "rolled back from " + B }]);
    assert.deepEqual(r.ota!.informed, [A]);
  });

  it("ota-blocked-endpoint: the endpoint blocked for 40 min (4 trial windows) right after the update does not roll B back: its health check confirms it", async () => {
    const r = await run("ota-blocked-endpoint");
    const v = runs(r.versions!);
    assert.deepEqual(v.map((x) => x[0]), [A, B], JSON.stringify(v));
    assert.equal(r.ota!.installed, 1);
    assert.equal(r.ota!.rolledBack, 0);
    assert.deepEqual(r.ota!.informed, [A, B], "B reported itself once the endpoint was back");
    assert.ok(r.published >= r.readings - 1, "the readings of the blocked span arrive afterwards");
  });

  it("ota-no-network: B rolled back for lack of Wi-Fi (sensor fine, nothing could be sent) is offered again and installed once the network is back", async () => {
    const r = await run("ota-no-network");
    const v = runs(r.versions!);
    assert.deepEqual(v.map((x) => x[0]), [A, B, A, B], JSON.stringify(v));
    assert.equal(v[1][1], 3, "three trial boots");
    assert.equal(r.ota!.rolledBack, 1);
    assert.deepEqual(r.ota!.failures, [{ step: -1, desc: "rolled back from " + B + " (no network)" }]);
    assert.equal(r.ota!.installed, 2);
    assert.deepEqual(r.ota!.informed, [A, B]);
  });

  it("migration: the HMAC-signed migration build, booted on trial in an HMAC-era layout, adopts the public key and erases ota.key once its health check passes", async () => {
    const pub = "000000010000000600000003" + "3c".repeat(48);
    const out = path.join(dataDir, "mig-build");
    const env = { pub: process.env.OTA_PUB_KEY, v: process.env.FW_VERSION };
    process.env.OTA_PUB_KEY = pub;
    process.env.FW_VERSION = "9.0.0";
    try {
      const b = await build({ signMethods: ["hmacsha1"], outDir: out, log: () => undefined });
      assert.deepEqual(b.errors, []);
    } finally {
      for (const [k, v] of [["OTA_PUB_KEY", env.pub], ["FW_VERSION", env.v]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    // What the HMAC-era firmware leaves after installing the migration release into fw.b: the boot
    // stage (unchanged), the old script in fw.a, a trial boot record, and the HMAC key.
    const flashFile = path.join(dataDir, "flash-mig.json");
    const pre = new Flash(flashFile);
    pre.put(".boot0", fs.readFileSync(path.resolve(__dirname, "../../dist/boot0.js")));
    pre.put("fw.a", Buffer.from("print('HMAC-era firmware');"));
    pre.put("fw.b", fs.readFileSync(path.join(out, "firmware.js")));
    pre.put("ota.m0", Buffer.from(JSON.stringify({ s: 2, c: "fw.b", v: "9.0.0", p: "fw.a", pv: "0.1.0", t: 0, k: 3, w: 600000 })));
    pre.put("ota.key", Buffer.from("ab".repeat(32)));
    const empty = path.join(dataDir, "empty.js");
    fs.writeFileSync(empty, "");
    const s = await startSession({ fast: true, firmwareFile: empty, dataDir, flashFile, keepFlash: true, minutes: 5,
      config: { otaUrl: "https://127.0.0.1:9/ota/manifest.json", otaEveryCycles: 1 } });
    const r = await s.done;
    const fl = s.device.flash;
    assert.ok(r.published >= 3, "the migration build runs and publishes: " + r.published);
    assert.equal(fl.get("ota.pub")?.toString("latin1"), pub, "adopted the public key it carries");
    assert.equal(fl.get("ota.ok")?.toString("latin1"), "9.0.0", "confirmed by its health check");
    assert.equal(fl.get("ota.key"), undefined, "the HMAC key is gone");
  });

  it("ota-power-loss: 50 cuts at random OTA writes (download and switch-over), every boot runs a complete verified release", async () => {
    const r = await run("ota-power-loss");
    assert.equal(r.ota!.powerCuts, 50);
    assert.equal(r.ota!.unverifiedBoots, 0);
    assert.ok(r.reboots >= 50);
    // a cut inside the boot stage's own record write ends that boot before any script runs
    const booted = bootsOf(r.versions!);
    assert.ok(booted <= r.boots && booted >= r.boots - 50, booted + " of " + r.boots);
    // Versions move forward through releases the platform served. A release whose confirmation
    // write is cut at each of its trial boots was never confirmed as far as the flash knows: the
    // boot stage rolls it back to the release that ran before, and the device reports it (-1).
    const v = runs(r.versions!).map((x) => x[0]);
    const order = [A, ...r.ota!.releases];
    let back = 0;
    for (let i = 1; i < v.length; i++) {
      const was = order.indexOf(v[i - 1]);
      const now = order.indexOf(v[i]);
      assert.ok(now >= 0, "a version the platform never served: " + v[i]);
      if (now < was) {
        back++;
        assert.equal(now, was - 1, "a rollback goes to the release that ran before: " + v.join(" "));
      }
    }
    assert.equal(r.ota!.rolledBack, back, "every rollback reported: " + v.join(" "));
    assert.ok(back <= 2, "rollbacks " + back);
    assert.ok(r.ota!.installed >= 5, "installs still complete between cuts: " + r.ota!.installed);
    assert.equal(r.ota!.refused, 0);
  });
});
