// Loads dist/core.js into engines other than the test's own: a fresh node:vm context with no Node
// globals, and QuickJS (quickjs-emscripten, independent of V8). Shared by every area's core tests.
import * as fs from "node:fs";
import * as path from "node:path";
import * as vm from "node:vm";
import * as os from "node:os";
import { spawnSync } from "node:child_process";
import { getQuickJS, shouldInterruptAfterDeadline } from "quickjs-emscripten";
import { flashWith } from "./helpers/espruino-model";

export const CORE_JS = path.resolve(__dirname, "..", "dist", "core.js");

/** One engine with IotCore loaded. Arguments and results cross as JSON (byte strings survive it). */
export interface CoreEngine {
  name: string;
  /** Calls IotCore[fn](...args); an exception inside the engine is rethrown as an Error with its message. */
  call(fn: string, ...args: unknown[]): unknown;
  /** Evaluates an expression in the engine, result through JSON. */
  evaluate(expression: string): unknown;
  dispose(): void;
}

function readCore(file: string): string {
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first`);
  return fs.readFileSync(file, "utf8");
}

/** The expression that calls IotCore[fn] with JSON arguments and returns JSON text (or undefined). */
function callExpression(fn: string, args: unknown[]): string {
  return `(function(){var r=IotCore[${JSON.stringify(fn)}].apply(null,JSON.parse(${JSON.stringify(JSON.stringify(args))}));` +
    `return r===undefined?undefined:JSON.stringify(r)})()`;
}

function fromJson(text: unknown): unknown {
  return text === undefined ? undefined : JSON.parse(text as string);
}

/** dist/core.js in a new vm context: only the language built-ins, no require/process/Buffer/console. */
export function loadCoreInVm(file = CORE_JS, timeoutMs = 10000): CoreEngine {
  const context = vm.createContext(Object.create(null));
  vm.runInContext(readCore(file), context, { filename: path.basename(file), timeout: timeoutMs });
  const run = (code: string) => {
    try {
      return vm.runInContext(code, context, { timeout: timeoutMs });
    } catch (e) {
      // Errors of the other realm are not instances of this realm's Error.
      throw new Error(String((e as { message?: string }).message), { cause: e });
    }
  };
  return {
    name: "node:vm",
    call: (fn, ...args) => fromJson(run(callExpression(fn, args))),
    evaluate: (expression) => fromJson(run(`(function(){var r=(${expression});return r===undefined?undefined:JSON.stringify(r)})()`)),
    dispose: () => undefined,
  };
}

/** dist/core.js in a fresh QuickJS runtime. */
export async function loadCoreInQuickJS(file = CORE_JS, timeoutMs = 20000): Promise<CoreEngine> {
  const quickjs = await getQuickJS();
  const runtime = quickjs.newRuntime();
  const ctx = runtime.newContext();
  const run = (code: string): unknown => {
    runtime.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + timeoutMs));
    const result = ctx.evalCode(code);
    if (result.error) {
      const err = ctx.dump(result.error) as { message?: string } | string;
      result.error.dispose();
      throw new Error(typeof err === "object" && err && err.message !== undefined ? err.message : String(err));
    }
    const value = ctx.dump(result.value);
    result.value.dispose();
    return value;
  };
  run(readCore(file));
  return {
    name: "QuickJS",
    call: (fn, ...args) => fromJson(run(callExpression(fn, args))),
    evaluate: (expression) => fromJson(run(`(function(){var r=(${expression});return r===undefined?undefined:JSON.stringify(r)})()`)),
    dispose: () => {
      ctx.dispose();
      runtime.dispose();
    },
  };
}

/**
 * The real interpreters' host builds: `ESPRUINO_BIN` (the engine modelled on a stock ESP32, as
 * `.ci/run` sets it) and JerryScript beside it (or `JERRYSCRIPT_BIN`). Null when not there: the
 * suites that need one say so in one line and skip.
 */
export function realEngineBins(): { espruino: string | null; jerryscript: string | null } {
  const esp = process.env.ESPRUINO_BIN && fs.existsSync(process.env.ESPRUINO_BIN) ? path.resolve(process.env.ESPRUINO_BIN) : null;
  return { espruino: esp, jerryscript: jerryscriptBin(esp) };
}

/** JerryScript: `JERRY_BIN`, else beside the Espruino build; null when neither is there. */
export function jerryscriptBin(espruino: string | null): string | null {
  const jerry = process.env.JERRY_BIN || (espruino ? path.join(path.dirname(espruino), "jerryscript") : "");
  return jerry && fs.existsSync(jerry) ? path.resolve(jerry) : null;
}

/**
 * dist/core.js in a real interpreter process: every evaluation is one run of the engine on the core
 * plus the expression, the result printed as JSON behind a marker (Espruino prints a banner and
 * prompts; JerryScript has `print`, no console).
 */
export function loadCoreInProcess(bin: string, kind: "espruino" | "jerryscript", file = CORE_JS): CoreEngine {
  const core = readCore(file);
  const out = kind === "espruino" ? "console.log" : "print";
  // On Espruino the core goes into Storage and runs from there, as flashed code does on a board (a
  // script given on the command line is copied into the small heap).
  const dir = kind === "espruino" ? flashWith(bin, { "core.js": core }) : fs.mkdtempSync(path.join(os.tmpdir(), "core-engine-"));
  const prelude = kind === "espruino" ? 'eval(require("Storage").read("core.js"));' : core;
  const run = (expression: string): unknown => {
    const script = path.join(dir, "run.js");
    // ASCII only (non-ASCII as \u escapes): JerryScript wants UTF-8 source, Espruino's byte strings want bytes
    const ascii = (t: string) => t.replace(/[\u0080-\uffff]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
    fs.writeFileSync(
      script,
      ascii(prelude) + ascii(`\ntry{var R__=(function(){var r=(${expression});return r===undefined?"u":"j"+JSON.stringify(r)})();${out}("\\n@R"+R__+"@E");}` +
        `catch(e){${out}("\\n@X"+(e&&e.message!==undefined?e.message:String(e))+"@E");}\n`),
      "latin1",
    );
    const r = spawnSync(bin, [script], { cwd: dir, input: "", timeout: 60000 });
    // Espruino prints bytes; JerryScript prints UTF-8
    const text = (r.stdout ? (r.stdout as Buffer).toString(kind === "espruino" ? "latin1" : "utf8") : "").replace(/\r/g, "");
    const m = /\n@([RX])([\s\S]*?)@E/.exec(text);
    if (!m) throw new Error(`${kind} printed no result (exit ${r.status}): ${text.slice(-300)}${r.stderr || ""}`);
    if (m[1] === "X") throw new Error(m[2]);
    return m[2] === "u" ? undefined : JSON.parse(m[2].slice(1));
  };
  return {
    name: kind === "espruino" ? path.basename(bin) : "JerryScript",
    call: (fn, ...args) => run(`IotCore[${JSON.stringify(fn)}].apply(null,JSON.parse(${JSON.stringify(JSON.stringify(args))}))`),
    evaluate: run,
    dispose: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
