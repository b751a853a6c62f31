// `npm run mem` in the test run: dist/ on the real interpreter (ESPRUINO_BIN, the build modelled on
// a stock ESP32), both flash layouts and the paths that build the most, against build/budgets.json
// "ram". Over budget fails here with the run, the figure and the budget, as the size budgets fail
// the build.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { realEngineBins } from "../engines";
import { loadRamBudget, measure, overRamBudget, type MemResult } from "../../emulator/real/mem";

const ENGINE = realEngineBins().espruino;

(ENGINE ? describe : describe.skip)("RAM budget on " + (ENGINE ? path.basename(ENGINE) : "(no engine)") + " (npm run mem)", function () {
  this.timeout(300000);
  let results: MemResult[] = [];

  before(async () => {
    // 0.6 min: the outage run needs two cycles, the first waits out a request timeout
    results = await measure(ENGINE!, 0.6, false, true);
  });

  it("runs every path in both layouts, each with cycles that published", () => {
    const runs = results.map((r) => r.layout + " " + r.run).sort();
    for (const layout of ["plain", "ota"]) for (const run of ["cycles", "deep-sleep", "outage-flush", "reauth-20001", "sensor-fault"]) assert.ok(runs.indexOf(layout + " " + run) >= 0, "no run " + layout + " " + run);
    assert.ok(runs.indexOf("ota ota-download") >= 0, "no OTA update run");
    for (const r of results) {
      assert.ok(r.report.memory.cycles.length >= 2, `${r.layout} ${r.run}: ${r.report.memory.cycles.length} cycles`);
      assert.ok(r.report.memory.peak > r.report.memory.idle, `${r.layout} ${r.run}: no samples`);
      assert.ok(r.report.published >= 1, `${r.layout} ${r.run}: nothing published`);
    }
    // the deep-sleep runs: a power-on cold boot, then a boot from a timer wake
    for (const r of results.filter((x) => x.run === "deep-sleep")) {
      assert.ok(r.report.deepSleeps >= 1 && (r.report.bootsByCause.timer || 0) >= 1, `${r.layout} deep-sleep: ${JSON.stringify(r.report.bootsByCause)}`);
    }
    const ota = results.filter((r) => r.run === "ota-download")[0].report;
    assert.equal(ota.ota!.installed, 1, "the OTA run installed no update: " + JSON.stringify(ota.ota));
  });

  it("stays within build/budgets.json ram (idle, peak, peakOta) with no memory error", () => {
    assert.deepEqual(overRamBudget(results, loadRamBudget()), []);
  });
});

describe("RAM budget check (emulator/real/mem.ts)", () => {
  const report = (idle: number, peak: number, errors: string[] = []) => ({ memory: { idle, peak, total: 4095, cycles: [{ low: idle, high: peak }], errors } }) as unknown as MemResult["report"];
  const budget = { idle: 900, peak: 2000, peakOta: 3000 };

  it("names the run, the figure and the budget; an OTA update run has its own peak budget", () => {
    const over = overRamBudget([
      { layout: "plain", run: "cycles", report: report(250, 2001) },
      { layout: "ota", run: "ota-download", report: report(260, 2999) },
      { layout: "ota", run: "sensor-fault", report: report(901, 1500, ["W 1.0 iot publish failed: net socket Not enough memory to allocate SSL socket"]) },
    ], budget);
    assert.deepEqual(over, [
      "plain cycles: peak 2001 JsVars, budget 2000 (peak)",
      "ota sensor-fault: idle 901 JsVars, budget 900 (idle)",
      "ota sensor-fault: 1 memory errors, first: W 1.0 iot publish failed: net socket Not enough memory to allocate SSL socket",
    ]);
  });

  it("reads the budget from build/budgets.json and refuses one without all three figures", () => {
    const b = loadRamBudget();
    assert.ok(b.idle > 0 && b.peak > 0 && b.peakOta >= b.peak, JSON.stringify(b));
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ram-")), "budgets.json");
    fs.writeFileSync(f, JSON.stringify({ ram: { idle: 900, peak: 2000 } }));
    assert.throws(() => loadRamBudget(f), /no ram \{idle, peak, peakOta\} budget/);
  });
});
