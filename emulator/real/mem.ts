// `npm run mem`: RAM of dist/ on the real interpreter (ESPRUINO_BIN or --engine-bin), both flash
// layouts, the paths that build the most: steady cycles (idle and peak; each one a boot from flash),
// a backlog flush after an outage, a 20001 re-auth and resend, the sensor-fault event, in the OTA
// layout an update (check, signature, download, trial boot), and with --deep-sleep a cold boot and
// a timer wake from deep sleep. Prints JsVars per run
// and checks them against build/budgets.json "ram" (fails naming the run, the figure and the budget).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Command } from "commander";
import { findEngine, throwawayUpdateKey } from "./engine";
import { build } from "../../build/build";
import { runReal, type RealReport } from "./run";
import { loadScenario, type Scenario } from "../scenarios";

export interface RamBudget {
  /** JsVars between cycles, any run. */
  idle: number;
  /** JsVars at the highest 20 ms sample, any run but an OTA update's. */
  peak: number;
  /** The same for a run with an OTA update (check, signature, download, trial boot). */
  peakOta: number;
}

export interface MemResult {
  layout: string;
  run: string;
  report: RealReport;
}

// Scenario times are fractions of the run (minutes: 1 is scaled to the run's length). A run with
// `layouts` runs in those only; `minMinutes` is the least time its path needs; `until`: the run
// ends early, once the console has shown these lines in this order (its path is then done).
const RUNS: { name: string; scenario: Scenario | null; layouts?: string[]; minMinutes?: number; deepSleep?: boolean; until?: RegExp[] }[] = [
  { name: "cycles", scenario: null },
  // every cycle a boot from deep sleep at a 60 s interval: the power-on cold boot, then a timer wake
  // (the sleep is real time: only with --deep-sleep, and in the test run)
  { name: "deep-sleep", scenario: null, minMinutes: 1.4, deepSleep: true },
  { name: "outage-flush", scenario: { name: "outage-flush", description: "platform unreachable, then a backlog flush", minutes: 1, events: [{ fault: "networkDown", atMin: 0, forMin: 0.45 }] } },
  { name: "reauth-20001", scenario: { name: "reauth-20001", description: "one publish answered 20001", minutes: 1, events: [{ fault: "platformCode", atMin: 0.3, code: 20001, count: 1 }] } },
  { name: "sensor-fault", scenario: { name: "sensor-fault", description: "the sensor does not answer", minutes: 1, events: [{ fault: "sensor", atMin: 0.2, forMin: 0.5, noAnswer: true }] } },
  // the OTA check, the signature check, the chunked download with its hash, the trial boot
  // (done once the new version, confirmed on its trial boot, has gone to sleep: then at most 0.6)
  { name: "ota-download", layouts: ["ota"], minMinutes: 0.6, scenario: loadScenario("ota-good"), until: [/^I \S+ ota: \S+ confirmed by its health check$/, /^I \S+ (deep )?sleep \d+ s$/] },
];

export function loadRamBudget(file = path.resolve(__dirname, "..", "..", "build", "budgets.json")): RamBudget {
  const b = JSON.parse(fs.readFileSync(file, "utf8")) as { ram?: RamBudget };
  if (!b.ram || !(b.ram.idle > 0) || !(b.ram.peak > 0) || !(b.ram.peakOta > 0)) throw new Error(file + ": no ram {idle, peak, peakOta} budget");
  return b.ram;
}

/** The first two boots of a traced run: JsVars in use at each log line, and the most sampled before it. */
export function printTrace(x: MemResult): void {
  console.log(`\n${x.layout} ${x.run}: in use / most before  log line`);
  let boots = 0;
  for (const t of x.report.memory.trace || []) {
    if (/ boot: /.test(t.line) && ++boots > 2) break;
    console.log(`${String(t.usage).padStart(6)} ${String(t.peakBefore).padStart(6)}  ${t.line}`);
  }
}

export interface AccountRun {
  name: string;
  report: RealReport;
}

