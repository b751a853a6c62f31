// `npm run build`: bundles dist/firmware.js and dist/core.js for the Espruino subset, runs the
// portability gate on both, prints the size report and fails when a budget is exceeded.
import * as esbuild from "esbuild";
import * as fs from "node:fs";
import * as path from "node:path";
import { Command } from "commander";
import { deviceBase } from "./esbuild-options";
import { gateSource, formatGateError } from "./gate";
import { sizeReport, formatReport, overBudget, SizeReport, Budget } from "./sizes";
import { breakLines, MAX_LINE } from "./lines";
import { lazyPlugin } from "./lazy";
import { OK_MARK } from "../firmware/ota-slots";

export const SIGN_METHODS = ["hmacsha1", "hmacmd5", "hmacsha256"];
const ROOT = path.resolve(__dirname, "..");
/** Espruino's built-in modules: `require("Storage")` etc. stay calls into the interpreter. */
export const ESPRUINO_MODULES = ["Storage", "http", "Wifi", "net", "tls", "dgram", "Flash", "ESP32", "crypto", "heatshrink", "neopixel", "Espruino"];

export interface BuildOptions {
  /** Signmethods built into dist/firmware.js (dist/core.js always has all three). */
  signMethods: string[];
  /** Output folder, default <root>/dist. */
  outDir?: string;
  /** Entry of dist/firmware.js, default platform/espruino/boot.ts. */
  firmwareEntry?: string;
  /** Print the size report (default true). */
  log?: (line: string) => void;
  /** Keep the step marks of `npm run mem -- --account` (firmware/account.ts); never for a device. */
  memAccount?: boolean;
}

export interface BuildResult {
  ok: boolean;
  errors: string[];
  reports: SizeReport[];
}

/** esbuild `define`s that keep only the wanted signmethods (firmware/crypto/hmac.ts reads them). */
export function signDefines(methods: string[]): { [name: string]: string } {
  const out: { [name: string]: string } = {};
  for (const m of SIGN_METHODS) out["SIGN_" + m.toUpperCase()] = methods.indexOf(m) >= 0 ? "true" : "false";
  return out;
}

/** Throws on an unknown signmethod name. */
export function parseSignMethods(list: string): string[] {
  const methods = list.split(",").map((s) => s.trim()).filter((s) => s);
  for (const m of methods) {
    if (SIGN_METHODS.indexOf(m) < 0) throw new Error(`unknown sign method "${m}" (known: ${SIGN_METHODS.join(", ")})`);
  }
  if (!methods.length) throw new Error("no sign method given");
  return methods;
}

export function loadBudgets(signMethods: string[]): { firmware: Budget; core: Budget } {
  const b = JSON.parse(fs.readFileSync(path.join(__dirname, "budgets.json"), "utf8"));
  const firmware: Budget = Object.assign({}, b.firmware);
  // Extra signmethods bring their hash: their allowance is added to crypto and total.
  for (const m of signMethods) {
    const extra = (b.firmwareExtraPerSignMethod || {})[m] || 0;
    if (firmware.crypto !== undefined) firmware.crypto += extra;
    if (firmware.total !== undefined) firmware.total += extra;
  }
  // The OTA signature check (firmware/crypto/lms.ts and the hex output it uses) is crypto too, with
  // its own allowance: `crypto` itself stays the signmethods' budget (SHA-1 + HMAC).
  const ota = (b.firmwareExtraOtaVerify || {}).crypto || 0;
  if (firmware.crypto !== undefined) firmware.crypto += ota;
  // A migration build (release --migrate) carries the update public key: its hex text and quotes.
  const pub = process.env.OTA_PUB_KEY ? process.env.OTA_PUB_KEY.length + 2 : 0;
  if (firmware.app !== undefined) firmware.app += pub;
  if (firmware.total !== undefined) firmware.total += pub;
  return { firmware, core: b.core || {} };
}

async function bundleOne(opts: esbuild.BuildOptions, outfile: string, budget: Budget, log: (l: string) => void, parts?: { [path: string]: esbuild.Metafile }): Promise<{ errors: string[]; report?: SizeReport }> {
  let result: esbuild.BuildResult;
  try {
    result = await esbuild.build(Object.assign({}, deviceBase, { absWorkingDir: ROOT, outfile, logLevel: "silent" }, opts));
  } catch (e) {
    const failure = e as esbuild.BuildFailure;
    const msgs = failure.errors ? await esbuild.formatMessages(failure.errors, { kind: "error" }) : [String(e)];
    return { errors: msgs.map((m) => m.trim()) };
  }
  // short lines for the interpreter's error stacks (build/lines.ts)
  const code = breakLines(fs.readFileSync(outfile, "utf8"), MAX_LINE);
  fs.writeFileSync(outfile, code);
  const rel = path.relative(ROOT, outfile).replace(/\\/g, "/");
  const gateErrors = gateSource(code, rel).map(formatGateError);
  if (gateErrors.length) {
    // A script that fails the gate must not be flashed by accident.
    fs.rmSync(outfile, { force: true });
    return { errors: gateErrors };
  }
  const report = sizeReport(result.metafile as esbuild.Metafile, path.relative(ROOT, outfile).replace(/\\/g, "/"), Buffer.byteLength(code), parts);
  log(formatReport(report));
  return { errors: overBudget(report, budget), report };
}

// OTA (issue 9): the bundle knows its version (firmware/version.ts FIRMWARE_VERSION); the release
// tool sets FW_VERSION, other builds take package.json's. The boot stage must stay small.
const BOOT0_BUDGET_BYTES = 1536;
export function firmwareVersionDefine(): { [name: string]: string } {
  const version = process.env.FW_VERSION || JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).version;
  // OTA_PUB_KEY: only a migration release (build/release.ts --migrate) brings the update verify key.
  return { FW_VERSION: JSON.stringify(version), OTA_PUB_KEY: JSON.stringify(process.env.OTA_PUB_KEY || "") };
}

