// The OTA signature check of dist/core.js on the real interpreters: espruino-esp32-model (a stock
// ESP32's 4,095 JsVars and 8-bit strings; the core runs from Storage as flashed code does, the
// hash is the board's native require("crypto").SHA256 as in the firmware) and JerryScript (the
// core's own SHA-256). Each part skips with one line when its binary is not on this machine.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CORE_JS, jerryscriptBin } from "../engines";
import { espruinoModelBin, flashWith, runModel } from "../helpers/espruino-model";
import { verifyScript, parseRun } from "../../build/bench-lms";
import { generateLmsKey, hssPublicKey, hssSignAt, lmsTree } from "../../build/lms";
import { RFC8554_VECTORS } from "./lms-vectors";

const JERRY = jerryscriptBin(espruinoModelBin() || null) || "";

interface Case { name: string; pub: Buffer; msg: string; sig: Buffer }

const hexCases: Case[] = RFC8554_VECTORS.map((v) => ({ name: v.name, pub: Buffer.from(v.pub, "hex"), msg: v.msg, sig: Buffer.from(v.sig, "hex") }));

/** What the release tool makes by default (LM-OTS W4), on a small tree: the same verify work. */
function releaseLike(): Case {
  const k = generateLmsKey(5, 3);
  const nodes = lmsTree(k);
  const msg = "ota2\n1.2.3\n7\n35000\n" + "ab".repeat(32);
  return { name: "a release signature (H5 / W4)", pub: hssPublicKey(k, nodes), msg, sig: hssSignAt(k, 9, Buffer.from(msg, "latin1"), undefined, nodes) };
}

function tamper(b: Buffer, i: number): Buffer {
  const t = Buffer.from(b);
  t[i] ^= 1;
  return t;
}

describe("OTA verify on espruino-esp32-model (dist/core.js from Storage, native SHA-256)", function () {
  this.timeout(180000);
  const bin = espruinoModelBin();
  before(function () {
    if (!bin) {
      console.log("      skipped: no espruino-esp32-model (../shared/engines/ or $ESPRUINO_BIN)");
      this.skip();
    }
    assert.ok(fs.existsSync(CORE_JS), "dist/core.js missing: npm run build");
  });

  function verify(c: Case, sample = false) {
    const dir = flashWith(bin, { "core.js": fs.readFileSync(CORE_JS), pub: c.pub, msg: c.msg, sig: c.sig });
    try {
      const lines = runModel(bin, dir, verifyScript(true, sample));
      const r = parseRun(lines);
      assert.ok(r, "no result from the interpreter:\n" + lines.join("\n"));
      return r;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  for (const c of hexCases) {
    it(`${c.name}: valid, and refused with one changed byte`, () => {
      assert.equal(verify(c).ok, true);
      assert.equal(verify({ ...c, sig: tamper(c.sig, 700) }).ok, false);
    });
  }

  it("a release signature (W4): valid, refused when tampered, and within the RAM budget (live JsVars sampled at every hash)", () => {
    const c = releaseLike();
    const r = verify(c, true);
    assert.equal(r.ok, true);
    assert.equal(verify({ ...c, msg: c.msg.replace("1.2.3", "1.2.4") }).ok, false);
    // The signature string (~2.4 KB) plus the verify's own peak: well inside the 2,000-JsVar
    // peak budget that the rest of an OTA check shares (BENCHMARKS.md has the figures).
    assert.ok(r.sigVars > 0 && r.sigVars < 250, "signature in RAM: " + r.sigVars + " JsVars");
    assert.ok(r.peakVars > 0 && r.peakVars < 400, "verify peak above its inputs: " + r.peakVars + " JsVars");
  });

  it("the core's SHA-256 gives the native one's digests", () => {
    const dir = flashWith(bin, { "core.js": fs.readFileSync(CORE_JS) });
    try {
      const lines = runModel(bin, dir, `eval(require("Storage").read("core.js"));
var c=require("crypto"),m=["","abc","a".repeat(55),"a".repeat(56),"b".repeat(64),"c".repeat(200)],bad=0;
for(var i=0;i<m.length;i++)if(IotCore.sha256(m[i])!==E.toString(c.SHA256(m[i])))bad++;
print("SAME "+(bad===0)+" "+IotCore.toHex(IotCore.sha256("abc")));
`);
      assert.ok(lines.includes("SAME true ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), lines.join("\n"));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("OTA verify on JerryScript (dist/core.js, the core's own SHA-256)", function () {
  this.timeout(180000);
  before(function () {
    if (!fs.existsSync(JERRY)) {
      console.log("      skipped: no jerryscript (../shared/engines/ or $JERRY_BIN)");
      this.skip();
    }
  });

  it("RFC 8554 Test Case 2 and a release signature verify; tampered ones do not", () => {
    const cases = [hexCases[1], releaseLike()];
    let script = fs.readFileSync(CORE_JS, "utf8") + "\n";
    script += "function b(h){var s='';for(var i=0;i<h.length;i+=2)s+=String.fromCharCode(parseInt(h.substr(i,2),16));return s}\n";
    for (const c of cases) {
      for (const sig of [c.sig, tamper(c.sig, 300)]) {
        script += `print("R "+IotCore.hssVerify(b(${JSON.stringify(c.pub.toString("hex"))}),${JSON.stringify(c.msg)},b(${JSON.stringify(sig.toString("hex"))}),IotCore.sha256));\n`;
      }
    }
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "jerry-")), "t.js");
    fs.writeFileSync(file, script);
    const r = spawnSync(JERRY, [file], { encoding: "utf8", timeout: 170000 });
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
    const results = (r.stdout || "").split(/\r?\n/).filter((l) => l.startsWith("R ")).map((l) => l.slice(2));
    assert.deepEqual(results, ["true", "false", "true", "false"], (r.stdout || "") + (r.stderr || ""));
  });
});
