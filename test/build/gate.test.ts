// The portability gate: each fixture fails for its own rule, the real dist output passes, and
// esbuild's own helpers for our settings get through.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import * as esbuild from "esbuild";
import { gateSource, formatGateError, GateRule } from "../../build/gate";
import { deviceBase } from "../../build/esbuild-options";

const ROOT = path.resolve(__dirname, "..", "..");
const FIXTURES = path.join(ROOT, "build", "fixtures");
const RULES: GateRule[] = ["syntax", "builtin", "prototype", "hoisting", "label", "extends-error", "loop-closure"];

const gate = (code: string) => gateSource(code, "t.js");
const rulesOf = (code: string) => gate(code).map((e) => e.rule);

describe("gate: fixtures", () => {
  it("there is exactly one fixture per rule", () => {
    assert.deepEqual(fs.readdirSync(FIXTURES).filter((f) => f.endsWith(".js")).sort(), RULES.map((r) => r + ".js").sort());
  });
  for (const rule of RULES) {
    it(`${rule}.js fails for ${rule} only, naming file, line and rule`, () => {
      const file = `build/fixtures/${rule}.js`;
      const errors = gateSource(fs.readFileSync(path.join(ROOT, file), "utf8"), file);
      assert.ok(errors.length > 0, "fixture passed the gate");
      assert.deepEqual([...new Set(errors.map((e) => e.rule))], [rule]);
      for (const e of errors) assert.match(formatGateError(e), new RegExp(`^${file.replace(/\./g, "\\.")}:[1-9]\\d*:\\d+: \\[${rule}\\] `));
    });
  }
});

describe("gate: the real build output", () => {
  for (const out of ["firmware.js", "core.js"]) {
    it(`dist/${out} passes`, () => {
      const file = path.join(ROOT, "dist", out);
      assert.ok(fs.existsSync(file), `${file} missing: run npm run build`);
      assert.deepEqual(gateSource(fs.readFileSync(file, "utf8"), "dist/" + out).map(formatGateError), []);
    });
  }

  it("rejects esbuild's globalName wrapper (Object.prototype.hasOwnProperty, closure over a loop let)", async () => {
    const r = await esbuild.build(Object.assign({}, deviceBase, {
      stdin: { contents: "export function f(){ return 1 }", loader: "js" as const },
      format: "iife" as const, globalName: "X", write: false, metafile: false,
    }));
    const rules = rulesOf((r.outputFiles || [])[0].text);
    assert.ok(rules.includes("prototype") && rules.includes("loop-closure"), rules.join());
  });
});

describe("gate: rules", () => {
  it("syntax: the constructs espruino.md lists as failing", () => {
    for (const code of ["var {a} = o;", "var [a] = o;", "f(...a);", "function f(...r) {}", "function f(a = 1) {}",
      "var o = {[k]: 1};", "x = 2 ** 3;", "o?.p;", "async function f() { await 1; }", "function* g() {}",
      "t`x`;", "var r = /a(?=b)/;", "var r = /(?<n>a)/;", "var r = /https?/;", "var r = /a{2}/;", "var n = 1n;"]) {
      assert.ok(rulesOf(code).includes("syntax"), code);
    }
  });

  it("syntax: what Espruino runs passes", () => {
    const ok = "let a = 1; const b = () => a; class C { constructor() { this.x = 1; } get y() { return 2; } }" +
      " var s = `t${a}`; for (const c of [1, 2]) a += c; var d = a ?? 0; var r = /a(?:b)*c+/; var o = {a, b() { return 1; }};";
    assert.deepEqual(gate(ok).map(formatGateError), []);
  });

  it("builtin: missing globals and static members, not local variables of those names", () => {
    for (const code of ["new Set();", "Symbol('a');", "Array.from(x);", "Uint8Array.from(x);", "Number.isFinite(1);",
      "Math.imul(1, 2);", "Object.freeze(o);", "Promise.race([]);", "p.finally(f);", "Math['trunc'](1);"]) {
      assert.ok(rulesOf(code).includes("builtin"), code);
    }
    assert.deepEqual(rulesOf("function f(Map) { return Map.get(1); }"), []);
    assert.deepEqual(rulesOf("var o = { Set: 1 }; o.Set; Math.floor(1); Object.keys(o);"), []);
  });

  it("prototype: Builtin.prototype reads, but not instance forms or our own classes", () => {
    assert.ok(rulesOf("Array.prototype.slice.call(a);").includes("prototype"));
    assert.ok(rulesOf("var h = Object.prototype.hasOwnProperty;").includes("prototype"));
    assert.deepEqual(rulesOf("[].slice.call(a); o.hasOwnProperty('k'); function A() {} A.prototype.f = 1;"), []);
  });

  it("hoisting: a call or reference before the declaration runs fails, also through a called function", () => {
    assert.ok(rulesOf("f(); function f() {}").includes("hoisting"));
    assert.ok(rulesOf("var g = f; function f() {}").includes("hoisting"));
    assert.ok(rulesOf("function a() { b(); } a(); function b() {}").includes("hoisting"));
    assert.ok(rulesOf("(function () { f(); })(); function f() {}").includes("hoisting"));
    assert.ok(rulesOf("function outer() { inner(); function inner() {} }").includes("hoisting"));
  });

  it("hoisting: calls that run after the declaration pass", () => {
    assert.deepEqual(rulesOf("function f() {} f();"), []);
    assert.deepEqual(rulesOf("function a() { b(); } function b() {} a();"), []);
    assert.deepEqual(rulesOf("setTimeout(function () { later(); }, 1); function later() {}"), []);
    assert.deepEqual(rulesOf("var api = { go: function () { return later(); } }; function later() {}"), []);
    assert.deepEqual(rulesOf("function f(later) { later(); } function later() {}"), []);
  });

  it("label and extends-error", () => {
    assert.deepEqual(rulesOf("a: while (1) break a;"), ["label"]);
    assert.deepEqual(rulesOf("class E extends TypeError {}"), ["extends-error"]);
    assert.deepEqual(rulesOf("class B {} class E extends B {}"), []);
  });

  it("loop-closure: closures capturing a loop let/const fail; var and non-capturing closures pass", () => {
    assert.deepEqual(rulesOf("for (let i = 0; i < 3; i++) f(() => i);"), ["loop-closure"]);
    assert.deepEqual(rulesOf("for (const k in o) f(function () { return k; });"), ["loop-closure"]);
    assert.deepEqual(rulesOf("while (x) { let v = g(); f(() => v); }"), ["loop-closure"]);
    assert.deepEqual(rulesOf("for (var i = 0; i < 3; i++) f(() => i);"), []);
    assert.deepEqual(rulesOf("for (let i = 0; i < 3; i++) f(function (i) { return i; });"), []);
  });

  it("a parse error is reported as syntax with its position", () => {
    const [e] = gate("var a = ;");
    assert.equal(e.rule, "syntax");
    assert.equal(e.line, 1);
  });
});
