// End to end: the real dist/firmware.js on the emulated device, the real local platform on
// emulated time, real sockets; the report comes from the sensor's frames, the platform's records
// and the runtime's socket counters.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startSession, type SessionOptions } from "../../emulator/runtime/session";
import type { Report } from "../../emulator/runtime/report";
import { loadScenario, scenarioNames } from "../../emulator/scenarios";
import { SHORT_CAP_MS } from "../../firmware/iot/codes";
import { bundleVersion } from "../../emulator/runtime/ota-run";

const FIRMWARE = path.resolve(__dirname, "../../dist/firmware.js");

describe("emulator end to end (dist/firmware.js + local platform)", function () {
  this.timeout(180000);
  // one data folder: the platform's certificate is made once; each run registers its own device
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "emu-e2e-"));
  let n = 0;

  async function run(o: Partial<SessionOptions> & { minutes: number }): Promise<Report> {
    assert.ok(fs.existsSync(FIRMWARE), "dist/firmware.js missing: npm run build");
    const s = await startSession({ fast: true, firmwareFile: FIRMWARE, dataDir, flashFile: path.join(dataDir, "flash-" + n++ + ".json"), ...o });
    return s.done;
  }

  function healthy(r: Report): void {
    assert.equal(r.refused, null);
    assert.equal(r.uncaught, 0, "uncaught errors on the device");
    assert.equal(r.madeUp, 0, "published values the sensor never sent: " + JSON.stringify(r.madeUpSamples));
  }

  it("a simulated day at 60 s: every reading arrives exactly once, values as the climate within 0.1 resolution", async function () {
    const r = await run({ minutes: 1440, intervalSec: 60, climate: { seed: 3, noiseC: 0, noiseRh: 0 } });
    healthy(r);
    assert.ok(r.readings >= 1430 && r.readings <= 1441, "readings " + r.readings);
    assert.equal(r.lost, 0);
    assert.equal(r.duplicates, 0);
    assert.equal(r.resends, 0);
    assert.ok(r.published >= r.readings - 1, `published ${r.published} of ${r.readings}`);
    assert.ok(r.maxValueError <= 0.05, "published vs frame " + r.maxValueError);
    // without noise a frame is the climate rounded to 0.1: half a step at most
    assert.ok(r.maxClimateErrorC <= 0.0501, "published vs climate " + r.maxClimateErrorC);
    assert.equal(r.auths, 1, "the 7-day token is kept across deep sleeps");
    assert.ok(r.tlsHandshakes <= r.readings + 2, "one handshake per reading");
    assert.equal(r.reboots, 0);
    // every deep-sleep wake boots the same script: one entry with the count, not one per boot
    assert.ok(r.boots >= 1400, "boots " + r.boots);
    assert.deepEqual(r.versions, [{ version: bundleVersion(fs.readFileSync(FIRMWARE, "latin1")), boots: r.boots }]);
  });

  it("token expiry inside the run: one re-auth, nothing lost", async function () {
    const r = await run({ minutes: 45, tokenTtlMs: 30 * 60000 });
    healthy(r);
    assert.equal(r.auths, 2);
    const tokenCodes = (r.errorsByCode["20001"] || 0) + (r.errorsByCode["20002"] || 0) + (r.errorsByCode["20003"] || 0);
    assert.ok(tokenCodes <= 1, "at most one publish met the expired token");
    assert.equal(r.lost, 0);
    assert.equal(r.duplicates, 0);
    assert.ok(r.published >= r.readings - 1);
  });

  it("refuses a firmware that uses a Node global", async function () {
    const bad = path.join(dataDir, "bad.js");
    fs.writeFileSync(bad, 'var x = require("Storage").read("iot.json"); console.log(Buffer.from(x).length);');
    const r = await run({ minutes: 2, firmwareFile: bad });
    assert.match(String(r.refused), /Buffer/);
    assert.equal(r.requests, 0);
  });

  describe("fault scenarios", function () {
    const span = (name: string) => {
      const e = loadScenario(name).events[0] as { forMin?: number };
      return e && e.forMin ? e.forMin : 0;
    };
    // OTA scenarios have their own checks (test/emulator/ota.test.ts)
    for (const name of scenarioNames().filter((x) => x !== "normal" && !x.startsWith("ota-"))) {
      it(name, async function () {
        const sc = loadScenario(name);
        const r = await run({ minutes: sc.minutes ?? 60, scenario: sc });
        healthy(r);
        // no retry storm: at most a few requests per minute at any time
        assert.ok(r.peakRequestsPer10Min <= 40, "peak requests per 10 min " + r.peakRequestsPer10Min);
        // what is lost is bounded by the fault's span plus one capped backoff (the RAM queue is
        // small by design); after that everything arrives again
        const tailMin = SHORT_CAP_MS / 60000;
        assert.ok(r.published >= r.readings - span(name) - tailMin - 3, `published ${r.published} of ${r.readings} (span ${span(name)} min)`);
        // the platform never stores a reading twice; resends (at-least-once) only where a reply came too late
        assert.equal(r.duplicates, 0);
        // (about 10 since the backoff survives deep sleep: a wake inside it sends nothing, so fewer posts time out)
        if (name === "slow-responses") assert.ok(r.resends >= 5 && r.resends <= 25, "posts that timed out come back, recognised by the platform: resends " + r.resends);
        else if (!name.startsWith("power-loss")) assert.equal(r.resends, 0);
        const m = /^code-(\d+)$/.exec(name);
        if (m) assert.ok(r.errorsByCode[m[1]] >= 1, "code " + m[1] + " seen: " + JSON.stringify(r.errorsByCode));
        if (name === "network-down") assert.ok(Object.keys(r.errorsByCode).some((k) => k.startsWith("throw: Unable")));
        if (name === "wifi-drop") assert.ok(r.errorsByCode["throw: Not connected to the internet"] >= 1);
        if (name === "tls-failure") assert.ok(r.errorsByCode["-13"] >= 1);
        if (name === "token-expiry") assert.ok(r.auths >= 3);
        if (name.startsWith("power-loss")) assert.equal(r.reboots, 1);
        if (name === "sensor-no-answer") assert.ok(r.sensor.noAnswer > 0);
        if (name === "sensor-bit-flips" || name === "sensor-jitter") assert.ok(r.sensor.corrupted > 0);
      });
    }
  });
});
