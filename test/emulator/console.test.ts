// LAN push end to end: flash.sh with the real espruino CLI over TCP against the emulated telnet
// console of an emulated device; what lands in its Storage and what it boots afterwards.
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as net from "node:net";
import * as path from "node:path";
import { bench } from "../../emulator/runtime/harness";
import { startConsole } from "../../emulator/runtime/console";

const ROOT = path.resolve(__dirname, "../..");

function flash(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile("bash", [path.join(ROOT, "flash.sh"), ...args], { cwd: ROOT, timeout: 90000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr });
    });
  });
}

describe("LAN push: flash.sh --port tcp://... with the espruino CLI against the emulated console", function () {
  this.timeout(120000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lan-push-"));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function push(extra: string[], seed: (files: { put(n: string, d: string): void }) => void, more: object = {}) {
    const b = bench("", { fast: false, flashFile: path.join(dir, "flash-" + crypto.randomBytes(4).toString("hex") + ".json") });
    seed({ put: (n, d) => b.flash.put(n, d) });
    const started: string[] = [];
    b.device.onScript = (n) => started.push(n);
    const con = await startConsole(b.device);
    const running = b.run(600000);
    const creds = path.join(dir, "creds.json");
    // endpoint on a closed port: the firmware starts and fails its posts fast, nothing leaves the machine
    const device = { productKey: "a1pkLan", deviceName: "lan-1", deviceSecret: "Sx9fLq2ZtR7wPq0dVn4K", endpoint: "http://127.0.0.1:9", deepSleep: false, ...more };
    fs.writeFileSync(creds, JSON.stringify(device));
    try {
      const r = await flash(["--port", "tcp://127.0.0.1:" + con.port, "--no-build", "--credentials", creds, ...extra]);
      await new Promise((res) => setTimeout(res, 500));
      return { r, b, started, device };
    } finally {
      b.sched.stop();
      await running;
      await con.close();
      b.device.shutdown();
    }
  }

  it("--update-key: installs .boot0, fw.a, ota.pub and iot.json, drops an old .bootcde and OTA state, boots fw.a through the boot stage", async () => {
    const key = path.join(dir, "p1.lms.pub");
    fs.writeFileSync(key, "000000010000000600000003" + crypto.randomBytes(48).toString("hex") + "\n");
    // what flash.sh --no-build uploads: dist/ as it is now
    const boot0 = fs.readFileSync(path.join(ROOT, "dist/boot0.js"), "latin1");
    const firmware = fs.readFileSync(path.join(ROOT, "dist/firmware.js"), "latin1");
    const { r, b, started, device } = await push(["--update-key", key], (f) => {
      f.put(".bootcde", "print('old firmware');");
      f.put("ota.m0", '{"s":5,"c":"fw.b","v":"9.9.9"}');
      f.put("fw.b", "print('old B');");
    });
    assert.equal(r.code, 0, r.out);
    const fl = b.flash;
    assert.ok(fl.get(".boot0"), "no .boot0; Storage holds " + JSON.stringify(fl.names()) + "\n" + r.out.slice(-2000));
    assert.equal(fl.get(".boot0")!.toString("latin1"), boot0);
    assert.ok(fl.get("fw.a")!.toString("latin1") === firmware, "fw.a is not dist/firmware.js");
    assert.equal(fl.get("ota.pub")!.toString("latin1"), fs.readFileSync(key, "latin1").trim());
    assert.deepEqual(JSON.parse(fl.get("iot.json")!.toString("latin1")), device);
    for (const gone of [".bootcde", "ota.m0", "fw.b"]) assert.equal(fl.get(gone), undefined, gone + " still there");
    assert.ok((b.device.stats.bootsByCause.reset || 0) >= 1, "the CLI reset() the device first");
    assert.ok((b.device.stats.bootsByCause.load || 0) >= 1, "load() after the upload");
    // after load(): the boot stage ran and started the slot, and the firmware came up
    const i = started.lastIndexOf(".boot0");
    assert.ok(i >= 0 && started[i + 1] === "eval", JSON.stringify(started));
    assert.ok(b.lines.some((l) => l.indexOf("boot: a1pkLan/lan-1") >= 0), b.lines.join("\n"));
    assert.ok(!r.out.includes(device.deviceSecret), "the secret was printed");
  });

  it("without a key: plain .bootcde, the firmware boots from it", async () => {
    const firmware = fs.readFileSync(path.join(ROOT, "dist/firmware.js"), "latin1");
    const { r, b, started } = await push([], () => undefined);
    assert.equal(r.code, 0, r.out);
    assert.ok(b.flash.get(".bootcde")!.toString("latin1") === firmware, ".bootcde is not dist/firmware.js");
    assert.equal(b.flash.get(".boot0"), undefined);
    assert.ok(started.includes(".bootcde"), JSON.stringify(started));
    assert.ok(b.lines.some((l) => l.indexOf("boot: a1pkLan/lan-1") >= 0), b.lines.join("\n"));
    // no console key in iot.json: the firmware turned the Telnet console off at boot
    assert.equal(b.device.telnetMode, "off");
    assert.equal(b.device.consoleLocked, false);
  });

  it("a console locked by the firmware: flash.sh sends the password from the credentials first, then uploads; the new firmware locks it again", async () => {
    const pw = "Lan-Console-Pw-2026";
    const firmware = fs.readFileSync(path.join(ROOT, "dist/firmware.js"), "latin1");
    const { r, b } = await push([], (f) => f.put(".bootcde", `require("TelnetServer").setOptions({mode: "on"}); E.setPassword(${JSON.stringify(pw)}); E.lockConsole();`), { console: { password: pw } });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /console unlocked/);
    assert.ok(!r.out.includes(pw), "the password was printed");
    assert.ok(b.flash.get(".bootcde")!.toString("latin1") === firmware, ".bootcde is not dist/firmware.js");
    assert.ok(b.lines.some((l) => l.indexOf("boot: a1pkLan/lan-1") >= 0), b.lines.join("\n"));
    assert.equal(b.device.telnetMode, "on");
    assert.equal(b.device.consoleLocked, true, "the new firmware locked the console again");
  });
});