/**
 * The hasher methods of firmware/crypto (Hasher in md.ts) are used only inside dist/firmware.js, so
 * that build shortens their names like local ones (about 50 bytes in the crypto budget). No
 * Espruino API, JSON field or other property in the bundle may use these names: a key read from
 * parsed JSON would not be renamed. dist/core.js keeps them: its createSha1 is public API.
 */
export const HASHER_METHODS = /^(update|digest|digestHex)$/;
/**
 * Their short names, fixed so that the bundle and its lazy parts (build/lazy.ts), which esbuild
 * builds separately, agree on them.
 */
export const HASHER_NAMES: { [name: string]: string } = { update: "$u", digest: "$d", digestHex: "$x" };

export async function build(options: BuildOptions): Promise<BuildResult> {
  const log = options.log || ((l: string) => console.log(l));
  const outDir = path.resolve(ROOT, options.outDir || "dist");
  fs.mkdirSync(outDir, { recursive: true });
  const budgets = loadBudgets(options.signMethods);
  const errors: string[] = [];
  const reports: SizeReport[] = [];

  const entry = options.firmwareEntry || "platform/espruino/boot.ts";
  const parts: { [path: string]: esbuild.Metafile } = {};
  const fwCommon: esbuild.BuildOptions = {
    external: ESPRUINO_MODULES,
    define: Object.assign(signDefines(options.signMethods), firmwareVersionDefine(), { MEM_ACCOUNT: options.memAccount ? "true" : "false" }),
    mangleProps: HASHER_METHODS,
    mangleCache: Object.assign({}, HASHER_NAMES),
  };
  const fw = await bundleOne(Object.assign({
    entryPoints: [entry],
    // cjs leaves require("Storage") as a plain call (iife would add a shim built on Proxy). No
    // wrapper: the script's functions are globals, 1 JsVar less each than inside a wrapper
    // function's scope (measured: docs/budgets.md); the minified names are short and never a
    // name the bundle uses from the interpreter (esbuild keeps clear of free identifiers).
    format: "cjs",
    // x.lazy.ts: a part made only while it is used (build/lazy.ts)
    plugins: [lazyPlugin(Object.assign({}, deviceBase, { absWorkingDir: ROOT }, fwCommon), parts)],
  }, fwCommon), path.join(outDir, "firmware.js"), budgets.firmware, log, parts);

  // IotCore is assigned from the namespace object instead of esbuild's `globalName`, whose
  // CommonJS wrapper reads Object.prototype.hasOwnProperty and makes closures in a loop.
  const core = await bundleOne({
    stdin: { contents: 'import * as core from "./firmware/core";\nIotCore = core;\n', resolveDir: ROOT, sourcefile: "core-entry.js", loader: "js" },
    format: "iife",
    banner: { js: "var IotCore;" },
    define: signDefines(SIGN_METHODS),
  }, path.join(outDir, "core.js"), budgets.core, log);

  // OTA (issue 9): the rollback boot stage, flashed as Storage `.boot0` and never replaced by OTA.
  const boot0 = await bundleOne({
    entryPoints: ["platform/espruino/boot0.ts"],
    format: "cjs",
    // the chosen slot is evaluated at the top level, outside the wrapper, and a trial's timers are
    // made there (boot0.ts says why): a reboot if it is not confirmed in time, and one if it threw
    banner: { js: "var BOOT0_SLOT,BOOT0_TRIAL;(()=>{" },
    footer: {
      js: "})();if(BOOT0_SLOT){if(BOOT0_TRIAL){" +
        `if(BOOT0_TRIAL.w)setTimeout(function(){if(require("Storage").read(${JSON.stringify(OK_MARK)})!==BOOT0_TRIAL.v)E.reboot()},BOOT0_TRIAL.w);` +
        'setTimeout(function(){if(BOOT0_SLOT!==void 0){console.log("boot0: "+BOOT0_SLOT+" threw");E.reboot()}},0)}' +
        '(0,eval)(require("Storage").read(BOOT0_SLOT));BOOT0_SLOT=void 0}',
    },
    external: ESPRUINO_MODULES,
  }, path.join(outDir, "boot0.js"), { total: BOOT0_BUDGET_BYTES }, log);

  for (const r of [fw, core, boot0]) {
    errors.push(...r.errors);
    if (r.report) reports.push(r.report);
  }
  return { ok: errors.length == 0, errors, reports };
}

if (require.main === module) {
  const program = new Command()
    .name("build")
    .description("Bundle dist/firmware.js and dist/core.js, run the portability gate and the size budgets")
    .option("--sign-methods <list>", `signmethods built into dist/firmware.js, comma-separated (${SIGN_METHODS.join(", ")})`, "hmacsha1")
    .option("--out-dir <dir>", "output folder", "dist")
    .parse();
  const o = program.opts();
  let methods: string[];
  try {
    methods = parseSignMethods(o.signMethods);
  } catch (e) {
    console.error("build: " + (e as Error).message);
    process.exit(2);
  }
  build({ signMethods: methods, outDir: o.outDir }).then((r) => {
    if (!r.ok) {
      for (const e of r.errors) console.error(e);
      console.error(`build failed: ${r.errors.length} error(s)`);
      process.exit(1);
    }
    console.log(`build ok (sign methods in firmware: ${methods.join(", ")})`);
  }, (e) => {
    console.error(e);
    process.exit(1);
  });
}
