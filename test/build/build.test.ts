// The build pipeline: signmethod option (dropped code, clear error at run time), size report and
// budgets. Builds into a temporary folder so dist/ is left alone.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as vm from "node:vm";
import { spawnSync } from "node:child_process";
import * as esbuild from "esbuild";
import { build, parseSignMethods, signDefines, loadBudgets, HASHER_METHODS } from "../../build/build";
import { createHash, createHmac } from "node:crypto";
import { areaOf, sizeReport, overBudget } from "../../build/sizes";
import { deviceBase } from "../../build/esbuild-options";

const ROOT = path.resolve(__dirname, "..", "..");
// A line of MD5's sine table and SHA-256's round constants, as the minifier prints them.
const MD5_MARK = "-680876936", SHA256_MARK = "1116352408";

describe("build: signmethods in dist/firmware.js", function () {
  this.timeout(60000);
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "build-test-"));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("default build carries hmacsha1 only; core.js carries all three; both pass gate and budgets", async () => {
    const lines: string[] = [];
    const r = await build({ signMethods: ["hmacsha1"], outDir: path.join(tmp, "a"), log: (l) => lines.push(l) });
    assert.deepEqual(r.errors, []);
    const fw = fs.readFileSync(path.join(tmp, "a", "firmware.js"), "utf8");
    const core = fs.readFileSync(path.join(tmp, "a", "core.js"), "utf8");
    assert.ok(!fw.includes(MD5_MARK) && !fw.includes(SHA256_MARK), "unused hashes were bundled");
    assert.ok(core.includes(MD5_MARK) && core.includes(SHA256_MARK));
    assert.ok(lines.some((l) => /size report .*firmware\.js/.test(l)) && lines.some((l) => /areas: crypto \d+/.test(l)));
    const fwReport = r.reports.find((x) => x.output.endsWith("firmware.js"));
    assert.ok(fwReport && fwReport.total === Buffer.byteLength(fw));
    // The hasher's method names are shortened in firmware.js only. Not even a string there may carry
    // them: a JSON key or quoted property of that name would not be renamed with the code.
    assert.ok(!/update|digest/.test(fw), "hasher method name left in firmware.js");
    assert.ok(/\bupdate:/.test(core) && /\bdigestHex:/.test(core), "core.js lost its public hasher names");
  });

  it("firmware.js has no wrapper function: its module functions are declared at the top level (on Espruino each closure two scopes down carries a copy of the scope chain)", async () => {
    const r = await build({ signMethods: ["hmacsha1"], outDir: path.join(tmp, "w"), log: () => {} });
    assert.deepEqual(r.errors, []);
    const acorn = await import("acorn");
    const prog = acorn.parse(fs.readFileSync(path.join(tmp, "w", "firmware.js"), "utf8"), { ecmaVersion: "latest" }) as unknown as { body: { type: string }[] };
    const fns = prog.body.filter((st) => st.type === "FunctionDeclaration").length;
    assert.ok(fns >= 20, `${fns} top-level functions: the bundle is wrapped in a function`);
    assert.ok(prog.body.length > fns, "top-level statements besides the functions (the boot)");
  });

  it("the step marks of npm run mem -- --account are in an account build only, never in a device build", async () => {
    const dev = await build({ signMethods: ["hmacsha1"], outDir: path.join(tmp, "d"), log: () => {} });
    assert.deepEqual(dev.errors, []);
    const acct = await build({ signMethods: ["hmacsha1"], outDir: path.join(tmp, "m"), memAccount: true, log: () => {} });
    const marks = ["M - the script's functions (and the rig)", "M - HAL: storage, clock, power", "M - config", "IoT client", "queue state, stored schedule", "reading queued, sensor part dropped", "OTA updater"];
    const fw = fs.readFileSync(path.join(tmp, "d", "firmware.js"), "utf8");
    const fwAcct = fs.readFileSync(path.join(tmp, "m", "firmware.js"), "utf8");
    for (const m of marks) {
      assert.ok(!fw.includes(m), `device build carries the mark "${m}"`);
      assert.ok(fwAcct.includes(m), `account build lacks the mark "${m}"`);
    }
    assert.ok(acct.reports.length > 0);
  });

  it("a migration build (OTA_PUB_KEY, release --migrate) carries the update public key; a normal build carries none", async () => {
    const pub = "000000010000000600000003" + "5a".repeat(48);
    const before = process.env.OTA_PUB_KEY;
    process.env.OTA_PUB_KEY = pub;
    try {
      const r = await build({ signMethods: ["hmacsha1"], outDir: path.join(tmp, "mig"), log: () => undefined });
      assert.deepEqual(r.errors, [], "within budget with the key");
    } finally {
      if (before === undefined) delete process.env.OTA_PUB_KEY;
      else process.env.OTA_PUB_KEY = before;
    }
    const mig = fs.readFileSync(path.join(tmp, "mig", "firmware.js"), "utf8");
    assert.equal(mig.split(pub).length, 2, "the key once, as the adopted value");
    const plain = fs.readFileSync(path.join(tmp, "a", "firmware.js"), "utf8");
    assert.ok(!/[0-9a-f]{120}/.test(plain), "a normal build carries no key");
  });

  it("hashing through the shortened method names (firmware.js build) matches Node: streaming SHA-1, HMAC-SHA1 keys 0..100 bytes", async () => {
    const r = await esbuild.build(Object.assign({}, deviceBase, {
      absWorkingDir: ROOT, write: false, metafile: false, format: "iife" as const, mangleProps: HASHER_METHODS,
      stdin: { contents: 'import { createSha1 } from "./firmware/crypto/sha1"; import { hmacHex } from "./firmware/crypto/hmac"; ' +
        "T = { sha1: function (parts) { var s = createSha1(); for (var i = 0; i < parts.length; i++) s.update(parts[i]); return s.digestHex(); }, hmacHex: hmacHex };",
      resolveDir: ROOT, loader: "ts" as const },
      define: signDefines(["hmacsha1"]),
    }));
    const code = (r.outputFiles || [])[0].text;
    assert.ok(!/update|digest/.test(code));
    const ctx = vm.createContext({});
    vm.runInContext(code, ctx);
    const T = (ctx as { T: { sha1: (parts: string[]) => string; hmacHex: (m: string, k: string, s: string) => string } }).T;
    const bytes = (s: string) => Buffer.from(s, "latin1");
    let msg = "";
    for (let i = 0; i < 300; i++) msg += String.fromCharCode(i * 7 & 255);
    const parts = [msg.substr(0, 1), msg.substr(1, 63), msg.substr(64, 65), msg.substr(129)];
    assert.equal(T.sha1(parts), createHash("sha1").update(bytes(msg)).digest("hex"));
    for (let k = 0; k <= 100; k += 5) {
      const key = msg.substr(50, k);
      assert.equal(T.hmacHex("hmacsha1", key, msg.substr(0, k * 2)), createHmac("sha1", bytes(key)).update(bytes(msg.substr(0, k * 2))).digest("hex"), `key ${k}`);
    }
  });

  it("--sign-methods hmacsha1,hmacmd5 adds MD5 and not SHA-256", async () => {
    const r = await build({ signMethods: ["hmacsha1", "hmacmd5"], outDir: path.join(tmp, "b"), log: () => undefined });
    assert.deepEqual(r.errors, []);
    const fw = fs.readFileSync(path.join(tmp, "b", "firmware.js"), "utf8");
    assert.ok(fw.includes(MD5_MARK) && !fw.includes(SHA256_MARK));
  });

  it("the command line rejects an unknown method by name", () => {
    assert.throws(() => parseSignMethods("hmacsha1,hmacsha512"), /hmacsha512/);
    const r = spawnSync(process.execPath, ["--import", "tsx", "build/build.ts", "--sign-methods", "md4", "--out-dir", path.join(tmp, "c")], { cwd: ROOT, encoding: "utf8" });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /unknown sign method "md4"/);
  });

  it("a method left out of the build throws an Error naming it, the built one still signs", async () => {
    const r = await esbuild.build(Object.assign({}, deviceBase, {
      absWorkingDir: ROOT, write: false, metafile: false, format: "iife" as const,
      stdin: { contents: 'import { hmacHex, signMethodBuilt } from "./firmware/crypto/hmac"; T = { hmacHex, signMethodBuilt };', resolveDir: ROOT, loader: "ts" as const },
      define: signDefines(["hmacsha1"]),
    }));
    const ctx = vm.createContext({});
    vm.runInContext((r.outputFiles || [])[0].text, ctx);
    const T = (ctx as { T: { hmacHex: (m: string, k: string, s: string) => string; signMethodBuilt: (m: string) => boolean } }).T;
    assert.equal(T.signMethodBuilt("hmacmd5"), false);
    assert.equal(T.signMethodBuilt("hmacsha1"), true);
    assert.throws(() => T.hmacHex("hmacmd5", "secret", "x"), (e: { message: string }) => e.message === "sign method not built in: hmacmd5");
    assert.equal(T.hmacHex("hmacsha1", "secret", "clientId12345deviceNamedeviceproductKeypktimestamp789"), "fafd82a3d602b37fb0fa8b7892f24a477f851a14");
  });

  it("gate failures stop the build and remove the script", async () => {
    const r = await build({ signMethods: ["hmacsha1"], outDir: path.join(tmp, "d"), firmwareEntry: "build/fixtures/label.js", log: () => undefined });
    assert.equal(r.ok, false);
    assert.ok(r.errors.some((e) => /firmware\.js:\d+:\d+: \[label\]/.test(e)), r.errors.join("\n"));
    assert.equal(fs.existsSync(path.join(tmp, "d", "firmware.js")), false);
  });
});