/**
 * The step account (`--account`): the firmware built with its step marks (firmware/account.ts)
 * into a temporary folder, run in the plain layout and through an OTA update, each step mark and
 * each socket with the JsVars alive after a collection. The collections change what the samples
 * see: the peaks of these runs are not budget figures.
 */
export async function account(engine: string): Promise<AccountRun[]> {
  const distDir = fs.mkdtempSync(path.join(os.tmpdir(), "mem-account-"));
  try {
    const b = await build({ signMethods: ["hmacsha1"], outDir: distDir, memAccount: true, log: () => undefined });
    // the marks add a few bytes: a size budget may fail, the portability gate must not (it deletes the script)
    if (!fs.existsSync(path.join(distDir, "firmware.js"))) throw new Error("the account build failed: " + b.errors.join("; "));
    const key = throwawayUpdateKey(fs.mkdtempSync(path.join(os.tmpdir(), "mem-key-")));
    const runs: { name: string; layout: "plain" | "ota"; minutes: number; scenario: Scenario | null }[] = [
      { name: "plain", layout: "plain", minutes: 0.3, scenario: null },
      { name: "ota update", layout: "ota", minutes: 0.6, scenario: loadScenario("ota-good") },
    ];
    return await Promise.all(runs.map(async (r) => {
      const run = await runReal({ engine, layout: r.layout, minutes: r.minutes, scenario: r.scenario, intervalSec: 5, distDir, updateKey: key, account: true });
      return { name: r.name, report: await run.done };
    }));
  } finally {
    fs.rmSync(distDir, { recursive: true, force: true });
  }
}

/** The account of one boot: each step, the JsVars alive after it, and what it added; a step repeated in a row is shown once, with its count. */
export function printAccount(title: string, steps: { step: string; alive: number }[]): void {
  console.log(`\n${title}\n  alive  added  step`);
  let prev = 0;
  for (let i = 0; i < steps.length; i++) {
    let n = 1;
    while (i + 1 < steps.length && steps[i + 1].step === steps[i].step) {
      i++;
      n++;
    }
    const s = steps[i];
    console.log(`${String(s.alive).padStart(7)} ${(prev ? (s.alive - prev >= 0 ? "+" : "") + (s.alive - prev) : "").padStart(6)}  ${s.step}${n > 1 ? ` (x${n}, the last shown)` : ""}`);
    prev = s.alive;
  }
}

/** What is over the budget, one line per figure: the run, the figure and the budget. */
export function overRamBudget(results: MemResult[], budget: RamBudget): string[] {
  const over: string[] = [];
  for (const x of results) {
    const m = x.report.memory;
    const ota = x.run === "ota-download";
    const peak = ota ? budget.peakOta : budget.peak;
    if (m.idle > budget.idle) over.push(`${x.layout} ${x.run}: idle ${m.idle} JsVars, budget ${budget.idle} (idle)`);
    if (m.peak > peak) over.push(`${x.layout} ${x.run}: peak ${m.peak} JsVars, budget ${peak} (${ota ? "peakOta" : "peak"})`);
    if (m.errors.length) over.push(`${x.layout} ${x.run}: ${m.errors.length} memory errors, first: ${m.errors[0]}`);
    if (!m.cycles.length) over.push(`${x.layout} ${x.run}: no cycle ran`);
  }
  return over;
}

