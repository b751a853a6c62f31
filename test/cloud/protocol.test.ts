// Protocol tests of the local IoT Platform against the sheet (alibaba-http.md), over real sockets.
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { Cloud, startCloud } from "../../emulator/cloud/server";
import { CONFLICT_CHECK, REPEAT_CHECK, repeatTimes } from "../../emulator/cloud/db";
import { Device, auth, authFields, codeOf, propertyPost, publish, send, sign, token } from "./client";

const MIN = 60 * 1000;
const DAY = 24 * 60 * MIN;

describe("local IoT Platform: device protocol", function () {
  this.timeout(30000);
  let dataDir: string;
  let cloud: Cloud;
  let clock = Date.UTC(2025, 5, 1, 12, 0, 0);
  let dev: Device;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "cloud-test-"));
    // Untimed /auth allowed here, as on Alibaba's endpoint: these tests hold the platform to the sheet
    // (and authenticate one device many times with the clock frozen: a larger /auth allowance).
    cloud = await startCloud({ dataDir, now: () => clock, allowUntimedAuth: true, authThrottle: { perSec: 1, burst: 100 } });
    dev = cloud.registerDevice("a1testPK001", "sensor-1");
  });
  after(async () => {
    await cloud.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("the test client reproduces the sheet's sign vectors", () => {
    const msg = "clientId12345deviceNamedeviceproductKeypktimestamp789";
    assert.equal(sign("hmacmd5", "secret", msg), "14b198324fe55e1d3c88f2e705e201ee");
    assert.equal(sign("hmacsha1", "secret", msg), "fafd82a3d602b37fb0fa8b7892f24a477f851a14");
    assert.equal(sign("hmacsha256", "secret", msg), "6074a46a91b1ebb2cc4ea42790ad0e80202c9843859fc292e57c4eb19fad9e57");
  });

  describe("POST /auth", () => {
    for (const method of [undefined, "hmacmd5", "hmacsha1", "hmacsha256"] as const) {
      it(`accepts a correct ${method ?? "default (hmacmd5, no signmethod)"} sign over HTTPS and returns a token`, async () => {
        const r = await auth(cloud.httpsUrl, dev, method);
        assert.equal(r.status, 200);
        const j = JSON.parse(r.text);
        assert.equal(j.code, 0);
        assert.equal(j.message, "success");
        assert.equal(typeof j.info.token, "string");
        assert.ok(j.info.token.length >= 16);
      });
    }

    it("sends a Date header in platform time (devices set their clock from it)", async () => {
      const r = await auth(cloud.httpsUrl, dev, "hmacsha1");
      assert.equal(r.headers.date, new Date(clock).toUTCString());
    });

    it("accepts an upper-case hex sign and a timestamp inside the window, on plain HTTP too", async () => {
      const body = authFields(dev, "c1", "hmacsha1", clock - 14 * MIN);
      body.sign = String(body.sign).toUpperCase();
      const r = await send(`${cloud.httpUrl}/auth`, "POST", { "Content-Type": "application/json; charset=utf-8" }, JSON.stringify(body));
      assert.equal(codeOf(r), 0);
    });

    it("answers 20000 for a wrong sign, a wrong secret and an unknown device", async () => {
      const body = authFields(dev, "c1", "hmacsha1");
      body.sign = "0".repeat(40);
      assert.equal(codeOf(await send(`${cloud.httpsUrl}/auth`, "POST", { "Content-Type": "application/json" }, JSON.stringify(body))), 20000);
      assert.equal(codeOf(await auth(cloud.httpsUrl, { ...dev, deviceSecret: "not-the-secret" }, "hmacsha256")), 20000);
      assert.equal(codeOf(await auth(cloud.httpsUrl, { ...dev, deviceName: "nobody" }, "hmacsha1")), 20000);
      // A sign made with another method than the one declared is wrong too.
      const mixed = authFields(dev, "c1", "hmacsha1");
      mixed.signmethod = "hmacsha256";
      assert.equal(codeOf(await send(`${cloud.httpsUrl}/auth`, "POST", { "Content-Type": "application/json" }, JSON.stringify(mixed))), 20000);
    });

    it("refuses a timestamp more than 15 minutes from platform time, either way", async () => {
      const r = await auth(cloud.httpsUrl, dev, "hmacsha1", clock - 16 * MIN);
      assert.equal(r.status, 200);
      assert.equal(codeOf(r), 20000);
      assert.equal(codeOf(await auth(cloud.httpsUrl, dev, "hmacsha1", clock + 16 * MIN)), 20000);
    });

    it("answers 10001 (HTTP 200, platform JSON) for a content type other than application/json", async () => {
      const body = JSON.stringify(authFields(dev, "c1", "hmacsha1"));
      for (const type of ["text/plain", "application/x-www-form-urlencoded", "application/octet-stream"]) {
        const r = await send(`${cloud.httpsUrl}/auth`, "POST", { "Content-Type": type }, body);
        assert.equal(r.status, 200, type);
        assert.equal(codeOf(r), 10001, type);
        assert.match(String(r.headers["content-type"]), /^application\/json/);
      }
      assert.equal(codeOf(await send(`${cloud.httpsUrl}/auth`, "POST", {}, body)), 10001);
    });

    it("answers 10001 for missing fields, a clientId over 64 chars, malformed JSON, an unknown signmethod", async () => {
      const post = (text: string) => send(`${cloud.httpsUrl}/auth`, "POST", { "Content-Type": "application/json" }, text);
      const noSign = authFields(dev, "c1", "hmacsha1");
      delete noSign.sign;
      assert.equal(codeOf(await post(JSON.stringify(noSign))), 10001);
      assert.equal(codeOf(await post(JSON.stringify(authFields(dev, "x".repeat(65), "hmacsha1")))), 10001);
      assert.equal(codeOf(await post(JSON.stringify(authFields(dev, "x".repeat(64), "hmacsha1")))), 0);
      assert.equal(codeOf(await post('{"productKey":')), 10001);
      const sha512 = authFields(dev, "c1", "hmacsha1");
      sha512.signmethod = "hmacsha512";
      assert.equal(codeOf(await post(JSON.stringify(sha512))), 10001);
    });
  });

  describe("POST /topic/...", () => {
    let tok: string;
    before(async () => {
      tok = await token(cloud.httpsUrl, dev, "hmacsha1");
    });

    it("accepts a property post and answers a messageId above 2^53, unquoted in the raw text", async () => {
      const p = propertyPost(dev, "1", '{"temperature":23.5,"humidity":61.0}');
      const r = await publish(cloud.httpsUrl, tok, p.topic, p.payload);
      assert.equal(r.status, 200);
      const m = /^\{"code":0,"message":"success","info":\{"messageId":([0-9]+)\}\}$/.exec(r.text);
      assert.ok(m, r.text);
      const id = BigInt(m[1]);
      assert.ok(id > 2n ** 53n, `${id} must exceed 2^53`);
      assert.ok(id < 2n ** 63n);
      // The reason for the rule: JSON.parse corrupts it.
      assert.notEqual(String(JSON.parse(r.text).info.messageId), m[1]);
      const stored = cloud.messages(dev.productKey, dev.deviceName)[0];
      assert.equal(stored.messageId, m[1]);
      assert.equal(stored.payload, p.payload);
      assert.equal(stored.code, 0);
      assert.equal(stored.kind, "property-post");
      assert.deepEqual(stored.checks, []);
    });

    it("gives each accepted message a new, growing id", async () => {
      const p = propertyPost(dev, "2", '{"temperature":20.0}');
      const a = /"messageId":([0-9]+)/.exec((await publish(cloud.httpsUrl, tok, p.topic, p.payload)).text)![1];
      const b = /"messageId":([0-9]+)/.exec((await publish(cloud.httpUrl, tok, p.topic, p.payload)).text)![1];
      assert.ok(BigInt(b) > BigInt(a));
    });

    it("answers 20002 without a token, 20003 for an unknown token, 20001 once the token expired", async () => {
      const p = propertyPost(dev, "3", '{"temperature":20.5}');
      assert.equal(codeOf(await publish(cloud.httpsUrl, null, p.topic, p.payload)), 20002);
      assert.equal(codeOf(await publish(cloud.httpsUrl, "", p.topic, p.payload)), 20002);
      assert.equal(codeOf(await publish(cloud.httpsUrl, "bm90LWEtdG9rZW4", p.topic, p.payload)), 20003);
      const fresh = await token(cloud.httpsUrl, dev);
      clock += 7 * DAY - 1000;
      try {
        assert.equal(codeOf(await publish(cloud.httpsUrl, fresh, p.topic, p.payload)), 0, "still valid just before 7 days");
        clock += 1000;
        assert.equal(codeOf(await publish(cloud.httpsUrl, fresh, p.topic, p.payload)), 20001);
        tok = await token(cloud.httpsUrl, dev, "hmacsha1");
        assert.equal(codeOf(await publish(cloud.httpsUrl, tok, p.topic, p.payload)), 0, "a new token works");
      } finally {
        clock += 1000;
      }
      const refused = cloud.messages(dev.productKey, dev.deviceName).filter((m) => m.code === 20001);
      assert.equal(refused.length, 1);
      assert.equal(refused[0].messageId, null);
    });

    it("refuses another device's topics and accepts the device's own topic families", async () => {
      const other = cloud.registerDevice("a1testPK001", "sensor-2");
      const theirs = propertyPost(other, "4", '{"temperature":20.0}');
      assert.equal(codeOf(await publish(cloud.httpsUrl, tok, theirs.topic, theirs.payload)), 10001);
      assert.equal(cloud.messages(other.productKey, other.deviceName).filter((m) => m.code === 0).length, 0);
      for (const topic of [`/sys/other/${dev.deviceName}/thing/event/property/post`, "/sys/x", "/topic", `/${dev.productKey}/${dev.deviceName}/get`]) {
        assert.equal(codeOf(await publish(cloud.httpsUrl, tok, topic, "{}")), 10001, topic);
      }
      const own = [
        [`/ota/device/inform/${dev.productKey}/${dev.deviceName}`, '{"id":"5","params":{"version":"1.0.1"}}'],
        [`/ota/device/progress/${dev.productKey}/${dev.deviceName}`, '{"id":"6","params":{"step":"45","desc":"downloading"}}'],
        [`/${dev.productKey}/${dev.deviceName}/user/update`, "any bytes"],
      ];
      for (const [topic, payload] of own) {
        assert.equal(codeOf(await publish(cloud.httpsUrl, tok, topic, payload)), 0, topic);
        assert.deepEqual(cloud.messages(dev.productKey, dev.deviceName)[0].checks, [], topic);
      }
    });

    it("takes a body of exactly 128 KB and refuses one byte more", async () => {
      const topic = `/${dev.productKey}/${dev.deviceName}/user/blob`;
      assert.equal(codeOf(await publish(cloud.httpsUrl, tok, topic, Buffer.alloc(128 * 1024, 0x61))), 0);
      const r = await publish(cloud.httpsUrl, tok, topic, Buffer.alloc(128 * 1024 + 1, 0x61));
      assert.equal(r.status, 200);
      assert.equal(codeOf(r), 10001);
    });

    it("answers 10001 for a content type other than application/octet-stream, and for a query string", async () => {
      const p = propertyPost(dev, "7", '{"temperature":20.0}');
      assert.equal(codeOf(await publish(cloud.httpsUrl, tok, p.topic, p.payload, "application/json")), 10001);
      assert.equal(codeOf(await publish(cloud.httpsUrl, tok, p.topic, p.payload, "text/plain")), 10001);
      assert.equal(codeOf(await publish(cloud.httpsUrl, tok, p.topic + "?x=1", p.payload)), 10001);
    });

    it("throttles a device that sends too fast with 40000, per device, and recovers with time", async () => {
      const fast = cloud.registerDevice("a1testPK001", "fast-1");
      const slow = cloud.registerDevice("a1testPK001", "slow-1");
      const ft = await token(cloud.httpsUrl, fast);
      const st = await token(cloud.httpsUrl, slow);
      const p = propertyPost(fast, "8", '{"humidity":40.0}');
      const codes: number[] = [];
      for (let i = 0; i < 31; i++) codes.push(codeOf(await publish(cloud.httpUrl, ft, p.topic, p.payload))); // clock frozen
      assert.deepEqual(codes.slice(0, 30), new Array(30).fill(0));
      assert.equal(codes[30], 40000);
      const q = propertyPost(slow, "9", '{"humidity":40.0}');
      assert.equal(codeOf(await publish(cloud.httpUrl, st, q.topic, q.payload)), 0, "another device is not throttled");
      clock += 1000;
      assert.equal(codeOf(await publish(cloud.httpUrl, ft, p.topic, p.payload)), 0, "one second later");
    });

    it("answers injected faults for the given count, via setFault and the admin API", async () => {
      const p = propertyPost(dev, "10", '{"temperature":21.0}');
      cloud.setFault({ code: 30001, count: 2 });
      assert.equal(codeOf(await publish(cloud.httpsUrl, tok, p.topic, p.payload)), 30001);
      assert.equal(codeOf(await auth(cloud.httpsUrl, dev, "hmacsha1")), 30001);
      assert.equal(codeOf(await publish(cloud.httpsUrl, tok, p.topic, p.payload)), 0);
      const set = await send(`${cloud.httpUrl}/admin/faults`, "POST", { "Content-Type": "application/json" }, '{"code":10000}');
      assert.equal(set.status, 200);
      assert.equal(codeOf(await publish(cloud.httpsUrl, tok, p.topic, p.payload)), 10000);
      assert.equal(codeOf(await publish(cloud.httpsUrl, tok, p.topic, p.payload)), 10000, "no count: until cleared");
      assert.equal((await send(`${cloud.httpUrl}/admin/faults`, "DELETE", {})).status, 200);
      assert.equal(codeOf(await publish(cloud.httpsUrl, tok, p.topic, p.payload)), 0);
    });
  });

  describe("Alink checks (recorded, the upload still accepted with code 0)", () => {
    let tok: string;
    before(async () => {
      clock += 60 * 1000;
      tok = await token(cloud.httpsUrl, dev, "hmacsha256");
    });
    async function checksOf(topic: string, payload: string): Promise<string[]> {
      const r = await publish(cloud.httpsUrl, tok, topic, payload);
      assert.equal(codeOf(r), 0);
      const m = cloud.messages(dev.productKey, dev.deviceName)[0];
      assert.equal(m.payload, payload, "stored as received");
      return m.checks;
    }
    const prop = (params: string, method = "thing.event.property.post") =>
      `{"id":"11","version":"1.0","params":${params},"method":"${method}"}`;

    it("flags a FLOAT written without a decimal point and values outside the thing model", async () => {
      const topic = propertyPost(dev, "1", "{}").topic;
      const c1 = await checksOf(topic, prop('{"temperature":23,"humidity":61.0}'));
      assert.equal(c1.length, 1);
      assert.match(c1[0], /temperature.*decimal point/);
      const c2 = await checksOf(topic, prop('{"temperature":-50.5,"humidity":100.1}'));
      assert.equal(c2.length, 2);
      assert.match(c2.join(), /temperature.*-50\.5/);
      assert.match(c2.join(), /humidity.*100\.1/);
      assert.deepEqual(await checksOf(topic, prop('{"temperature":-50.0,"humidity":{"value":100.0,"time":' + clock + "}}")), []);
      assert.match((await checksOf(topic, prop('{"pressure":1000.0}'))).join(), /pressure.*not in the thing model/);
    });

    it("flags malformed JSON, a method that does not match the topic, a bad id, a time over 24 h ahead", async () => {
      const topic = propertyPost(dev, "1", "{}").topic;
      assert.match((await checksOf(topic, '{"id":"1","params":{')).join(), /not well-formed JSON/);
      assert.match((await checksOf(topic, prop('{"temperature":20.0}', "thing.event.property.history.post"))).join(), /method/);
      assert.match((await checksOf(topic, '{"id":1,"version":"1.0","params":{"temperature":20.0},"method":"thing.event.property.post"}')).join(), /"id"/);
      const late = clock + DAY + 1000;
      assert.match((await checksOf(topic, prop(`{"temperature":{"value":20.0,"time":${late}}}`))).join(), /24 h in the future/);
    });

    it("checks the history-post shape: identity, properties with value and time", async () => {
      const topic = `/sys/${dev.productKey}/${dev.deviceName}/thing/event/property/history/post`;
      const method = "thing.event.property.history.post";
      const id = `{"productKey":"${dev.productKey}","deviceName":"${dev.deviceName}"}`;
      const good = `{"id":"12","version":"1.0","method":"${method}","params":[{"identity":${id},"properties":[{"temperature":{"value":19.5,"time":${clock - 59000}}},{"humidity":{"value":55.0,"time":${clock - 59000}}}]}]}`;
      assert.deepEqual(await checksOf(topic, good), []);
      const otherId = `{"productKey":"${dev.productKey}","deviceName":"someone-else"}`;
      const bad = `{"id":"13","version":"1.0","method":"${method}","params":[{"identity":${otherId},"properties":[{"temperature":{"value":19.5}}]}]}`;
      const c = await checksOf(topic, bad);
      assert.match(c.join(), /identity/);
      assert.match(c.join(), /"time" missing/);
      assert.match((await checksOf(topic, `{"id":"14","version":"1.0","method":"${method}","params":{}}`)).join(), /array/);
    });
  });

  describe("repeats of stored readings (a reading is identified by device and property time)", () => {
    let tok: string;
    let d: Device;
    before(async () => {
      clock += 60 * 1000;
      d = cloud.registerDevice("a1testPK001", "repeat-1");
      tok = await token(cloud.httpsUrl, d, "hmacsha1");
    });
    const historyTopic = () => `/sys/${d.productKey}/${d.deviceName}/thing/event/property/history/post`;
    const history = (id: string, rows: [number, string, string][]) =>
      `{"id":"${id}","version":"1.0","method":"thing.event.property.history.post","params":[{"identity":{"productKey":"${d.productKey}","deviceName":"${d.deviceName}"},"properties":[` +
      rows.map(([t, c, h]) => `{"temperature":{"value":${c},"time":${t}}},{"humidity":{"value":${h},"time":${t}}}`).join(",") +
      "]}]}";
    async function post(topic: string, payload: string): Promise<string[]> {
      const r = await publish(cloud.httpsUrl, tok, topic, payload);
      assert.equal(codeOf(r), 0, "a repeat is accepted like any post (the device must hear code 0 to drop it)");
      assert.match(r.text, /"messageId":[0-9]+/);
      const m = cloud.messages(d.productKey, d.deviceName)[0];
      assert.equal(m.payload, payload, "logged as received");
      return m.checks;
    }
    async function stored(): Promise<{ time: number; temperature: number | null; humidity: number | null }[]> {
      const r = await send(`${cloud.httpUrl}/api/devices/${d.productKey}/${d.deviceName}`, "GET", {});
      return (JSON.parse(r.text) as { readings: { time: number; temperature: number | null; humidity: number | null }[] }).readings;
    }

    it("a property post resent with the same time and values is logged as a repeat and stored once", async () => {
      const t = clock - 5000;
      const p = propertyPost(d, "41", `{"temperature":{"value":21.5,"time":${t}},"humidity":{"value":48.0,"time":${t}}}`);
      assert.deepEqual(await post(p.topic, p.payload), []);
      clock += 30000;
      const again = await post(p.topic, p.payload);
      assert.deepEqual(again, [REPEAT_CHECK + t]);
      assert.deepEqual(repeatTimes(again), [t]);
      assert.deepEqual(await stored(), [{ time: t, temperature: 21.5, humidity: 48 }], "the chart shows it once");
      const state = JSON.parse((await send(`${cloud.httpUrl}/api/state`, "GET", {})).text) as { devices: { deviceName: string; latest: unknown; messageCount: number }[] };
      const me = state.devices.find((x) => x.deviceName === d.deviceName)!;
      assert.deepEqual(me.latest, { time: t, temperature: 21.5, humidity: 48 });
      assert.equal(me.messageCount, 2, "both posts are in the message log");
    });

    it("a history post resent with one more reading: the known ones are repeats, the new one is stored", async () => {
      const t1 = clock - 120000;
      const t2 = clock - 60000;
      const t3 = clock - 1000;
      assert.deepEqual(await post(historyTopic(), history("50", [[t1, "20.1", "40.0"], [t2, "20.2", "40.5"]])), []);
      const c = await post(historyTopic(), history("50", [[t1, "20.1", "40.0"], [t2, "20.2", "40.5"], [t3, "20.3", "41.0"]]));
      assert.deepEqual(c, [REPEAT_CHECK + t1 + "," + t2]);
      const mine = (await stored()).filter((x) => [t1, t2, t3].includes(x.time));
      assert.deepEqual(mine.map((x) => x.time), [t1, t2, t3]);
    });

    it("other values at a stored time are kept and flagged as a conflict, not taken for a repeat", async () => {
      const t = clock - 30000;
      const p = propertyPost(d, "60", `{"temperature":{"value":19.0,"time":${t}},"humidity":{"value":50.0,"time":${t}}}`);
      assert.deepEqual(await post(p.topic, p.payload), []);
      const q = propertyPost(d, "61", `{"temperature":{"value":19.5,"time":${t}},"humidity":{"value":50.0,"time":${t}}}`);
      const c = await post(q.topic, q.payload);
      assert.deepEqual(c, [CONFLICT_CHECK + t]);
      assert.deepEqual(repeatTimes(c), []);
      assert.deepEqual((await stored()).filter((x) => x.time === t).map((x) => x.temperature), [19.0, 19.5]);
    });

    it("readings without a time of their own (stamped by the platform on arrival) are never taken for repeats", async () => {
      const p = propertyPost(d, "80", '{"temperature":23.0,"humidity":44.0}');
      assert.deepEqual(await post(p.topic, p.payload), []);
      clock += 1000;
      assert.deepEqual(await post(p.topic, p.payload), [], "the platform cannot know it is the same reading");
      assert.equal((await stored()).filter((x) => x.temperature === 23).length, 2);
    });

    it("the same values at another time, or from another device, are new readings", async () => {
      const t = clock - 10000;
      const p = propertyPost(d, "70", `{"temperature":{"value":22.0,"time":${t}},"humidity":{"value":45.0,"time":${t}}}`);
      assert.deepEqual(await post(p.topic, p.payload), []);
      const q = propertyPost(d, "70", `{"temperature":{"value":22.0,"time":${t + 1}},"humidity":{"value":45.0,"time":${t + 1}}}`);
      assert.deepEqual(await post(q.topic, q.payload), [], "same id and values, other time: a new reading");
      const other = cloud.registerDevice("a1testPK001", "repeat-2");
      const otherTok = await token(cloud.httpsUrl, other, "hmacsha1");
      const o = propertyPost(other, "70", `{"temperature":{"value":22.0,"time":${t}},"humidity":{"value":45.0,"time":${t}}}`);
      assert.equal(codeOf(await publish(cloud.httpsUrl, otherTok, o.topic, o.payload)), 0);
      assert.deepEqual(cloud.messages(other.productKey, other.deviceName)[0].checks, []);
    });
  });

  describe("admin API", () => {
    it("registers devices (given or generated names) and lists them without secrets", async () => {
      const r = await send(`${cloud.httpUrl}/admin/devices`, "POST", { "Content-Type": "application/json" }, '{"productKey":"a1adminPK01","deviceName":"adm-1"}');
      assert.equal(r.status, 200);
      const d = JSON.parse(r.text);
      assert.equal(d.productKey, "a1adminPK01");
      assert.equal(d.deviceName, "adm-1");
      assert.match(d.deviceSecret, /^[0-9a-f]{32}$/);
      const gen = JSON.parse((await send(`${cloud.httpUrl}/admin/devices`, "POST", { "Content-Type": "application/json" })).text);
      assert.match(gen.productKey, /^[A-Za-z0-9]{11}$/);
      assert.ok(gen.deviceName && gen.deviceSecret);
      assert.equal(codeOf(await auth(cloud.httpsUrl, gen, "hmacsha1")), 0, "the generated device can authenticate");
      const bad = await send(`${cloud.httpUrl}/admin/devices`, "POST", { "Content-Type": "application/json" }, '{"deviceName":"has/slash"}');
      assert.equal(bad.status, 400);
      const list = JSON.parse((await send(`${cloud.httpUrl}/admin/devices`, "GET", {})).text) as { productKey: string; deviceName: string }[];
      assert.ok(list.some((x) => x.deviceName === "adm-1"));
      assert.ok(!(await send(`${cloud.httpUrl}/admin/devices`, "GET", {})).text.includes(d.deviceSecret));
    });

    it("lists a device's messages newest first with topic, payload, code, messageId, time, checks", async () => {
      const r = await send(`${cloud.httpUrl}/admin/devices/${dev.productKey}/${dev.deviceName}/messages?limit=5`, "GET", {});
      assert.equal(r.status, 200);
      const list = JSON.parse(r.text) as { topic: string; payload: string; code: number; messageId: string | null; time: number; checks: string[] }[];
      assert.equal(list.length, 5);
      for (const m of list) for (const k of ["topic", "payload", "code", "messageId", "time", "checks"]) assert.ok(k in m, k);
      const ids = list.filter((m) => m.messageId !== null).map((m) => BigInt(m.messageId!));
      assert.ok(ids.length >= 2);
      for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1] > ids[i], "newest first");
      assert.equal((await send(`${cloud.httpUrl}/admin/devices/nope/nope/messages`, "GET", {})).status, 404);
    });

    it("serves the admin API on loopback only, the dashboard to everyone", async function () {
      const lan = Object.values(networkInterfaces()).flat().find((a) => a && a.family === "IPv4" && !a.internal);
      if (!lan) this.skip();
      const dir = mkdtempSync(join(tmpdir(), "cloud-lan-"));
      const open = await startCloud({ dataDir: dir, host: "0.0.0.0" });
      try {
        const base = `http://${lan!.address}:${new URL(open.httpUrl).port}`;
        const bearer = { authorization: `Bearer ${open.adminToken}` };
        assert.equal((await send(`${base}/admin/devices`, "GET", bearer)).status, 403);
        assert.equal((await send(`${base}/api/state`, "GET", {})).status, 200);
        assert.equal((await send(`${open.httpUrl}/admin/devices`, "GET", bearer)).status, 200);
        assert.equal((await send(`${open.httpUrl}/admin/devices`, "GET", {})).status, 401, "listening beyond loopback: the admin token is required");
      } finally {
        await open.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("storage", () => {
    it("keeps devices, tokens and messages across a restart, and message ids keep growing", async () => {
      const tok = await token(cloud.httpsUrl, dev, "hmacsha1");
      const p = propertyPost(dev, "20", '{"temperature":22.5,"humidity":50.0}');
      const before = /"messageId":([0-9]+)/.exec((await publish(cloud.httpsUrl, tok, p.topic, p.payload)).text)![1];
      const count = cloud.messages(dev.productKey, dev.deviceName, 100000).length;
      await cloud.close();
      cloud = await startCloud({ dataDir, now: () => clock, allowUntimedAuth: true, authThrottle: { perSec: 1, burst: 100 } });
      assert.equal(cloud.messages(dev.productKey, dev.deviceName, 100000).length, count);
      assert.equal(cloud.messages(dev.productKey, dev.deviceName)[0].messageId, before);
      const r = await publish(cloud.httpsUrl, tok, p.topic, p.payload);
      assert.equal(codeOf(r), 0, "the token issued before the restart is still valid");
      assert.ok(BigInt(/"messageId":([0-9]+)/.exec(r.text)![1]) > BigInt(before));
      assert.equal(cloud.registerDevice(dev.productKey, dev.deviceName).deviceSecret, dev.deviceSecret);
    });
  });
});
