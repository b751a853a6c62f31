// Behaviours of the real Espruino interpreter that V8 does not share and that change what the
// firmware does, installed into each emulated device's vm context (never into Node's own
// built-ins). Each is measured on the real interpreter; docs/espruino-quirks.md lists them.
import * as vm from "node:vm";
import { espruinoParse, type Realm } from "./espruino-json";

/** Runs in the context: `split` with a separator 2+ chars longer than the string returns []; indexOf's match off the end; Math.round of negative halves. */
const SPLIT = `(function () {
  var split = String.prototype.split;
  Object.defineProperty(String.prototype, "split", { writable: true, configurable: true, value: function (sep, limit) {
    if (typeof sep === "string" && sep.length >= String(this).length + 2) return [];
    return split.call(this, sep, limit);
  } });
  // indexOf (and includes) also match where the string's tail is a prefix of a needle that runs off
  // the end: "abc".indexOf("cd") is 2, "\\na\\n".indexOf("\\nb\\n") is 2 ("abc".indexOf("abcd") is -1)
  var indexOf = String.prototype.indexOf;
  function tailIndexOf(s, n, from) {
    var r = indexOf.call(s, n, from);
    if (r >= 0 || typeof n !== "string" || !n.length || n.length > s.length) return r;
    for (var p = Math.max(from | 0, s.length - n.length + 1); p < s.length; p++) if (n.startsWith(s.slice(p))) return p;
    return -1;
  }
  Object.defineProperty(String.prototype, "indexOf", { writable: true, configurable: true, value: function (n, from) { return tailIndexOf(String(this), n, from); } });
  Object.defineProperty(String.prototype, "includes", { writable: true, configurable: true, value: function (n, from) { return tailIndexOf(String(this), String(n), from) >= 0; } });
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
 * For unit tests of device code that runs in Node: puts Espruino's `split`, `indexOf`, `JSON.parse` and `Math.round` in
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
  const indexOf = String.prototype.indexOf;
  Object.defineProperty(String.prototype, "indexOf", { writable: true, configurable: true, value: function (this: string, n: unknown, from?: number) {
    const s = String(this);
    const r = indexOf.call(s, n as string, from);
    if (r >= 0 || typeof n !== "string" || !n.length || n.length > s.length) return r;
    for (let p = Math.max(from || 0, s.length - n.length + 1); p < s.length; p++) if (n.startsWith(s.slice(p))) return p;
    return -1;
  } });
  return () => {
    Object.defineProperty(String.prototype, "indexOf", { writable: true, configurable: true, value: indexOf });
    Math.round = round;
    Object.defineProperty(String.prototype, "split", { writable: true, configurable: true, value: split });
    JSON.parse = parse;
  };
}
