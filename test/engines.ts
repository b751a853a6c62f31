// Loads dist/core.js into engines other than the test's own: a fresh node:vm context with no Node
// globals, and QuickJS (quickjs-emscripten, independent of V8). Shared by every area's core tests.
import * as fs from "node:fs";
import * as path from "node:path";
import * as vm from "node:vm";
import { getQuickJS, shouldInterruptAfterDeadline } from "quickjs-emscripten";

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
