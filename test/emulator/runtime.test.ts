// The emulated Espruino runtime, driven by small Espruino-style scripts: API surface, virtual
// clock, Storage rules, deep sleep/reboot, HTTP quirks over real sockets, DHT22 on the pin.
import { strict as assert } from "node:assert";
import * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import { generate } from "selfsigned";
import { bench } from "../../emulator/runtime/harness";
import { checkCode } from "../../emulator/runtime/device";
import { decodeDht22 } from "../../sensors/dht22";

function lastJson(lines: string[], tag: string): Record<string, unknown> {
  const l = lines.filter((x) => x.startsWith(tag + " ")).pop();
  assert.ok(l, "no line " + tag + " in:\n" + lines.join("\n"));
  return JSON.parse(l.slice(tag.length + 1));
}

describe("emulated Espruino runtime", function () {
  it("has the Espruino globals and none of Node's", async function () {
    // aliases keep the static gate out of the way: this checks the context itself (process.env is
    // Espruino's board info, which the espruino CLI reads, not Node's environment)
    const b = bench(`var pr = process, rq = require; console.log("G " + JSON.stringify({
      buffer: typeof Buffer, global: typeof global, imm: typeof setImmediate, env: pr.env && pr.env.HOME === undefined && pr.env.BOARD,
      map: typeof Map, sym: typeof Symbol, isInt: typeof Number.isInteger, from: typeof Array.from,
      mem: process.memory().total > 1000, st: typeof require("Storage").open, http: typeof require("http").request,
      esp: typeof ESP32.deepSleep, e: typeof E.reboot, watch: typeof setWatch, d4: String(D4),
      t: getTime() < 5, frac: Date.now() !== Math.floor(Date.now()) || Date.now() === 0 }));
      var r = "";
      try { rq("fs"); } catch (e) { r = e.message; }
      console.log("R " + JSON.stringify(r));`);
    await b.run(1000);
    assert.deepEqual(lastJson(b.lines, "G"), {
      buffer: "undefined", global: "undefined", imm: "undefined", env: "ESP32", map: "undefined", sym: "undefined",
      isInt: "undefined", from: "undefined", mem: true, st: "function", http: "function", esp: "function", e: "function",
      watch: "function", d4: "D4", t: true, frac: true,
    });
    assert.equal(lastJson(b.lines, "R") as unknown, "Module fs not found");
  });

  it("refuses a script that uses a Node global, before running any of it", async function () {
    const b = bench(`console.log("ran"); var b = Buffer.from("x");`);
    await b.run(1000);
    assert.deepEqual(b.lines.filter((l) => l === "ran"), []);
    assert.match(String(b.device.stats.refused), /Buffer \(line 1\)/);
    assert.match(String(checkCode("var e = process.env.HOME;")), /process\.env\.HOME/);
    // Espruino's own process.env: the board's build info, MODULES among it (boot.ts asks it for Wifi)
    assert.equal(checkCode('var w = process.env.MODULES.indexOf("Wifi") >= 0;'), null);
    assert.match(String(checkCode('var f = require("node:fs");')), /require\("node:fs"\)/);
    assert.equal(checkCode("if (typeof Buffer !== 'undefined') x = 1; var global2 = 3; process.memory();"), null);
  });

  it("runs a simulated day of 60 s timers in well under a second of wall time, with getTime/setTime", async function () {
    const b = bench(`var n = 0; setTime(1700000000);
      var id = setInterval(function () { n++; }, 60000);
      setTimeout(function () { clearInterval(id); console.log("N " + JSON.stringify({ n: n, t: Math.round(getTime()) })); }, 86400000 + 30000);`);
    const t0 = Date.now();
    await b.run(86400000 + 60000);
    const wall = Date.now() - t0;
    assert.deepEqual(lastJson(b.lines, "N"), { n: 1440, t: 1700000000 + 86430 });
    assert.ok(wall < 3000, "wall " + wall);
  });

  it("keeps Storage across reboots and enforces the flash rules", async function () {
    const code = `var s = require("Storage");
      var boots = (s.readJSON("boots", true) || 0) + 1; s.writeJSON("boots", boots);
      var f = s.open("log", "a"); f.write("boot " + boots + "\\n");
      var out = { boots: boots, lines: [] }, l, r = s.open("log", "r");
      while ((l = r.readLine()) !== undefined) out.lines.push(l);
      try { s.write("a23456789012345678901234567890", "x"); out.long = "ok"; } catch (e) { out.long = "throws"; }
      s.write("rec", "AAAA", 0, 8); s.write("rec", "\\x0f\\xf0", 4); s.write("rec", "\\xf0", 4);
      out.rec = s.read("rec").split("").map(function (c) { return c.charCodeAt(0); });
      var g = s.open("ff", "w"); g.write("ab\\xffcd"); out.ff = s.open("ff", "r").read(100);
      out.free = s.getFree() > 1000;
      console.log("S " + JSON.stringify(out));
      if (boots < 3) setTimeout(function () { E.reboot(); }, 1000);`;
    const b = bench(code);
    await b.run(10000);
    const s = lastJson(b.lines, "S");
    assert.equal(s.boots, 3);
    assert.deepEqual(s.lines, ["boot 1\n", "boot 2\n", "boot 3\n"]);
    assert.equal(s.long, "throws");
    // bytes already written only lose bits (flash ANDs): 0x0f & 0xf0 = 0
    assert.deepEqual(s.rec, [65, 65, 65, 65, 0, 0xf0, 255, 255]);
    assert.equal(s.ff, "ab");
    assert.equal(s.free, true);
    assert.deepEqual(b.device.stats.bootsByCause, { power: 1, reboot: 2 });
    // a second device on the same flash file sees the same Storage
    const again = bench("", { flashFile: b.flash.file! });
    assert.equal(again.flash.get("boots")!.toString("latin1"), "3");
  });

  it("deep sleep ends the context, loses RAM and the clock, and boots .bootcde after the sleep", async function () {
    const b = bench(`var s = require("Storage"); var n = (s.readJSON("n", true) || 0) + 1; s.writeJSON("n", n);
      console.log("B " + JSON.stringify({ n: n, cause: ESP32.getWakeupCause(), t: Math.round(getTime()), ram: typeof ramVar }));
      var ramVar = 1; setTime(1700000000);
      setTimeout(function () { ESP32.deepSleep(20e6); console.log("not reached"); }, 100);`);
    await b.run(65000);
    const boots = b.lines.filter((l) => l.startsWith("B ")).map((l) => JSON.parse(l.slice(2)));
    assert.equal(boots.length, 4);
    assert.deepEqual(boots[3], { n: 4, cause: 4, t: 0, ram: "undefined" });
    assert.equal(boots[0].cause, 0);
    assert.ok(!b.lines.includes("not reached"));
  });

  it("deepSleep past the int32 limit wraps and never wakes", async function () {
    const b = bench(`console.log("boot"); ESP32.deepSleep(3000e6);`);
    await b.run(4000e3);
    assert.equal(b.lines.filter((l) => l === "boot").length, 1);
    assert.ok(b.events.some((e) => /never wakes/.test(e)));
  });

  it("power loss during a StorageFile append leaves a torn prefix (knob)", async function () {
    const b = bench(`var f = require("Storage").open("q", "a"); var n = require("Storage").open("q", "r").getLength();
      console.log("len " + n); if (n === 0) f.write("0123456789\\n");`);
    b.device.cutPowerOnWrite(1, 4, 1000);
    await b.run(5000);
    assert.deepEqual(b.lines.filter((l) => l.startsWith("len")), ["len 0", "len 4"]);
    assert.equal(b.device.stats.bootsByCause.power, 2);
  });

  it("an unkicked watchdog reboots; E.on('init') runs after the boot code; load() keeps the clock", async function () {
    const b = bench(`var s = require("Storage"); var n = (s.readJSON("n", true) || 0) + 1; s.writeJSON("n", n);
      var order = ["code"]; E.on("init", function () { order.push("init"); console.log("I " + JSON.stringify({ n: n, order: order, t: Math.round(getTime()) })); });
      if (n === 1) { E.enableWatchdog(5, false); setInterval(function () {}, 1000); }
      if (n === 2) { setTime(1000); setTimeout(function () { load(); }, 2000); }`);
    await b.run(10000);
    const boots = b.lines.filter((l) => l.startsWith("I ")).map((l) => JSON.parse(l.slice(2)));
    assert.deepEqual(boots.map((x) => x.order), [["code", "init"], ["code", "init"], ["code", "init"]]);
    assert.equal(boots[2].t, 1002);
    assert.equal(b.device.stats.bootsByCause.watchdog, 1);
    assert.equal(b.device.stats.bootsByCause.load, 1);
  });

  it("a Wi-Fi drop emits disconnected and requests throw until the station is back", async function () {
    const b = bench(`var W = require("Wifi"), out = [];
      W.on("disconnected", function (d) { out.push("disc " + d.reason); });
      function t() { try { require("http").request({ host: "127.0.0.1", port: 9, path: "/" }, function () {}).end(); } catch (e) { out.push(e.message); } }
      setTimeout(t, 2000);
      setTimeout(function () { W.connect("ap", { password: "x" }, function (err) { out.push("connect " + err); }); }, 3000);
      setTimeout(function () { W.connect("ap", { password: "x" }, function (err) { out.push("connect " + err); console.log("W " + JSON.stringify(out)); }); }, 12000);`,
      { wifiAtBoot: "off" });
    b.sched.at(1000, () => b.device.wifiDrop(8000));
    await b.run(15000);
    assert.deepEqual(lastJson(b.lines, "W"), ["Not connected to the internet", "connect no_ap_found", "disc no_ap_found", "connect null"]);
  });

  describe("http over real sockets", function () {
    let server: http.Server;
    let tlsServer: https.Server;
    let port = 0;
    let tlsPort = 0;
    const seen: { head: http.IncomingHttpHeaders; body: string; version: string }[] = [];
    before(async function () {
      const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
          seen.push({ head: req.headers, body: Buffer.concat(chunks).toString("latin1"), version: req.httpVersion });
          res.setHeader("Content-Type", "application/json");
          res.end(Buffer.from('{"code":0,"v":"\u00e9"}', "latin1"));
        });
      };
      server = http.createServer(handler);
      const pems = await generate([{ name: "commonName", value: "localhost" }], { keySize: 2048 });
      tlsServer = https.createServer({ key: pems.private, cert: pems.cert }, handler);
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      await new Promise<void>((r) => tlsServer.listen(0, "127.0.0.1", r));
      port = (server.address() as AddressInfo).port;
      tlsPort = (tlsServer.address() as AddressInfo).port;
    });
    after(function () {
      server.close();
      tlsServer.close();
    });

    it("sends Connection: close, no automatic Content-Length, byte-string bodies; string statusCode", async function () {
      const b = bench(`var http = require("http"); var ev = [];
        function go(body, len) {
          var h = { "Content-Type": "text/plain" }; if (len) h["Content-Length"] = String(body.length);
          var req = http.request({ host: "127.0.0.1", port: ${port}, path: "/p", method: "POST", headers: h }, function (res) {
            var d = ""; res.on("data", function (c) { d += c; });
            res.on("close", function () { ev.push({ st: res.statusCode, type: typeof res.statusCode, d: d.charCodeAt(d.length - 3) }); });
          });
          req.on("error", function (e) { ev.push({ err: e.code }); });
          req.end(body);
        }
        go("\\xe9\\x01abc", true);
        setTimeout(function () { console.log("E " + JSON.stringify(ev)); }, 3000);`);
      seen.length = 0;
      await b.run(4000);
      const ev = lastJson(b.lines, "E") as unknown as unknown[];
      assert.deepEqual(ev, [{ st: "200", type: "string", d: 0xe9 }]);
      assert.equal(seen[0].head.connection, "close");
      assert.equal(seen[0].version, "1.0");
      assert.equal(Buffer.from(seen[0].body, "latin1").toString("hex"), "e901616263");
      assert.equal(b.device.stats.net.requests, 1);
    });

    it("writes the request bytes as Espruino does (no Content-Length unless given)", async function () {
      let raw = "";
      const sink = net.createServer((s) => {
        s.on("data", (d) => {
          raw += d.toString("latin1");
          s.end("HTTP/1.1 204 No Content\r\n\r\n");
        });
      });
      await new Promise<void>((r) => sink.listen(0, "127.0.0.1", r));
      const p = (sink.address() as AddressInfo).port;
      const b = bench(`require("http").request({ host: "127.0.0.1", port: ${p}, path: "/t?x=1", method: "POST", headers: { "X-A": "1" } },
        function (res) { console.log("S " + JSON.stringify(res.statusCode)); }).end("body");`);
      await b.run(2000);
      sink.close();
      assert.equal(raw, "POST /t?x=1 HTTP/1.0\r\nUser-Agent: Espruino 2v29\r\nConnection: close\r\nHost: 127.0.0.1:" + p + "\r\nX-A: 1\r\n\r\nbody");
      assert.equal(lastJson(b.lines, "S") as unknown, "204");
    });

    it("HTTPS: one handshake per request, error -30848 before close", async function () {
      const b = bench(`var ev = [];
        var req = require("http").request({ host: "127.0.0.1", port: ${tlsPort}, path: "/auth", method: "POST", protocol: "https:",
          headers: { "Content-Length": "2" } }, function (res) {
          res.on("data", function () { ev.push("data"); }); res.on("close", function () { ev.push("res close"); });
        });
        req.on("error", function (e) { ev.push("error " + e.code); }); req.on("close", function () { ev.push("req close"); });
        req.end("{}"); setTimeout(function () { console.log("E " + JSON.stringify(ev)); }, 3000);`);
      await b.run(4000);
      assert.deepEqual(lastJson(b.lines, "E"), ["data", "error -30848", "res close", "req close"]);
      assert.equal(b.device.stats.net.tlsHandshakes, 1);
      assert.ok(b.device.stats.net.bytesSent > 200, "TLS records counted");
    });

    it("throws synchronously for a refused port and an unresolvable host; no request timeouts", async function () {
      const closed = http.createServer();
      await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
      const deadPort = (closed.address() as AddressInfo).port;
      await new Promise<void>((r) => closed.close(() => r()));
      const b = bench(`var out = [];
        function t(host, port) { try { require("http").request({ host: host, port: port, path: "/" }, function () {}).end(); out.push("no throw"); }
          catch (e) { out.push(e.message); } }
        t("127.0.0.1", ${deadPort}); t("no-such-host.invalid", 80);
        console.log("T " + JSON.stringify(out));`);
      await b.run(1000);
      assert.deepEqual(lastJson(b.lines, "T"), ["Unable to create socket", "Unable to locate host"]);
      assert.equal(b.device.stats.net.errorsByCode["throw: Unable to create socket"], 1);
    });
  });

  it("a simulated DHT22 answers a >= 1 ms start pulse with its pulse train through setWatch", async function () {
    const b = bench(`var hi = [], rise = -1, early = [];
      function read(lowMs, done) {
        hi = []; rise = -1;
        pinMode(D4, "output"); digitalWrite(D4, 0);
        var w = setWatch(function (e) { if (e.state) rise = e.time; else if (rise >= 0) { hi.push(Math.round((e.time - rise) * 1e6)); rise = -1; } },
          D4, { repeat: true, edge: "both", debounce: 0 });
        setTimeout(function () { pinMode(D4, "input_pullup"); setTimeout(function () { clearWatch(w); done(hi); }, 20); }, lowMs);
      }
      read(1, function (a) { console.log("A " + JSON.stringify(a)); read(0.2, function (z) { console.log("Z " + JSON.stringify(z)); }); });`);
    await b.run(3000);
    const a = lastJson(b.lines, "A") as unknown as number[];
    assert.equal(a.length, 42);
    const r = decodeDht22(a);
    assert.ok(r.ok);
    const f = b.sensor.frames[0];
    assert.deepEqual([r.temperature, r.humidity], [f.temperature, f.humidity]);
    const c = b.sensor.climateAt(f.wallMs);
    assert.ok(Math.abs(f.temperature - c.temperature) < 1 && Math.abs(f.humidity - c.humidity) < 3);
    // a start pulse shorter than 1 ms gets no answer: only the host's own release edge
    assert.deepEqual(lastJson(b.lines, "Z"), []);
    assert.equal(b.sensor.noAnswers, 1);
  });
});