/** Runs every layout and path at once (they take real time); one report per run. */
export async function measure(engine: string, minutes: number, trace?: boolean, deepSleep?: boolean): Promise<MemResult[]> {
  const key = throwawayUpdateKey(fs.mkdtempSync(path.join(os.tmpdir(), "mem-")));
  const jobs: Promise<MemResult>[] = [];
  for (const layout of ["plain", "ota"] as const) {
    for (const r of RUNS) {
      if (r.layouts && r.layouts.indexOf(layout) < 0) continue;
      if (r.deepSleep && !deepSleep) continue;
      // a run with `until` stops 2 s after its last line: its sleep then has a whole sample window (idle)
      const until = (r.until || []).slice();
      let stop: (() => void) | null = null;
      const onConsole = until.length ? (line: string) => {
        if (until.length && until[0].test(line) && until.shift() && !until.length) setTimeout(() => stop && stop(), 2000);
      } : undefined;
      jobs.push(
        runReal({ engine, layout, minutes: Math.max(minutes, r.minMinutes || 0), scenario: r.scenario, intervalSec: r.deepSleep ? 60 : 5, deepSleep: r.deepSleep, updateKey: key, trace, onConsole }).then(async (run) => {
          stop = run.stop;
          return { layout, run: r.name, report: await run.done };
        }),
      );
    }
  }
  return Promise.all(jobs);
}

if (require.main === module) {
  const o = new Command()
    .name("mem")
    .description("RAM of dist/ on the real Espruino interpreter (JsVars), both flash layouts, against build/budgets.json")
    .option("--engine-bin <path>", "Espruino host build (default: $ESPRUINO_BIN)")
    .option("--minutes <n>", "real minutes per run (all run at once)", "0.4")
    .option("--json <file>", "write every report here")
    .option("--deep-sleep", "also the deep-sleep runs (a 60 s sleep in real time: about 1.5 minutes in all)")
    .option("--trace", "print where the RAM goes: the first boots of each run, each log line with the JsVars in use and the most since the line before")
    .option("--account", "instead: the step account, what each step of a boot keeps alive (a build with step marks, in the plain layout and through an OTA update)")
    .parse()
    .opts<{ engineBin?: string; minutes: string; json?: string; trace?: boolean; deepSleep?: boolean; account?: boolean }>();
  (async () => {
    let engine: string;
    try {
      engine = findEngine(o.engineBin);
    } catch (e) {
      console.error("mem: " + (e as Error).message);
      process.exit(2);
    }
    if (o.account) {
      const runs = await account(engine);
      for (const r of runs) {
        const steps = r.report.memory.account || [];
        if (r.name === "plain") {
          printAccount("plain layout, first boot (power-on: time request, /auth, publish)", steps.filter((x) => x.boot === 1));
          printAccount("plain layout, second boot (a restart between cycles: publish)", steps.filter((x) => x.boot === 2));
        } else {
          const at = steps.find((x) => x.step === "OTA updater");
          printAccount("OTA layout, the boot that installs the update", at ? steps.filter((x) => x.boot === at.boot) : []);
        }
        if (r.report.memory.errors.length) console.log("memory errors: " + r.report.memory.errors.join(" | "));
      }
      if (o.json) fs.writeFileSync(o.json, JSON.stringify(runs, null, 2) + "\n");
      return;
    }
    const budget = loadRamBudget();
    const results = await measure(engine, Number(o.minutes), o.trace, o.deepSleep);
    if (o.trace) for (const x of results) printTrace(x);
    console.log("layout  run            cycles  idle  peak  total  rig  memory errors  published/readings");
    for (const x of results) {
      const m = x.report.memory;
      console.log(
        [x.layout.padEnd(6), x.run.padEnd(14), String(m.cycles.length).padStart(6), (m.idle ? String(m.idle) : "-").padStart(5), String(m.peak).padStart(5), String(m.total).padStart(6), String(m.rig).padStart(3),
          String(m.errors.length).padStart(14), "  " + x.report.published + "/" + x.report.readings].join("  "),
      );
    }
    const over = overRamBudget(results, budget);
    if (o.json) fs.writeFileSync(o.json, JSON.stringify(results, null, 2) + "\n");
    if (over.length) {
      console.error("mem: over budget (build/budgets.json ram):\n  " + over.join("\n  "));
      process.exit(1);
    }
    console.log(`mem ok: idle <= ${budget.idle}, peak <= ${budget.peak} (OTA update ${budget.peakOta}) JsVars (build/budgets.json ram)`);
  })().catch((e: Error) => {
    console.error("mem: " + e.message);
    process.exit(1);
  });
}
