// `npm run emulate -- --minutes N --fast --report FILE [--scenario NAME] [--endpoint URL]`:
// runs dist/firmware.js headless on an emulated device and writes the JSON report.
import * as fs from "node:fs";
import * as path from "node:path";
import { Command } from "commander";
import { startSession, type Credentials } from "./runtime/session";
import { loadScenario, scenarioNames } from "./scenarios";
import { findEngine } from "./real/engine";
import { runReal } from "./real/run";

/** The JSON report into `file` (folders made), when one was asked for. */
function writeReport(file: string | boolean | undefined, report: unknown): void {
  if (!file) return;
  fs.mkdirSync(path.dirname(path.resolve(String(file))), { recursive: true });
  fs.writeFileSync(String(file), JSON.stringify(report, null, 2) + "\n");
}

const program = new Command()
  .name("emulate")
  .description("Run dist/firmware.js on an emulated ESP32 against the local IoT Platform (or a real endpoint) and write a report")
  .option("--minutes <n>", "emulated minutes to run (default: the scenario's, else 60)")
  .option("--fast", "jump over idle time (days of device life in seconds)", false)
  .option("--report <file>", "write the JSON report here")
  .option("--scenario <name>", "fault scenario: " + scenarioNames().join(", "))
  .option("--endpoint <url>", "real platform endpoint instead of the local one (needs --credentials)")
  .option("--credentials <file>", "JSON file with productKey, deviceName, deviceSecret (for --endpoint)")
  .option("--interval <sec>", "reading interval written to iot.json (default 60; 5 on the real engine, which runs in real time)")
  .option("--firmware <file>", "script to flash as .bootcde", "dist/firmware.js")
  .option("--seed <n>", "seed of the simulated climate", "1")
  .option("--config <json>", "extra iot.json keys as JSON, e.g. '{\"deepSleep\":false}'")
  .option("--verbose", "print the device console and runtime events", false)
  .option("--engine <name>", "v8 (the emulator, virtual time) or espruino (the real interpreter, real time)", "v8")
  .option("--engine-bin <path>", "Espruino host build for --engine espruino (default: $ESPRUINO_BIN)")
  .option("--layout <layout>", "flash layout on the real engine: plain (.bootcde) or ota (.boot0 + fw.a)", "plain")
  .option("--power-cuts <n>", "real engine: power cuts (kill -9) at random instants (default: the scenario's)")
  .option("--deep-sleep", "real engine: the board has ESP32.deepSleep (with --interval 60 or more each wake is a timer boot)", false)
  .action(async (o: Record<string, string | boolean | undefined>) => {
    const scenario = o.scenario ? loadScenario(String(o.scenario)) : null;
    if (o.engine === "espruino") return realEngine(o, scenario);
    if (o.engine !== "v8") throw new Error("--engine must be v8 or espruino");
    const minutes = Number(o.minutes ?? (scenario && scenario.minutes) ?? 60);
    if (!(minutes > 0)) throw new Error("--minutes must be a positive number");
    const firmwareFile = path.resolve(String(o.firmware));
    if (!fs.existsSync(firmwareFile)) throw new Error(firmwareFile + " not found: run `npm run build` first");
    let credentials: Credentials | undefined;
    if (o.credentials) credentials = JSON.parse(fs.readFileSync(String(o.credentials), "utf8")) as Credentials;
    if (o.endpoint && o.fast) console.error("note: --fast is ignored with --endpoint (the real platform checks timestamps against real time)");
    const verbose = !!o.verbose;
    const session = await startSession({
      minutes,
      fast: !!o.fast,
      firmwareFile,
      scenario,
      endpoint: o.endpoint ? String(o.endpoint) : undefined,
      credentials,
      intervalSec: Number(o.interval ?? 60),
      climate: { seed: Number(o.seed) },
      config: o.config ? (JSON.parse(String(o.config)) as Record<string, unknown>) : undefined,
      onConsole: verbose ? (l) => console.log("  device | " + l) : undefined,
      onEvent: verbose ? (k, d) => console.log("  emu    | " + k + " " + d) : undefined,
      onResponse: verbose ? (p, st, b) => console.log("  net    | " + p + " -> " + st + " " + b.slice(0, 120)) : undefined,
    });
    process.once("SIGINT", () => session.stop());
    const report = await session.done;
    writeReport(o.report, report);
    console.log(
      `${report.minutes} min${report.fast ? " (fast)" : ""}${report.scenario ? " scenario " + report.scenario : ""}: ` +
        `readings ${report.readings}, published ${report.published}, lost ${report.lost}, pending ${report.pending}, ` +
        `duplicates ${report.duplicates}, resends ${report.resends}, madeUp ${report.madeUp}, auths ${report.auths}, requests ${report.requests}, ` +
        `TLS ${report.tlsHandshakes}, reboots ${report.reboots}, errors ${JSON.stringify(report.errorsByCode)}; ` +
        `${report.wallMs} ms wall` + (o.report ? "; report in " + o.report : ""),
    );
    if (report.refused) {
      console.error("firmware refused: " + report.refused);
      process.exitCode = 1;
    }
  });

/** `--engine espruino`: dist/ on the real interpreter in real time (emulator/real/). */
async function realEngine(o: Record<string, string | boolean | undefined>, scenario: ReturnType<typeof loadScenario> | null): Promise<void> {
  const layout = String(o.layout);
  if (layout !== "plain" && layout !== "ota") throw new Error("--layout must be plain or ota");
  const engine = findEngine(o.engineBin ? String(o.engineBin) : undefined);
  const minutes = Number(o.minutes ?? 2);
  if (!(minutes > 0)) throw new Error("--minutes must be a positive number");
  const real = scenario && scenario.real;
  const run = await runReal({
    engine,
    layout,
    minutes,
    scenario,
    intervalSec: Number(o.interval ?? 5),
    config: o.config ? (JSON.parse(String(o.config)) as Record<string, unknown>) : undefined,
    powerCuts: o.powerCuts !== undefined ? Number(o.powerCuts) : real ? real.powerCuts : undefined,
    seed: Number(o.seed),
    deepSleep: !!o.deepSleep,
    onConsole: o.verbose ? (l) => console.log("  device | " + l) : undefined,
  });
  process.once("SIGINT", () => run.stop());
  const report = await run.done;
  writeReport(o.report, report);
  const m = report.memory;
  console.log(
    `espruino ${report.layout} ${report.minutes} min${report.scenario ? " scenario " + report.scenario : ""}: ` +
      `readings ${report.readings}, published ${report.published}, lost ${report.lost}, pending ${report.pending}, ` +
      `duplicates ${report.duplicates}, madeUp ${report.madeUp}, auths ${report.auths}, requests ${report.requests}, ` +
      `reboots ${report.reboots}, errors ${JSON.stringify(report.errorsByCode)}; ` +
      `memory idle ${m.idle}, peak ${m.peak} of ${m.total} JsVars, ${m.errors.length} memory errors` + (o.report ? "; report in " + o.report : ""),
  );
  if (report.refused) {
    console.error("firmware refused: " + report.refused);
    process.exitCode = 1;
  }
}

program.parseAsync().catch((e: Error) => {
  console.error("emulate: " + e.message);
  process.exit(1);
});