describe("emulated console: Telnet mode and the console lock", function () {
  this.timeout(20000);

  /** Connects, sends each chunk 150 ms apart, returns everything received (or "closed" when refused). */
  function talk(port: number, chunks: string[]): Promise<string> {
    return new Promise((resolve) => {
      let got = "";
      const s = net.connect(port, "127.0.0.1");
      s.on("data", (d: Buffer) => (got += d.toString("latin1")));
      s.on("error", () => resolve(got + "[closed]"));
      s.on("close", () => resolve(got + "[closed]"));
      s.on("connect", async () => {
        for (const c of chunks) {
          await new Promise((r) => setTimeout(r, 150));
          s.write(c);
        }
        await new Promise((r) => setTimeout(r, 300));
        s.end();
      });
    });
  }

  it("a locked console runs nothing for an unauthenticated client, and everything after the password", async () => {
    const b = bench(`E.setPassword("abcdefghijkl"); E.lockConsole(); var secretVar = 42;`, { fast: false });
    const con = await startConsole(b.device);
    const running = b.run(60000);
    try {
      await new Promise((r) => setTimeout(r, 400));
      const denied = await talk(con.port, ["secretVar\n", "\x10secretVar\n", "wrongpassword\n"]);
      assert.ok(!denied.includes("42"), denied);
      assert.match(denied, /password>/);
      assert.match(denied, /Invalid password/);
      const ok = await talk(con.port, ["abcdefghijkl\n", "secretVar\n"]);
      assert.match(ok, /Logged in/);
      assert.match(ok, /=42/);
    } finally {
      b.sched.stop();
      await running;
      await con.close();
      b.device.shutdown();
    }
  });

  it("TelnetServer.setOptions({mode: 'off'}) drops the client and refuses new ones", async () => {
    const b = bench(`setTimeout(function () { require("TelnetServer").setOptions({ mode: "off" }); }, 1500);`, { fast: false });
    const con = await startConsole(b.device);
    const running = b.run(60000);
    try {
      await new Promise((r) => setTimeout(r, 400));
      const first = await talk(con.port, ["1+1\n"]);
      assert.match(first, /=2/);
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(b.device.telnetMode, "off");
      const later = await talk(con.port, ["1+1\n"]);
      assert.ok(!later.includes("=2"), later);
    } finally {
      b.sched.stop();
      await running;
      await con.close();
      b.device.shutdown();
    }
  });
});
