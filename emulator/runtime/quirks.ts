// Behaviours of the real Espruino interpreter that V8 does not share and that change what the
// firmware does, installed into each emulated device's vm context (never into Node's own
// built-ins). Each is measured on the real interpreter; docs/espruino-quirks.md lists them.
import * as vm from "node:vm";
import { espruinoParse, type Realm } from "./espruino-json";

/** Runs in the context: `split` with a separator 2+ chars longer than the string returns []; Math.round of negative halves. */
const SPLIT = `(function () {
  var split = String.prototype.split;
  Object.defineProperty(String.prototype, "split", { writable: true, configurable: true, value: function (sep, limit) {
    if (typeof sep === "string" && sep.length >= String(this).length + 2) return [];
    return split.call(this, sep, limit);
  } });
  // Math.round takes halves away from zero: Math.round(-2.5) is -3 (V8: -2)
  var round = Math.round;
  Math.round = function (x) { return x < 0 && x % 1 === -0.5 ? round(x) - 1 : round(x); };
})`;

/** Objects, arrays and errors made inside `ctx`, for values handed to device code. */
export function contextRealm(ctx: vm.Context): Realm {
  return vm.runInContext("({ obj: function () { return {}; }, arr: function () { return []; }, syntaxError: function (m) { return new SyntaxError(m); } })", ctx) as Realm;
}

/** Installs the quirks into a fresh context; returns its realm (Storage.readJSON parses with it). */
export function installQuirks(ctx: vm.Context): Realm {
  (vm.runInContext(SPLIT, ctx) as () => void)();
  const realm = contextRealm(ctx);
  const json = vm.runInContext("JSON", ctx) as JSON;
  // Espruino's JSON.parse: no reviver, lenient grammar, trailing text ignored
  Object.defineProperty(json, "parse", { writable: true, configurable: true, value: (text: unknown) => espruinoParse(String(text), false, realm) });
  return realm;
}

/**
 * For unit tests of device code that runs in Node: puts Espruino's `split`, `JSON.parse` and `Math.round` in
 * place of Node's own until the returned function is called (keep the span short and synchronous).
 */
export function asEspruino(): () => void {
  const split = String.prototype.split;
  const parse = JSON.parse;
  Object.defineProperty(String.prototype, "split", { writable: true, configurable: true, value: function (this: string, sep: unknown, limit?: number) {
    if (typeof sep === "string" && sep.length >= String(this).length + 2) return [];
    return split.call(this, sep as never, limit);
  } });
  JSON.parse = (text: string) => espruinoParse(String(text), false) as never;
  const round = Math.round;
  Math.round = (x: number) => (x < 0 && x % 1 === -0.5 ? round(x) - 1 : round(x));
  return () => {
    Math.round = round;
    Object.defineProperty(String.prototype, "split", { writable: true, configurable: true, value: split });
    JSON.parse = parse;
  };
}
