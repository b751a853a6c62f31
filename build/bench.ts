// `npm run bench`: bytes per module of the device bundles, and the cost of one auth signature
// (HMAC-SHA1) with our code against jsSHA, crypto-js and js-sha1, each bundled the same way and run
// in QuickJS (an interpreter, like Espruino) and in Node (V8, in a bare vm context).
import * as esbuild from "esbuild";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as vm from "node:vm";
import { Command } from "commander";
import { getQuickJS } from "quickjs-emscripten";
import { build, signDefines } from "./build";
import { deviceBase } from "./esbuild-options";
import { formatReport } from "./sizes";
import { findEngine } from "../emulator/real/engine";
import { flashWith, runModel } from "../test/helpers/espruino-model";
import { runReal } from "../emulator/real/run";

const ROOT = path.resolve(__dirname, "..");

/** Each entry defines globalThis.SIGN(key, msg) -> lowercase hex HMAC-SHA1. */
const IMPLEMENTATIONS: { name: string; entry: string }[] = [
  { name: "ours (firmware/crypto)", entry: 'import { hmacHex } from "./firmware/crypto/hmac"; globalThis.SIGN = function (k, m) { return hmacHex("hmacsha1", k, m); };' },
  { name: "jsSHA 3 (jssha/sha1)", entry: 'var jsSHA = require("jssha/sha1"); globalThis.SIGN = function (k, m) { var s = new jsSHA("SHA-1", "TEXT", { hmacKey: { value: k, format: "TEXT" } }); s.update(m); return s.getHash("HEX"); };' },
  { name: "crypto-js 4 (hmac-sha1)", entry: 'import HmacSHA1 from "crypto-js/hmac-sha1"; import Hex from "crypto-js/enc-hex"; globalThis.SIGN = function (k, m) { return HmacSHA1(m, k).toString(Hex); };' },
  { name: "js-sha1 0.7", entry: 'import sha1 from "js-sha1"; globalThis.SIGN = function (k, m) { return sha1.hmac(k, m); };' },
];

// A realistic /auth signing input: 32-char secret, sorted trituple fields with a timestamp.
const KEY = "z8VqF3LbY0kXw2NcR7tPjH5mD1sGaE9u";
const MSG = "clientIda1B2c3D4e5F.sensor-0001deviceNamesensor-0001productKeya1B2c3D4e5Ftimestamp1795655747647";

async function bundle(entry: string): Promise<string> {
  const r = await esbuild.build(Object.assign({}, deviceBase, {
    absWorkingDir: ROOT, write: false, metafile: false, format: "iife" as const, logLevel: "silent" as const,
    stdin: { contents: entry, resolveDir: ROOT, loader: "js" as const, sourcefile: "bench-entry.js" },
    external: ["crypto", "buffer"], mainFields: ["module", "main"], define: signDefines(["hmacsha1"]),
  }));
  return (r.outputFiles || [])[0].text;
}

/** Runs `n` signatures inside the engine and returns the elapsed ms the engine measured. */
const loop = (n: number) => `(function(){var k=${JSON.stringify(KEY)},m=${JSON.stringify(MSG)},t=Date.now();` +
  `for(var i=0;i<${n};i++)SIGN(k,m);return Date.now()-t})()`;

interface Engine { name: string; load(code: string): (expr: string) => unknown; close(): void }

async function engines(): Promise<Engine[]> {
  const quickjs = await getQuickJS();
  const contexts: { dispose(): void }[] = [];
  return [
    {
      name: "QuickJS",
      load(code) {
        const ctx = quickjs.newContext();
        contexts.push(ctx);
        ctx.unwrapResult(ctx.evalCode(code)).dispose();
        return (expr) => {
          const h = ctx.unwrapResult(ctx.evalCode(expr));
          const v = ctx.dump(h);
          h.dispose();
          return v;
        };
      },
      close: () => contexts.forEach((c) => c.dispose()),
    },
    {
      name: "Node (V8, vm)",
      load(code) {
        const ctx = vm.createContext(Object.create(null));
        vm.runInContext(code, ctx);
        return (expr) => vm.runInContext(expr, ctx);
      },
      close: () => undefined,
    },
  ];
}

/** Microseconds per signature: grow n until one run takes minMs, then the best of `runs`. */
function measure(run: (expr: string) => unknown, minMs: number, runs: number): number {
  run(loop(20));
  let n = 20;
  while ((run(loop(n)) as number) < minMs) n *= 2;
  let best = Infinity;
  for (let i = 0; i < runs; i++) best = Math.min(best, run(loop(n)) as number);
  return (best * 1000) / n;
}

