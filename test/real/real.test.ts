// dist/ on the real Espruino interpreter (ESPRUINO_BIN: the build modelled on a stock ESP32),
// booted from the Storage image flash.sh would leave, with the simulated DHT22, against the local
// platform over HTTPS (emulator/real/). The runs take real time, so they all start together in
// one hook and the tests read their reports.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { realEngineBins } from "../engines";
import { runReal, type RealReport, type RealOptions } from "../../emulator/real/run";
import { throwawayUpdateKey } from "../../emulator/real/engine";
import { loadScenario, type Scenario } from "../../emulator/scenarios";

const ENGINE = realEngineBins().espruino;

interface Case {
  report?: RealReport;
  error?: Error;
  tokens: string[];
  secret?: string;
}

const LINE = /^[EWID] \d+\.\d{3}( |$)/;

(ENGINE ? describe : describe.skip)("real interpreter: dist/ booted from a Storage image on " + (ENGINE ? path.basename(ENGINE) : "(no engine)"), function () {
  this.timeout(300000);
  const cases: Record<string, Case> = {};
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "real-test-"));
  const updateKey = throwawayUpdateKey(tmp);

  function start(name: string, o: Partial<RealOptions>): Promise<void> {
    const c: Case = { tokens: [] };
    cases[name] = c;
    return runReal({ engine: ENGINE!, layout: "plain", minutes: 0.7, intervalSec: 5, dir: path.join(tmp, name), onToken: (t) => c.tokens.push(t), ...o })
      .then(async (run) => {
        c.secret = run.identity.deviceSecret;
        c.report = await run.done;
      })
      .catch((e: Error) => {
        c.error = e;
      });
  }

  function get(name: string): RealReport {
    const c = cases[name];
    if (c.error) throw c.error;
    return c.report!;
  }

  before(async function () {
    const resend: Scenario = { name: "resend-20001", description: "one publish answered 20001", minutes: 0.8, events: [{ fault: "platformCode", atMin: 0.3, code: 20001, count: 1 }] };
    await Promise.all([
      start("plain", { layout: "plain" }),
      start("ota", { layout: "ota", updateKey }),
      start("resend-plain", { layout: "plain", scenario: resend, minutes: 0.8 }),
      start("resend-ota", { layout: "ota", updateKey, scenario: resend, minutes: 0.8 }),
      start("writejson", {
        layout: "plain",
        // what a person types on the console: Espruino's writeJSON writes unquoted keys
        imageExtra: (id) =>
          `require("Storage").writeJSON("iot.json",${JSON.stringify({ productKey: id.productKey, deviceName: id.deviceName, deviceSecret: id.deviceSecret, endpoint: id.endpoint, intervalSec: 5 })});`,
      }),
      start("powercut", { layout: "plain", minutes: 1.2, powerCuts: 3, seed: 7 }),
      // OTA in the OTA layout: releases of this bundle signed with the rig's LMS key
      start("ota-good", { scenario: loadScenario("ota-good"), minutes: 1.2 }),
      start("ota-tampered", { scenario: { ...loadScenario("ota-tampered"), minutes: 2, ota: { image: "good", phases: [{ atMin: 0, fault: "tamper" }, { atMin: 1, fault: "none" }] } }, minutes: 1.5 }),
      start("ota-bad-boot", { scenario: loadScenario("ota-bad-boot"), minutes: 1.5 }),
    ]);
  });

  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  for (const layout of ["plain", "ota"]) {
    it(`${layout} layout: boots, authenticates and publishes the sensor's values`, () => {
      const r = get(layout);
      assert.equal(r.refused, null);
      assert.ok(r.auths >= 1, "no /auth reached the platform");
      assert.ok(r.readings >= 5, `only ${r.readings} readings in ${r.minutes} min`);
      assert.ok(r.published >= r.readings - 2, `published ${r.published} of ${r.readings}`);
      assert.equal(r.madeUp, 0, "made up: " + JSON.stringify(r.madeUpSamples));
      assert.equal(r.duplicates, 0);
      assert.ok(r.maxValueError <= 0.05, "published values differ from the frames by " + r.maxValueError);
      assert.deepEqual(
        r.memory.errors.filter((l) => /OUT OF MEMORY|LOW_MEMORY/.test(l)),
        [],
        "the interpreter ran out of memory",
      );
    });
  }

  it("log lines keep their text, with the secret and the token masked", () => {
    const r = get("plain");
    const lines = r.console.filter((l) => LINE.test(l));
    const readings = lines.filter((l) => / reading /.test(l));
    assert.ok(readings.length >= 5, "reading lines: " + JSON.stringify(lines.slice(0, 8)));
    for (const l of readings) assert.match(l, /^I \d+\.\d{3} reading -?\d+\.\d C \d+\.\d %RH$/);
    assert.ok(lines.some((l) => / iot: authenticated$/.test(l)), "no 'iot: authenticated' line");
    for (const l of lines) assert.doesNotMatch(l, /^[EWID] \d+\.\d{3}$/, "an empty log line");
    const c = cases.plain;
    assert.ok(c.tokens.length >= 1);
    const all = r.console.join("\n");
    for (const t of c.tokens) assert.ok(!all.includes(t), "a token in the console");
  });

  it("the device secret never reaches the console", () => {
    for (const name of Object.keys(cases)) {
      const c = cases[name];
      if (!c.report) continue;
      assert.ok(c.secret && c.secret.length >= 16);
      assert.ok(!c.report.console.join("\n").includes(c.secret!), name + ": the secret is in the console");
    }
  });

  for (const layout of ["plain", "ota"]) {
    it(`${layout} layout: a 20001 is answered by a new /auth and the same post again, byte for byte`, () => {
      const r = get("resend-" + layout);
      assert.ok(r.errorsByCode["20001"] >= 1, "no 20001 was answered: " + JSON.stringify(r.errorsByCode));
      assert.ok(r.auths >= 2, "no re-auth after 20001");
      const refused = r.posts.filter((m) => m.code === 20001);
      assert.ok(refused.length >= 1, "the platform kept no record of the refused post");
      for (const m of refused) assert.ok(r.posts.some((a) => a.code === 0 && a.payload === m.payload && a.topic === m.topic), "no byte-identical resend of " + m.payload);
      assert.equal(r.madeUp, 0, "made up: " + JSON.stringify(r.madeUpSamples));
      assert.equal(r.duplicates, 0);
    });
  }

  it("a config written on the console with Storage.writeJSON is accepted", () => {
    const r = get("writejson");
    assert.equal(r.refused, null, "refused: " + r.refused);
    assert.ok(!r.console.some((l) => /iot\.json/.test(l) && /^E /.test(l)), r.console.filter((l) => /^E /.test(l)).join("; "));
    assert.ok(r.published >= 3, "published " + r.published);
  });

  it("power cut at random instants: every stored reading is delivered once, none made up", () => {
    const r = get("powercut");
    assert.equal(r.bootsByCause.power, 4, "3 cuts and the first power-on: " + JSON.stringify(r.bootsByCause));
    assert.equal(r.madeUp, 0, "made up: " + JSON.stringify(r.madeUpSamples));
    assert.equal(r.duplicates, 0);
    // a cut can take the reading being written; nothing older
    assert.ok(r.lost <= 3, `lost ${r.lost}`);
    assert.ok(r.published >= r.readings - 3 - r.pending, `published ${r.published} of ${r.readings} (pending ${r.pending})`);
  });

  function noMemoryError(r: RealReport): void {
    assert.deepEqual(r.memory.errors, [], "memory errors on the real interpreter");
  }

  it("OTA good: downloads, verifies, installs and runs the release (its health check confirms it)", () => {
    const r = get("ota-good");
    assert.equal(r.layout, "ota");
    assert.equal(r.ota!.installed, 1, JSON.stringify(r.ota));
    assert.equal(r.ota!.refused + r.ota!.rolledBack, 0, JSON.stringify(r.ota));
    assert.deepEqual(r.ota!.informed, [r.ota!.releases[0].replace(/\d+$/, (n) => String(Number(n) - 1)), r.ota!.releases[0]]);
    assert.deepEqual(r.versions!.map((v) => v.version), r.ota!.informed, "the boots ran A, then B");
    assert.ok(r.console.some((l) => / confirmed by its health check$/.test(l)));
    assert.equal(r.madeUp, 0, "made up: " + JSON.stringify(r.madeUpSamples));
    noMemoryError(r);
  });

  it("OTA tampered: a changed image byte is refused by its SHA-256 and never runs; served right, it installs", () => {
    const r = get("ota-tampered");
    assert.ok(r.ota!.refused >= 1, JSON.stringify(r.ota));
    // refused by its hash; in real time a chunk may also time out (-2), which is retried
    assert.ok(r.ota!.failures.some((f) => f.step === -3 && f.desc === "sha256 mismatch"), JSON.stringify(r.ota!.failures));
    for (const f of r.ota!.failures) assert.ok((f.step === -3 && f.desc === "sha256 mismatch") || f.step === -2, JSON.stringify(f));
    assert.equal(r.ota!.installed, 1, JSON.stringify(r.ota));
    const b = r.ota!.releases[0];
    // no boot ran B before the last refusal was reported
    assert.equal(r.versions![0].version !== b, true);
    assert.equal(r.madeUp, 0, "made up: " + JSON.stringify(r.madeUpSamples));
    noMemoryError(r);
  });

  it("OTA bad boot: a release that throws at boot is rolled back to the running version, reported as such", () => {
    const r = get("ota-bad-boot");
    assert.equal(r.ota!.installed, 1, JSON.stringify(r.ota));
    assert.equal(r.ota!.rolledBack, 1, JSON.stringify(r.ota));
    assert.ok(r.console.some((l) => /^boot0: fw\.[ab] threw$/.test(l)), "the boot stage saw the throw");
    const a = r.ota!.informed[0];
    assert.deepEqual(r.versions!.map((v) => v.version), [a], "every boot that got as far as its boot line ran A");
    assert.ok(r.published >= r.readings - 3, `published ${r.published} of ${r.readings}`);
    noMemoryError(r);
  });
});

if (!ENGINE) describe("real interpreter", () => it.skip("no engine: set ESPRUINO_BIN to an Espruino host build (README: Real interpreter)"));
