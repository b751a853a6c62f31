// build/lazy.ts: a lazy part's functions are made only while its load() runs, in the device bundle;
// in Node the same file is eager. Built into a temporary folder from a small fixture.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as vm from "node:vm";
import * as esbuild from "esbuild";
import * as acorn from "acorn";
import { deviceBase } from "../../build/esbuild-options";
import { lazyPlugin } from "../../build/lazy";
import { sizeReport } from "../../build/sizes";

describe("build: lazy parts (x.lazy.ts)", function () {
  this.timeout(60000);
  let tmp: string;
  let code = "";
  let meta: esbuild.Metafile;
  const parts: { [path: string]: esbuild.Metafile } = {};

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "lazy-test-"));
    fs.mkdirSync(path.join(tmp, "firmware"));
    // the part's module: helpers that only its entry function uses, and a shared module
    fs.writeFileSync(path.join(tmp, "firmware", "shared.ts"), "export function twice(x: number): number { return x * 2; }\n");
    fs.writeFileSync(path.join(tmp, "firmware", "parser.ts"),
      'import { twice } from "./shared";\nfunction helperOne(s: string): number { return s.length; }\nfunction helperTwo(n: number): number { return twice(n) + 1; }\n' +
      "export function parse(s: string): number { return helperTwo(helperOne(s)); }\n");
    fs.writeFileSync(path.join(tmp, "firmware", "parser.lazy.ts"), 'import { parse } from "./parser";\nexport function load(): { parse: typeof parse } {\n  return { parse: parse };\n}\n');
    fs.writeFileSync(path.join(tmp, "firmware", "main.ts"),
      'import { load } from "./parser.lazy";\nimport { twice } from "./shared";\ndeclare const OUT: number[];\nOUT.push(load().parse("abcd"), twice(5), load() === load() ? 1 : 0);\n');
    const base: esbuild.BuildOptions = Object.assign({}, deviceBase, { absWorkingDir: tmp, minify: false });
    const r = await esbuild.build(Object.assign({}, base, {
      entryPoints: ["firmware/main.ts"], outfile: path.join(tmp, "out.js"), format: "cjs", banner: { js: "(()=>{" }, footer: { js: "})();" },
      plugins: [lazyPlugin(base, parts)], logLevel: "silent",
    }) as esbuild.BuildOptions);
    meta = r.metafile!;
    code = fs.readFileSync(path.join(tmp, "out.js"), "utf8");
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("the part's functions sit inside load(), not at the bundle's top level", () => {
    const ast = acorn.parse(code, { ecmaVersion: 2020 }) as unknown as { body: { expression: { callee: { body: { body: { type: string; id?: { name: string }; body?: { body: { type: string; id?: { name: string } }[] } }[] } } } }[] };
    const top = ast.body[0].expression.callee.body.body;
    const topFns = top.filter((s) => s.type === "FunctionDeclaration").map((s) => s.id!.name);
    assert.ok(!topFns.some((n) => /helper|parse/.test(n)), "part functions at the top level: " + topFns.join(", "));
    const load = top.filter((s) => s.type === "FunctionDeclaration" && /^load/.test(s.id!.name));
    assert.equal(load.length, 1, "one load(): " + topFns.join(", "));
    const inner = load[0].body!.body.filter((s) => s.type === "FunctionDeclaration").map((s) => s.id!.name);
    for (const n of ["helperOne", "helperTwo", "parse", "twice"]) assert.ok(inner.some((x) => x.indexOf(n) === 0), n + " not in load(): " + inner.join(", "));
  });

  it("runs as the eager code does, and each load() makes the part anew", () => {
    const OUT: number[] = [];
    vm.runInNewContext(code, { OUT });
    assert.deepEqual(OUT, [9, 10, 0]);
  });

  it("the size report counts the part's bytes to the modules it bundles, marked lazy", () => {
    const report = sizeReport(meta, "out.js", Buffer.byteLength(code), parts);
    const names = report.modules.map((m) => m.path);
    assert.ok(names.indexOf("firmware/parser.ts (lazy)") >= 0, names.join(", "));
    assert.ok(names.indexOf("firmware/shared.ts (lazy)") >= 0 && names.indexOf("firmware/shared.ts") >= 0, "shared code counted in both places: " + names.join(", "));
    const lazyBytes = meta.outputs["out.js"].inputs["firmware/parser.lazy.ts"].bytesInOutput;
    const spread = report.modules.filter((m) => / \(lazy\)$/.test(m.path)).reduce((a, m) => a + m.bytes, 0);
    assert.equal(spread, lazyBytes, "the part's bytes, shared out exactly");
  });
});