describe("build: size report and budgets", () => {
  it("areas come from paths, so new modules need no list", () => {
    assert.equal(areaOf("firmware/crypto/sha1.ts"), "crypto");
    assert.equal(areaOf("firmware/iot/new-thing.ts"), "protocol");
    assert.equal(areaOf("sensors/sht3x.ts"), "sensors");
    assert.equal(areaOf("platform/espruino/boot.ts"), "platform");
    assert.equal(areaOf("firmware/app.ts"), "app");
    assert.equal(areaOf("node_modules/x/index.js"), "other");
  });

  it("sums modules per area, counts the rest as wrapper, and flags each area over budget", () => {
    const meta = { inputs: {}, outputs: { "dist/x.js": { bytes: 0, imports: [], exports: [], inputs: {
      "firmware/crypto/sha1.ts": { bytesInOutput: 700 }, "firmware/crypto/hmac.ts": { bytesInOutput: 200 },
      "sensors/dht22.ts": { bytesInOutput: 500 } } } } } as unknown as esbuild.Metafile;
    const r = sizeReport(meta, "dist/x.js", 1500);
    assert.deepEqual(r.areas, { crypto: 900, sensors: 500, wrapper: 100 });
    assert.deepEqual(overBudget(r, { crypto: 1000, sensors: 500, total: 2000 }), []);
    const over = overBudget(r, { crypto: 899, total: 1499 });
    assert.equal(over.length, 2);
    assert.match(over[0], /crypto is 900 bytes, over its budget of 899/);
  });

  it("extra signmethods raise the crypto and total budgets by their allowance", () => {
    const base = loadBudgets(["hmacsha1"]).firmware;
    const more = loadBudgets(["hmacsha1", "hmacsha256"]).firmware;
    assert.ok(more.crypto > base.crypto && more.total - base.total === more.crypto - base.crypto);
  });
});
