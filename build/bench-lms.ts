// `npm run bench:lms`: the OTA signature check (IotCore.hssVerify of dist/core.js) on the real
// interpreter (espruino-esp32-model), per LM-OTS Winternitz width: verify time with the firmware's
// SHA-256 in JavaScript and with the interpreter's native one (require("crypto").SHA256, what the
// device uses), the peak of live JsVars during the verify (sampled with a garbage collection at
// every hash call), and the JsVars the signature itself takes as a string in RAM.
// Env: OTS=1,2,3,4 (LM-OTS types), LMS_TYPE=5 (H5; 6 = H10), JS=1 also times the JavaScript hash.
import * as fs from "node:fs";
import * as path from "node:path";
import { generateLmsKey, hssPublicKey, hssSignAt, lmsTree, LMS_H, OTS_W } from "./lms";
import { espruinoModelBin, flashWith, runModel } from "../test/helpers/espruino-model";

const CORE = path.resolve(__dirname, "..", "dist", "core.js");

/**
 * The script run from RAM: core from Storage (flash, as on a board), inputs copied into RAM.
 * `sample`: every hash call first collects garbage and records the JsVars in use, so the peak of
 * live JsVars during the verify is known (slower; the time is then not reported).
 */
export function verifyScript(native: boolean, sample: boolean): string {
  const hash = native ? 'E.toString(require("crypto").SHA256(s))' : "IotCore.sha256(s)";
  return `eval(require("Storage").read("core.js"));
var S=require("Storage");
function ram(n){var f=S.read(n),s="";for(var i=0;i<f.length;i+=64)s+=f.substr(i,64);return s;}
var pub=ram("pub"),msg=ram("msg");
var u0=process.memory().usage;
var sig=ram("sig");
var u1=process.memory().usage;
var peak=u1;
function h(s){${sample ? "var u=process.memory().usage;if(u>peak)peak=u;" : ""}return ${hash};}
var t=getTime();var ok=IotCore.hssVerify(pub,msg,sig,h);var ms=(getTime()-t)*1000;
print("RESULT "+ok+" "+Math.round(ms)+" "+(u1-u0)+" "+(peak-u1));
`;
}

export interface VerifyRun {
  ok: boolean;
  ms: number;
  /** JsVars of the signature string in RAM. */
  sigVars: number;
  /** Peak live JsVars during the verify above the inputs (sampling runs only). */
  peakVars: number;
}

export function parseRun(lines: string[]): VerifyRun | null {
  const l = lines.find((x) => x.startsWith("RESULT "));
  if (!l) return null;
  const p = l.split(" ");
  return { ok: p[1] === "true", ms: Number(p[2]), sigVars: Number(p[3]), peakVars: Number(p[4]) };
}

async function main(): Promise<void> {
  const bin = espruinoModelBin();
  if (!bin) throw new Error("no espruino-esp32-model (../shared/engines/ or $ESPRUINO_BIN)");
  if (!fs.existsSync(CORE)) throw new Error("dist/core.js missing: npm run build");
  const core = fs.readFileSync(CORE);
  const lmsType = Number(process.env.LMS_TYPE || 5);
  const msg = "ota2\n1.2.3\n7\n35000\n" + "ab".repeat(32);
  console.log(`| LM-OTS | tree | signature bytes | verify ms, native SHA-256 | verify ms, JS SHA-256 | signature in RAM (JsVars) | peak live JsVars above the inputs (native) |`);
  console.log(`|---|---|---:|---:|---:|---:|---:|`);
  for (const ots of (process.env.OTS || "1,2,3,4").split(",").map(Number)) {
    const k = generateLmsKey(lmsType, ots);
    const nodes = lmsTree(k);
    const pub = hssPublicKey(k, nodes);
    const sig = hssSignAt(k, 5, Buffer.from(msg, "latin1"), undefined, nodes);
    const dir = flashWith(bin, { "core.js": core, pub, msg, sig });
    try {
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const r = parseRun(runModel(bin, dir, verifyScript(true, false)));
        if (!r || !r.ok) throw new Error("verify failed on the interpreter");
        times.push(r.ms);
      }
      times.sort((a, b) => a - b);
      const m = parseRun(runModel(bin, dir, verifyScript(true, true), 600000));
      if (!m || !m.ok) throw new Error("verify (sampling) failed on the interpreter");
      let js = "-";
      if (process.env.JS) {
        const r = parseRun(runModel(bin, dir, verifyScript(false, false), 900000));
        if (!r || !r.ok) throw new Error("verify with the JavaScript hash failed on the interpreter");
        js = String(r.ms);
      }
      console.log(`| W${OTS_W[ots]} | H${LMS_H[lmsType]} | ${sig.length} | ${times[1]} | ${js} | ${m.sigVars} | ${m.peakVars} |`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

if (require.main === module) {
  main().catch((e) => {
    console.error("bench:lms: " + (e as Error).message);
    process.exit(1);
  });
}
