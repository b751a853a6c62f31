// The rollback boot stage as built (platform/espruino/boot0.ts bundled for the Espruino subset),
// run in a vm context with a fake Storage: a B that throws at boot is rolled back to A within K
// boots, and A reports it.
import { strict as assert } from "node:assert";
import * as path from "node:path";
import * as vm from "node:vm";
import * as fs from "node:fs";

import { readBootRecord } from "../../firmware/ota-slots";
import { FlashStore, UpdateHost, Publisher, fakeHal, otaFor, KEY, MANIFEST_URL } from "./fakes";

const ROOT = path.resolve(__dirname, "../..");

/** dist/boot0.js as `npm run build` made it (the slot is evaluated after the wrapper: build.ts footer). */
async function bundleBoot0(): Promise<string> {
  return fs.readFileSync(path.join(ROOT, "dist", "boot0.js"), "utf8");
}

interface BootRun { ran: string[]; rebooted: boolean; timers: { fn: () => void; ms: number }[]; logs: string[] }

/** One power-on: runs the boot stage the way Espruino runs `.boot0`, with Storage over `store`. */
function powerOn(code: string, store: FlashStore): BootRun {
  const run: BootRun = { ran: [], rebooted: false, timers: [], logs: [] };
  const storage = { read: (n: string) => store.read(n), write: (n: string, d: string) => store.write(n, d) };
  const ctx = vm.createContext({
    ran: run.ran,
    require: (name: string) => {
      if (name !== "Storage") throw new Error("no module " + name);
      return storage;
    },
    E: { reboot: () => { run.rebooted = true; } },
    setTimeout: (fn: () => void, ms: number) => run.timers.push({ fn, ms }),
    console: { log: (m: string) => run.logs.push(m) },
  });
  try {
    vm.runInContext(code, ctx);
  } catch (e) {
    // an uncaught error ends the boot file on Espruino too; its timers stay
    run.logs.push("Uncaught " + String(e));
  }
  // the interpreter runs due timers right after the boot files: the 0 ms check that a slot returned
  const due = run.timers.filter((t) => t.ms === 0);
  run.timers = run.timers.filter((t) => t.ms !== 0);
  for (const t of due) t.fn();
  return run;
}

const A = "ran.push('A');";
const B_THROWS = "ran.push('B'); null.x;";

describe("ota: boot stage (dist/boot0.js)", function () {
  this.timeout(20000);
  let code = "";
  before(async () => {
    code = await bundleBoot0();
  });

  it("is small", () => {
    assert.ok(code.length < 1500, `${code.length} bytes`);
  });

  it("boots fw.a in the factory state and nothing (leaving .bootcde) without slots", () => {
    assert.deepEqual(powerOn(code, new FlashStore({ "fw.a": A })).ran, ["A"]);
    assert.deepEqual(powerOn(code, new FlashStore({})).ran, []);
  });

  it("rolls a B that throws at boot back to A within K boots; A reports it and skips B", () => {
    const K = 3;
    const store = new FlashStore({
      ".boot0": code, "fw.a": A, "fw.b": B_THROWS, "ota.pub": KEY.pub, "ota.ok": "1.0.0",
      "ota.m1": JSON.stringify({ s: 1, c: "fw.a", v: "1.0.0" }),
      "ota.m0": JSON.stringify({ s: 2, c: "fw.b", v: "1.1.0", p: "fw.a", pv: "1.0.0", t: 0, k: K, w: 600000 }),
    });
    const order: string[] = [];
    let boots = 0;
    for (;;) {
      const r = powerOn(code, store);
      boots++;
      order.push(...r.ran);
      if (!r.rebooted) break;
      assert.ok(boots <= K + 1, "reboot loop");
    }
    assert.deepEqual(order, ["B", "B", "B", "A"], "B tried K times, then A");
    assert.deepEqual(readBootRecord(store), { s: 6, c: "fw.a", v: "1.0.0" });
    assert.equal(store.files["ota.rb"], '{"v":"1.1.0"}');

    // A's first publish reports the rollback (step -1) and does not download B again.
    const host = new UpdateHost();
    host.publish("1.1.0", "ran.push('B');");
    const pub = new Publisher();
    let outcome = "";
    otaFor(fakeHal(store, host).hal, { productKey: "pk1", deviceName: "dev1", manifestUrl: MANIFEST_URL, version: "1.0.0", everyCycles: 1 }, pub)
      .afterPublish(0, (o) => { outcome = o; });
    assert.deepEqual(pub.steps(), [{ step: "-1", desc: "rolled back from 1.1.0" }]);
    assert.equal(outcome, "current");
    assert.equal(JSON.parse(store.files["ota.rb"]).r, 1, "reported once");
  });

  it("reboots a trial that runs but never marks success; leaves it alone once marked", () => {
    const store = new FlashStore({
      "fw.a": A, "fw.b": "ran.push('B');",
      "ota.m0": JSON.stringify({ s: 2, c: "fw.b", v: "1.1.0", p: "fw.a", pv: "1.0.0", t: 0, k: 3, w: 5000 }),
    });
    let r = powerOn(code, store);
    assert.deepEqual(r.ran, ["B"]);
    assert.equal(r.timers.length, 1);
    assert.equal(r.timers[0].ms, 5000);
    r.timers[0].fn();
    assert.equal(r.rebooted, true, "no success mark: reboot (one more trial boot)");
    r = powerOn(code, store);
    store.write("ota.ok", "1.1.0");
    r.timers[0].fn();
    assert.equal(r.rebooted, false);
    r = powerOn(code, store);
    assert.deepEqual(r.ran, ["B"]);
    assert.equal(r.timers.length, 0, "confirmed: no trial timer");
    assert.equal(readBootRecord(store)?.t, undefined);
  });
});