async function main(): Promise<void> {
  const opts = new Command()
    .name("bench")
    .description("Bundle sizes per module and the cost of one HMAC-SHA1 auth signature against popular pure-JS libraries")
    .option("--min-ms <ms>", "shortest timed run per measurement", "300")
    .option("--runs <n>", "timed runs per measurement (best is kept)", "3")
    .option("--engine-bin <path>", "real Espruino build for the sign time and the run report (default: $ESPRUINO_BIN; without one both are skipped)")
    .option("--real-minutes <n>", "length of the normal run on the real interpreter (0: none)", "10")
    .parse()
    .opts();

  // 1. Sizes: a fresh default build into a temporary folder.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bench-"));
  try {
    const r = await build({ signMethods: ["hmacsha1"], outDir: tmp, log: () => undefined });
    for (const rep of r.reports) console.log(formatReport(rep).replace(path.relative(ROOT, tmp), "dist") + "\n");
    if (!r.ok) console.log("build reported: " + r.errors.join("; ") + "\n");
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  // 2. One auth signature.
  const codes = await Promise.all(IMPLEMENTATIONS.map((i) => bundle(i.entry)));
  const list = await engines();
  const table: { name: string; bytes: number; us: number[]; hex: string }[] = [];
  for (let i = 0; i < IMPLEMENTATIONS.length; i++) {
    const row = { name: IMPLEMENTATIONS[i].name, bytes: Buffer.byteLength(codes[i]), us: [] as number[], hex: "" };
    for (const e of list) {
      const run = e.load(codes[i]);
      const hex = run(`SIGN(${JSON.stringify(KEY)},${JSON.stringify(MSG)})`) as string;
      if (row.hex && hex !== row.hex) throw new Error(`${row.name} disagrees with itself across engines`);
      row.hex = hex;
      row.us.push(measure(run, Number(opts.minMs), Number(opts.runs)));
    }
    table.push(row);
  }
  list.forEach((e) => e.close());
  for (const row of table) if (row.hex !== table[0].hex) throw new Error(`${row.name} gives ${row.hex}, ours ${table[0].hex}`);

  const ours = table[0];
  console.log(`HMAC-SHA1 of a ${MSG.length}-byte auth string with a ${KEY.length}-byte secret (sign ${ours.hex})`);
  console.log(`| implementation | minified bytes | size vs ours | ${list.map((e) => `${e.name} us/sign | vs ours`).join(" | ")} |`);
  console.log(`|---|---:|---:|${list.map(() => "---:|---:").join("|")}|`);
  for (const row of table) {
    const cells = row.us.map((us, j) => `${us.toFixed(1)} | ${(us / ours.us[j]).toFixed(2)}x`);
    console.log(`| ${row.name} | ${row.bytes} | ${(row.bytes / ours.bytes).toFixed(1)}x | ${cells.join(" | ")} |`);
  }

  // 3. The real interpreter: ours and jsSHA in the same run, each loaded from Storage as a board
  // runs code; then a normal run of dist/ (the report of `npm run emulate -- --engine espruino`).
  let engine: string;
  try {
    engine = findEngine(opts.engineBin as string | undefined);
  } catch (e) {
    console.log("\nreal interpreter: skipped (" + (e as Error).message + ")");
    return;
  }
  console.log(`\nOn the real interpreter (${path.basename(engine)}), one process per implementation, best of ${opts.runs}:`);
  console.log("| implementation | ms/sign | vs ours |\n|---|---:|---:|");
  const real: number[] = [];
  for (const i of [0, 1]) {
    const dir = flashWith(engine, { "impl.js": codes[i] });
    try {
      const n = 20;
      // Espruino 2v29 has no globalThis: the bundles assign SIGN on it
      const out = runModel(engine, dir,
        `var globalThis=global;eval(require("Storage").read("impl.js"));var H=SIGN(${JSON.stringify(KEY)},${JSON.stringify(MSG)});` +
        `var B=1e9;for(var r=0;r<${Number(opts.runs)};r++){var t=${loop(n)};if(t<B)B=t;}console.log("@R "+H+" "+(B/${n}));`, 300000).join("\n");
      const m = /@R ([0-9a-f]{40}) ([\d.]+)/.exec(out);
      if (!m || m[1] !== ours.hex) throw new Error(IMPLEMENTATIONS[i].name + " on the real interpreter: " + (m ? "sign " + m[1] : out.slice(-200)));
      real.push(Number(m[2]));
      console.log(`| ${IMPLEMENTATIONS[i].name} | ${Number(m[2]).toFixed(2)} | ${(Number(m[2]) / real[0]).toFixed(2)}x |`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(`ours takes ${(real[0] / real[1]).toFixed(2)} of jsSHA's time there`);

  const minutes = Number(opts.realMinutes);
  if (!(minutes > 0)) return;
  console.log(`\nA ${minutes}-minute normal run of dist/ on the real interpreter (plain layout, 5 s interval), real time:`);
  const run = await runReal({ engine, layout: "plain", minutes, intervalSec: 5 });
  const r = await run.done;
  const m = r.memory;
  console.log(JSON.stringify({
    minutes: r.minutes, readings: r.readings, published: r.published, lost: r.lost, pending: r.pending, duplicates: r.duplicates, madeUp: r.madeUp,
    auths: r.auths, requests: r.requests, tlsHandshakes: r.tlsHandshakes, requestsPerReading: r.requestsPerReading, errorsByCode: r.errorsByCode,
    boots: r.boots, memory: { idle: m.idle, peak: m.peak, total: m.total, errors: m.errors.length, idleAtCycle5: m.cycles.length > 5 ? m.cycles[5].idle : null, idleAtLastCycle: m.cycles.length ? m.cycles[m.cycles.length - 2].idle : null },
  }, null, 1));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
