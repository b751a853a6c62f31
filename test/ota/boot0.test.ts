// The rollback boot stage as built (platform/espruino/boot0.ts bundled for the Espruino subset),
// run in a vm context with a fake Storage: a B that throws at boot is rolled back to A within K
// boots, and A reports it.
import { strict as assert } from "node:assert";
import * as path from "node:path";
import * as vm from "node:vm";
import * as esbuild from "esbuild";
import { deviceBase } from "../../build/esbuild-options";
import { createOta } from "../../firmware/ota";
import { readBootRecord } from "../../firmware/ota-slots";
import { FlashStore, UpdateHost, Publisher, fakeHal, KEY, MANIFEST_URL } from "./fakes";

const ROOT = path.resolve(__dirname, "../..");

async function bundleBoot0(): Promise<string> {
  const r = await esbuild.build(Object.assign({}, deviceBase, {
    absWorkingDir: ROOT, entryPoints: ["platform/espruino/boot0.ts"], write: false, outfile: "boot0.js",
    format: "cjs", banner: { js: "(()=>{" }, footer: { js: "})();" }, external: ["Storage"], metafile: false, logLevel: "silent",
  }) as esbuild.BuildOptions & { write: false });
  return r.outputFiles[0].text;
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
  vm.runInContext(code, ctx);
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
    createOta(fakeHal(store, host).hal, { productKey: "pk1", deviceName: "dev1", manifestUrl: MANIFEST_URL, version: "1.0.0", everyCycles: 1 }, pub)
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

describe("boot stage scope: Espruino's indirect eval runs the slot in boot0's IIFE scope", () => {
  it("no name boot0 declares at its top level shadows a global that dist/firmware.js uses", async () => {
    const acorn = await import("acorn");
    const fs = await import("node:fs");
    const b0 = acorn.parse(fs.readFileSync(path.join(ROOT, "dist/boot0.js"), "utf8"), { ecmaVersion: "latest" }) as unknown as { body: { expression: { callee: { body: { body: Node[] } } } }[] };
    type Node = { type: string; id?: { type: string; name: string }; declarations?: { id: { type: string; name: string } }[] };
    const own = new Set<string>();
    for (const st of b0.body[0].expression.callee.body.body) {
      if (st.type === "FunctionDeclaration" && st.id) own.add(st.id.name);
      for (const d of st.declarations || []) if (d.id.type === "Identifier") own.add(d.id.name);
    }
    assert.ok(own.size > 0, "boot0's IIFE declares its helpers");
    // the firmware's free names: identifiers it uses but never declares (Espruino globals)
    const fw = acorn.parse(fs.readFileSync(path.join(ROOT, "dist/firmware.js"), "utf8"), { ecmaVersion: "latest" });
    const declared = new Set<string>();
    const used = new Set<string>();
    const walk = (n: Record<string, unknown> | null, parent: Record<string, unknown> | null): void => {
      if (!n || typeof n.type !== "string") return;
      if (n.type === "Identifier") {
        const member = parent && parent.type === "MemberExpression" && parent.property === n && !parent.computed;
        const key = parent && parent.type === "Property" && parent.key === n && !parent.computed;
        if (!member && !key) used.add(n.name as string);
      }
      const id = n.id as { type: string; name: string } | undefined;
      if (id && id.type === "Identifier") declared.add(id.name);
      for (const p of (n.params as { type: string; name: string }[]) || []) if (p.type === "Identifier") declared.add(p.name);
      const param = n.param as { type: string; name: string } | undefined;
      if (param && param.type === "Identifier") declared.add(param.name);
      for (const k of Object.keys(n)) {
        const v = n[k];
        if (Array.isArray(v)) for (const c of v) walk(c as Record<string, unknown>, n);
        else if (v && typeof (v as { type?: unknown }).type === "string") walk(v as Record<string, unknown>, n);
      }
    };
    walk(fw as unknown as Record<string, unknown>, null);
    const free = [...used].filter((u) => !declared.has(u));
    assert.ok(free.includes("require") && free.includes("E"), free.join(" "));
    assert.deepEqual(free.filter((f) => own.has(f)), [], "boot0 names " + [...own].join(" ") + " vs firmware globals " + free.join(" "));
  });
});