describe("boot stage: the slot runs at the top level of .boot0", () => {
  it("the eval of the slot and the trial's timers are outside every function, and the globals boot0 adds are not ones the firmware uses", async () => {
    const acorn = await import("acorn");
    const walk = await import("acorn-walk");
    const b0 = acorn.parse(fs.readFileSync(path.join(ROOT, "dist/boot0.js"), "utf8"), { ecmaVersion: "latest" });
    // On espruino-esp32-model the firmware evaluated inside a function (boot0's wrapper) ran out of
    // memory at boot; at the top level it fits.
    let evals = 0;
    walk.ancestor(b0, {
      CallExpression(n, _s, anc) {
        const c = (n as unknown as { callee: { type: string; name?: string; expressions?: { name?: string }[] } }).callee;
        const isEval = (c.type === "Identifier" && c.name === "eval") || (c.type === "SequenceExpression" && (c.expressions || []).some((x) => x.name === "eval"));
        if (!isEval) return;
        evals++;
        assert.ok(!anc.some((a) => /Function/.test(a.type)), "the slot's eval is inside a function");
      },
    });
    assert.equal(evals, 1);
    const globals: string[] = [];
    for (const st of (b0 as unknown as { body: { type: string; declarations?: { id: { name: string } }[] }[] }).body)
      if (st.type === "VariableDeclaration") for (const d of st.declarations || []) globals.push(d.id.name);
    assert.deepEqual(globals, ["BOOT0_SLOT", "BOOT0_TRIAL"]);
    const fw = fs.readFileSync(path.join(ROOT, "dist/firmware.js"), "utf8");
    assert.ok(!/\bBOOT0_SLOT\b/.test(fw), "the firmware uses BOOT0_SLOT");
    assert.ok(!/\bBOOT0_TRIAL\b/.test(fw), "the firmware uses BOOT0_TRIAL");
    // A trial's timers live for the boot: made inside the wrapper, their closures would keep every
    // function and value of it in RAM as long (about 70 JsVars on espruino-esp32-model).
    let timers = 0;
    walk.ancestor(b0, {
      CallExpression(n, _s, anc) {
        const c = (n as unknown as { callee: { type: string; name?: string } }).callee;
        if (c.type !== "Identifier" || c.name !== "setTimeout") return;
        timers++;
        assert.ok(!anc.some((a) => /Function/.test(a.type)), "a trial timer is made inside a function");
      },
    });
    assert.equal(timers, 2);
  });
});
