// IotCore.decodeDht22 from the built dist/core.js, in a bare vm context and in QuickJS.
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import vm from "node:vm";
import { getQuickJS } from "quickjs-emscripten";
import { dht22Bytes, dht22HighUs, seededRng } from "../../emulator/sensor/wave";
import { loadCoreInProcess, realEngineBins } from "../engines";

const CORE = join(__dirname, "..", "..", "dist", "core.js");

/** Calls in one script, answers out as JSON text: the same text in every engine. */
function script(): string {
  const calls = [
    dht22HighUs([0x02, 0x8c, 0x01, 0x5f, 0xee]),
    dht22HighUs(dht22Bytes(-10.1, 0), { jitterUs: 15, rng: seededRng(5) }).slice(1).concat([3000]),
    dht22HighUs(dht22Bytes(80, 100), { releaseUs: 30 }),
    [],
    dht22HighUs(dht22Bytes(20, 50)).slice(0, 30),
    dht22HighUs([0x02, 0x8c, 0x01, 0x5f, 0xef]),
  ];
  return `JSON.stringify(${JSON.stringify(calls)}.map(function (h) { return IotCore.decodeDht22(h); }))`;
}

const WANT = [
  { ok: true, temperature: 35.1, humidity: 65.2 },
  { ok: true, temperature: -10.1, humidity: 0 },
  { ok: true, temperature: 80, humidity: 100 },
  { ok: false, error: "timeout" },
  { ok: false, error: "short" },
  { ok: false, error: "checksum" },
];

describe("IotCore.decodeDht22 in other engines (dist/core.js, built by npm run build)", () => {
  it("runs in a bare vm context", () => {
    const ctx = vm.createContext({});
    vm.runInContext(readFileSync(CORE, "utf8"), ctx);
    assert.deepEqual(JSON.parse(vm.runInContext(script(), ctx)), WANT);
  });

  it("runs in QuickJS", async () => {
    const qjs = (await getQuickJS()).newContext();
    try {
      qjs.unwrapResult(qjs.evalCode(readFileSync(CORE, "utf8"))).dispose();
      const h = qjs.unwrapResult(qjs.evalCode(script()));
      const text = qjs.getString(h);
      h.dispose();
      assert.deepEqual(JSON.parse(text), WANT);
    } finally {
      qjs.dispose();
    }
  });

  const bins = realEngineBins();
  for (const [kind, bin] of [["espruino", bins.espruino], ["jerryscript", bins.jerryscript]] as const) {
    (bin ? it : it.skip)(`runs on the real ${kind} interpreter` + (bin ? "" : " (no engine: set ESPRUINO_BIN)"), function () {
      this.timeout(60000);
      const core = loadCoreInProcess(bin!, kind);
      try {
        assert.deepEqual(JSON.parse(core.evaluate(script()) as string), WANT);
      } finally {
        core.dispose();
      }
    });
  }
});
