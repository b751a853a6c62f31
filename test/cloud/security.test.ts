// Attacks on the local IoT Platform (docs/security.md), as real requests against a started platform:
// each test is what an attacker on the LAN or a web page in the user's browser would send.
import { strict as assert } from "node:assert";
import Database from "better-sqlite3";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Cloud, startCloud } from "../../emulator/cloud/server";
import { Device, auth, authFields, codeOf, platformTime, propertyPost, publish, send, token } from "./client";

const MIN = 60 * 1000;

/** Sends raw bytes and resolves with everything the server sent back (or "" on a reset) once it closes. */
function rawExchange(port: number, write: (s: net.Socket) => void, giveUpMs: number): Promise<{ text: string; closedAfterMs: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const s = net.connect(port, "127.0.0.1");
    let text = "";
    let done = false;
    const end = () => {
      if (done) return;
      done = true;
      clearTimeout(guard);
      s.destroy();
      resolve({ text, closedAfterMs: Date.now() - t0 });
    };
    const guard = setTimeout(end, giveUpMs);
    s.on("connect", () => write(s));
    s.on("data", (d) => (text += d.toString("latin1")));
    s.on("close", end);
    s.on("error", end);
  });
}

describe("local IoT Platform: attacks (docs/security.md)", function () {
  this.timeout(30000);
  let dataDir: string;
  let cloud: Cloud;
  let dev: Device;
  const lines: string[] = [];

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "cloud-sec-"));
    cloud = await startCloud({ dataDir, log: (l) => lines.push(l), requestTimeoutMs: 1500, timeoutCheckMs: 250, maxSseClients: 3, sseMaxBufferedBytes: 64 * 1024 });
    dev = cloud.registerDevice("a1secPK0001", "victim-1");
  });
  after(async () => {
    await cloud?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  describe("/auth replay", () => {
    it("refuses an untimed /auth (its sign never changes, so a captured body would work for ever)", async () => {
      const r = await auth(cloud.httpsUrl, dev, "hmacsha1");
      assert.equal(codeOf(r), 10001);
      assert.match(JSON.parse(r.text).message, /timestamp required/);
      // The same body replayed 20 times gets no token either.
      const body = JSON.stringify(authFields(dev, "c1", "hmacsha1"));
      for (let i = 0; i < 20; i++) assert.notEqual(codeOf(await send(`${cloud.httpUrl}/auth`, "POST", { "Content-Type": "application/json" }, body)), 0);
    });

    it("accepts an untimed /auth when started with allowUntimedAuth (as Alibaba's endpoint does)", async () => {
      const dir = mkdtempSync(join(tmpdir(), "cloud-sec-untimed-"));
      const lax = await startCloud({ dataDir: dir, allowUntimedAuth: true });
      try {
        const d = lax.registerDevice("a1secPK0001", "lax-1");
        assert.equal(codeOf(await auth(lax.httpsUrl, d, "hmacsha1")), 0);
      } finally {
        await lax.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("answers GET /auth (the device's time request) with a Date in platform time", async () => {
      const r = await send(`${cloud.httpsUrl}/auth`, "GET", {});
      assert.equal(r.status, 405);
      assert.ok(Math.abs(Date.parse(String(r.headers.date)) - Date.now()) < 2000);
      assert.equal(codeOf(await auth(cloud.httpsUrl, dev, "hmacsha1", await platformTime(cloud.httpsUrl))), 0, "a timed /auth from that time works");
    });

    it("replaying one timed body gets at most the per-device allowance of tokens, then 40000", async () => {
      const d = cloud.registerDevice("a1secPK0001", "replayed-1");
      const body = JSON.stringify(authFields(d, "c1", "hmacsha1", Date.now()));
      const codes: number[] = [];
      for (let i = 0; i < 30; i++) codes.push(codeOf(await send(`${cloud.httpUrl}/auth`, "POST", { "Content-Type": "application/json" }, body)));
      assert.equal(codes.filter((c) => c === 0).length, 10, codes.join(","));
      assert.deepEqual(codes.slice(10), new Array(20).fill(40000));
      // Bad signs in another device's name do not use up its allowance.
      const other = cloud.registerDevice("a1secPK0001", "replayed-2");
      for (let i = 0; i < 12; i++) await auth(cloud.httpUrl, { ...other, deviceSecret: "wrong" }, "hmacsha1", Date.now());
      assert.equal(codeOf(await auth(cloud.httpUrl, other, "hmacsha1", Date.now())), 0);
      // Outside the 15-minute window the same body is worthless.
      const old = JSON.stringify(authFields(d, "c1", "hmacsha1", Date.now() - 16 * MIN));
      assert.equal(codeOf(await send(`${cloud.httpUrl}/auth`, "POST", { "Content-Type": "application/json" }, old)), 20000);
    });
  });

  describe("unauthenticated requests", () => {
    it("300 publishes with a bad token naming a real device store nothing and are cut to 40000", async () => {
      const dir = mkdtempSync(join(tmpdir(), "cloud-sec-flood-"));
      const c = await startCloud({ dataDir: dir });
      try {
        const d = c.registerDevice("a1secPK0001", "flooded-1");
        const db = join(dir, "platform.db");
        const rows = () => {
          const x = new Database(db, { readonly: true, fileMustExist: true });
          try {
            return (x.prepare("SELECT COUNT(*) AS n FROM messages").get() as { n: number }).n;
          } finally {
            x.close();
          }
        };
        const p = propertyPost(d, "1", '{"temperature":"' + "x".repeat(4000) + '"}');
        const codes: Record<number, number> = {};
        for (let i = 0; i < 300; i++) {
          const code = codeOf(await publish(c.httpUrl, i % 2 ? "forged-token-" + i : null, p.topic, p.payload));
          codes[code] = (codes[code] ?? 0) + 1;
        }
        assert.equal(rows(), 0, "no message stored");
        assert.equal(c.messages(d.productKey, d.deviceName).length, 0);
        assert.ok((codes[40000] ?? 0) >= 250, JSON.stringify(codes));
        assert.ok(statSync(db).size + (statSync(db + "-wal", { throwIfNoEntry: false })?.size ?? 0) < 200 * 1024, "database did not grow");
      } finally {
        await c.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("refused auths from one address are cut to 40000 after the allowance", async () => {
      const dir = mkdtempSync(join(tmpdir(), "cloud-sec-guess-"));
      const c = await startCloud({ dataDir: dir });
      try {
        const codes: number[] = [];
        for (let i = 0; i < 40; i++) {
          const d = { productKey: "a1secPK0001", deviceName: "guess-" + i, deviceSecret: "wrong" };
          codes.push(codeOf(await auth(c.httpUrl, d, "hmacsha1", Date.now())));
        }
        assert.deepEqual(codes.slice(0, 30), new Array(30).fill(20000));
        assert.deepEqual(codes.slice(30), new Array(10).fill(40000));
      } finally {
        await c.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("admin API and dashboard from a web page (DNS rebinding, cross-origin POST)", () => {
    it("refuses a request whose Host is not an IP literal or a known name, even from loopback", async () => {
      const r = await send(`${cloud.httpUrl}/admin/devices`, "POST", { Host: "rebind.attacker.example", "Content-Type": "application/json" }, JSON.stringify({ productKey: dev.productKey, deviceName: dev.deviceName }));
      assert.equal(r.status, 421);
      assert.ok(!r.text.includes(dev.deviceSecret));
      assert.equal((await send(`${cloud.httpUrl}/admin/devices`, "GET", { Host: "rebind.attacker.example:8080" })).status, 421);
      assert.equal((await send(`${cloud.httpUrl}/api/state`, "GET", { Host: "rebind.attacker.example" })).status, 421);
      assert.equal((await send(`${cloud.httpUrl}/`, "GET", { Host: "rebind.attacker.example" })).status, 421);
      // The names a user types still work.
      for (const host of ["127.0.0.1:8080", "localhost:8080", "[::1]:8080", "192.168.1.20"]) assert.equal((await send(`${cloud.httpUrl}/api/state`, "GET", { Host: host })).status, 200, host);
      // Devices may use any name for the endpoint.
      assert.equal((await send(`${cloud.httpUrl}/auth`, "GET", { Host: "iot.example" })).status, 405);
    });

    it("refuses a cross-origin text/plain POST (a form or no-cors fetch): no device is created", async () => {
      const before = JSON.parse((await send(`${cloud.httpUrl}/admin/devices`, "GET", {})).text).length;
      for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
        const r = await send(`${cloud.httpUrl}/admin/devices`, "POST", { "Content-Type": type, Origin: "http://evil.example" }, '{"deviceName":"csrf-1"}');
        assert.equal(r.status, 415, type);
      }
      assert.equal((await send(`${cloud.httpUrl}/admin/devices`, "POST", {})).status, 415, "no body, no type");
      assert.equal((await send(`${cloud.httpUrl}/admin/faults`, "POST", { "Content-Type": "text/plain" }, '{"code":20000}')).status, 415);
      assert.equal(JSON.parse((await send(`${cloud.httpUrl}/admin/devices`, "GET", {})).text).length, before);
    });

    it("listening beyond loopback, the admin API takes a bearer token, kept in a 0600 file", async function () {
      const dir = mkdtempSync(join(tmpdir(), "cloud-sec-lan-"));
      const c = await startCloud({ dataDir: dir, host: "0.0.0.0" });
      try {
        assert.ok(c.adminToken && c.adminToken.length >= 32);
        assert.equal(statSync(join(dir, "admin-token")).mode & 0o777, 0o600);
        const json = { "Content-Type": "application/json" };
        assert.equal((await send(`${c.httpUrl}/admin/devices`, "POST", json, "{}")).status, 401);
        assert.equal((await send(`${c.httpUrl}/admin/devices`, "POST", { ...json, authorization: "Bearer wrong" }, "{}")).status, 401);
        assert.equal((await send(`${c.httpUrl}/admin/devices`, "POST", { ...json, authorization: `Bearer ${c.adminToken}` }, "{}")).status, 200);
      } finally {
        await c.close();
        rmSync(dir, { recursive: true, force: true });
      }
      assert.equal(cloud.adminToken, null, "on loopback only, no token is needed");
    });
  });

  describe("data at rest", () => {
    it("keeps the data folder 0700 and its files 0600, and stores tokens hashed", async () => {
      const tok = await token(cloud.httpsUrl, dev, "hmacsha1");
      const p = propertyPost(dev, "1", '{"temperature":21.5}');
      assert.equal(codeOf(await publish(cloud.httpsUrl, tok, p.topic, p.payload)), 0, "the token works");
      assert.equal(statSync(dataDir).mode & 0o777, 0o700);
      assert.equal(statSync(join(dataDir, "certs")).mode & 0o777, 0o700);
      const files = readdirSync(dataDir).filter((f) => f.startsWith("platform.db"));
      assert.ok(files.includes("platform.db-wal"), files.join(","));
      for (const f of files) assert.equal(statSync(join(dataDir, f)).mode & 0o777, 0o600, f);
      for (const f of readdirSync(join(dataDir, "certs"))) assert.equal(statSync(join(dataDir, "certs", f)).mode & 0o777, 0o600, f);
      const x = new Database(join(dataDir, "platform.db"), { readonly: true });
      try {
        const dump = JSON.stringify(x.prepare("SELECT * FROM token_hashes").all());
        assert.ok(!dump.includes(tok), "token not in the clear");
        assert.ok(dump.length > 20, "a row is there");
      } finally {
        x.close();
      }
    });
  });

  describe("resources", () => {
    it("caps live dashboards (SSE) and drops one that does not read", async () => {
      const port = Number(new URL(cloud.httpUrl).port);
      const get = "GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
      const socks: net.Socket[] = [];
      try {
        for (let i = 0; i < 3; i++) {
          const s = net.connect(port, "127.0.0.1");
          socks.push(s);
          await new Promise<void>((ok) => s.once("data", () => ok()).write(get));
          if (i === 0) s.pause(); // never reads again
        }
        const fourth = await rawExchange(port, (s) => s.write(get), 3000);
        assert.match(fourth.text, /^HTTP\/1\.1 503/);
        // Broadcast far more than a socket buffers: the paused client is dropped, the others are served.
        const d = cloud.registerDevice("a1secPK0001", "chatty-1");
        const tok = await token(cloud.httpUrl, d, "hmacsha1");
        const big = '{"id":"1","version":"1.0","params":{"note":"' + "y".repeat(100000) + '"},"method":"thing.event.property.post"}';
        // The paused client's socket buffers fill, then its backlog passes 64 KB and the next event drops it.
        let fifth = "";
        for (let i = 0; i < 400 && !/^HTTP\/1\.1 200/.test(fifth); i++) {
          await publish(cloud.httpUrl, tok, `/${d.productKey}/${d.deviceName}/user/x`, big);
          if (i % 20 === 19) fifth = (await rawExchange(port, (s) => s.write(get), 300)).text;
        }
        assert.match(fifth, /^HTTP\/1\.1 200/, "the client that does not read was dropped: its place is free again");
      } finally {
        for (const s of socks) s.destroy();
      }
    });

    it("cuts a request whose body trickles in (1 byte at a time) at the request timeout", async () => {
      const port = Number(new URL(cloud.httpUrl).port);
      let timer: NodeJS.Timeout | undefined;
      const r = await rawExchange(
        port,
        (s) => {
          s.write("POST /auth HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n");
          timer = setInterval(() => s.write("x"), 200);
        },
        10000,
      );
      clearInterval(timer);
      assert.ok(r.closedAfterMs < 5000, `closed after ${r.closedAfterMs} ms`);
      assert.match(r.text, /^HTTP\/1\.1 408|^$/);
    });
  });

  describe("hostile fields", () => {
    it("escapes control characters of request fields in log lines (no forged lines)", async () => {
      lines.length = 0;
      const forged = { productKey: "a1secPK0001\n2026-01-01T00:00:00Z auth ok", deviceName: "x\r\u2028y", deviceSecret: "s" };
      const a = await auth(cloud.httpUrl, forged, "hmacsha1", Date.now());
      assert.equal(codeOf(a), 20000, a.text);
      await publish(cloud.httpUrl, "t", "/sys/a\nb/c/thing/event/property/post", "{}");
      assert.ok(lines.length >= 2, JSON.stringify(lines));
      // eslint-disable-next-line no-control-regex -- looking for control characters
      for (const l of lines) assert.ok(!/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(l), JSON.stringify(l));
      assert.ok(lines.some((l) => l.includes("a1secPK0001\\x0a2026")), lines.join(" | "));
    });

    it("answers signmethod \"constructor\" (or any Object.prototype name) with a clean 10001", async () => {
      for (const m of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
        const body = { ...authFields(dev, "c1", "hmacsha1", Date.now()), signmethod: m };
        const r = await send(`${cloud.httpUrl}/auth`, "POST", { "Content-Type": "application/json" }, JSON.stringify(body));
        assert.equal(codeOf(r), 10001, m);
        assert.ok(!/TypeError|argument|Received/i.test(r.text), r.text);
      }
    });

    it("checks a property named \"constructor\" or \"toString\" as one the thing model does not have", async () => {
      const tok = await token(cloud.httpUrl, dev, "hmacsha1");
      const p = propertyPost(dev, "77", '{"constructor":1.5,"toString":2.5}');
      assert.equal(codeOf(await publish(cloud.httpUrl, tok, p.topic, p.payload)), 0);
      const m = cloud.messages(dev.productKey, dev.deviceName)[0];
      assert.equal(m.payload, p.payload);
      assert.deepEqual(m.checks, ['property "constructor" is not in the thing model', 'property "toString" is not in the thing model']);
    });
  });
});
