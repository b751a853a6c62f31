// dist/firmware.js on the emulated device with Espruino's quirks: what the board's console shows.
// The quirks are what made the board's log lines empty; this run would have caught it.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { bench } from "../../emulator/runtime/harness";

const FIRMWARE = path.resolve(__dirname, "../../dist/firmware.js");

describe("dist/firmware.js on the emulated quirks", function () {
  this.timeout(60000);

  it("prints whole log lines (Espruino's split blanked every line 2+ chars shorter than a secret: a real one is 32 chars)", async function () {
    assert.ok(fs.existsSync(FIRMWARE), "dist/firmware.js missing: npm run build");
    const b = bench(fs.readFileSync(FIRMWARE, "latin1"));
    // written the way a person does it on the console: Storage.writeJSON's bare keys
    b.flash.put("iot.json", '{productKey:"a1pkQuirk",deviceName:"quirk-1",deviceSecret:"Sx9fLq2ZtR7wPq0dVn4KcT3uYb8mHe1a",endpoint:"http://127.0.0.1:9",deepSleep:false,intervalSec:60}');
    await b.run(5 * 60000);
    b.device.shutdown();
    const log = b.lines.filter((l) => /^[EWID] \d+\.\d{3}/.test(l));
    assert.ok(log.some((l) => /^I \d+\.\d{3} boot: a1pkQuirk\/quirk-1 /.test(l)), b.lines.join("\n"));
    assert.ok(log.some((l) => /^I \d+\.\d{3} reading -?\d+\.\d C \d+\.\d %RH$/.test(l)), b.lines.join("\n"));
    assert.deepEqual(log.filter((l) => /^[EWID] \d+\.\d{3} ?$/.test(l)), [], "empty log lines");
    assert.ok(!b.lines.some((l) => l.includes("Sx9fLq2ZtR7wPq0dVn4KcT3uYb8mHe1a")), "the secret was printed");
    assert.equal(b.device.telnetMode, "off", "no console key: Telnet off");
  });
});
