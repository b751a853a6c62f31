// The IoT client over a scripted fake HAL under sinon fake timers: golden requests, token
// lifecycle across reboots, re-auth and resend, backoff bounds, one request in flight.
import { strict as assert } from "node:assert";
import { createHmac } from "node:crypto";
import sinon from "sinon";
import { createIotClient, restoreHold, HOLD_REC, IotClient, PublishResult } from "../../firmware/iot/client";
import { propertyPost } from "../../firmware/iot/alink";
import { fakeHal, FakeHal } from "../helpers/fake-hal";

const ENDPOINT = "https://iot-as-http.cn-shanghai.aliyuncs.com";
const SECRET = "s3cr3tDeviceSecretValue";
const TOKEN = "6944e5bfb92e4d4ea3918d1eda3942f6";
const TOKEN2 = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
const TOPIC = "/sys/pk/device/thing/event/property/post";
const PAYLOAD = '{"id":"123","version":"1.0","params":{"temperature":23.5,"humidity":61.0},"method":"thing.event.property.post"}';
const cfg = { productKey: "pk", deviceName: "device", deviceSecret: SECRET, endpoint: ENDPOINT + "/", signMethod: "hmacsha1", clientId: "12345" };
const authOk = (t = TOKEN) => ({ body: `{"code":0,"message":"success","info":{"token":"${t}"}}` });
const pubOk = { body: '{"code":0,"message":"success","info":{"messageId":892687627916247041}}' };
const codeReply = (c: number) => ({ body: `{"code":${c},"message":"error ${c}"}` });
const DAY = 86400000;
const NOW = Date.UTC(2026, 10, 26, 1, 0, 0);

describe("iot client", () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: NOW, toFake: ["setTimeout", "clearTimeout", "Date"] });
  });
  afterEach(() => {
    sinon.restore();
    clock.restore();
  });

  async function publish(c: IotClient, tickMs = 200, payload = PAYLOAD): Promise<PublishResult> {
    let got: PublishResult | undefined;
    let calls = 0;
    c.publish(TOPIC, payload, (r) => {
      got = r;
      calls++;
    });
    await clock.tickAsync(tickMs);
    assert.equal(calls, 1, "callback exactly once");
    return got!;
  }
  function clean(hal: FakeHal) {
    const text = hal.logs.join("\n");
    assert.ok(!text.includes(SECRET), "secret in log");
    assert.ok(!text.includes(TOKEN) && !text.includes(TOKEN2), "token in log");
  }
  const paths = (hal: FakeHal) => hal.requests.map((r) => r.url.substr(ENDPOINT.length));

  it("authenticates lazily, then sends the golden auth and publish requests", async () => {
    const hal = fakeHal({ wallMs: NOW });
    const c = createIotClient(hal, cfg);
    assert.equal(hal.requests.length, 0);
    hal.script.push(authOk(), pubOk);
    const r = await publish(c);
    assert.deepEqual(r, { ok: true, code: 0, messageId: "892687627916247041" });
    const sign = createHmac("sha1", SECRET).update(`clientId12345deviceNamedeviceproductKeypktimestamp${NOW}`).digest("hex");
    assert.deepEqual(hal.requests[0], {
      method: "POST", url: ENDPOINT + "/auth", headers: { "Content-Type": "application/json" },
      body: `{"version":"default","clientId":"12345","signmethod":"hmacsha1","sign":"${sign}","productKey":"pk","deviceName":"device","timestamp":"${NOW}"}`,
      timeoutMs: 20000, maxBodyBytes: 2048,
    });
    assert.deepEqual(hal.requests[1], {
      method: "POST", url: ENDPOINT + "/topic/sys/pk/device/thing/event/property/post",
      headers: { password: TOKEN, "Content-Type": "application/octet-stream" }, body: PAYLOAD, timeoutMs: 20000, maxBodyBytes: 2048,
    });
    assert.equal(PAYLOAD, propertyPost("123", { temperature: 23.5, humidity: 61 }));
    assert.deepEqual({ ...c.counters, failuresByCode: undefined }, { requests: 2, auths: 1, publishes: 1, accepted: 1, retries: 0, failuresByCode: undefined });
    clean(hal);
  });

  it("never sends an untimed /auth: with the clock unknown it first asks GET /auth for the Date, then signs that time", async () => {
    const hal = fakeHal();
    const c = createIotClient(hal, cfg);
    hal.script.push({ status: 405, body: '{"code":10001,"message":"param error: use POST"}', headers: { date: "Thu, 26 Nov 2026 00:54:44 GMT" } }, authOk(), pubOk);
    assert.equal(hal.clock.synced(), false);
    const r = await publish(c);
    assert.equal(r.ok, true);
    assert.deepEqual(hal.requests[0], { method: "GET", url: ENDPOINT + "/auth", headers: {}, body: "", timeoutMs: 20000, maxBodyBytes: 2048 });
    assert.deepEqual(paths(hal), ["/auth", "/auth", "/topic" + TOPIC]);
    const body = JSON.parse(hal.requests[1].body);
    const d = Number(body.timestamp) - Date.UTC(2026, 10, 26, 0, 54, 44);
    assert.ok(d >= 0 && d < 1000, body.timestamp);
    assert.equal(body.sign, createHmac("sha1", SECRET).update(`clientId12345deviceNamedeviceproductKeypktimestamp${body.timestamp}`).digest("hex"));
    assert.deepEqual([c.counters.requests, c.counters.auths], [3, 1]);
  });

  it("without a usable Date (none, or before the firmware's floor) it sends no /auth and backs off", async () => {
    for (const headers of [undefined, { date: "Sat, 01 Jan 2022 00:00:00 GMT" }]) {
      const hal = fakeHal();
      const c = createIotClient(hal, cfg);
      hal.script.push({ status: 405, body: "", headers });
      const r = await publish(c);
      assert.equal(r.ok, false);
      assert.equal(r.code, -3);
      assert.ok(r.retryInMs! > 0);
      assert.deepEqual(hal.requests.map((q) => q.method), ["GET"]);
      assert.equal(hal.clock.synced(), false);
      if (headers) assert.ok(hal.logs.some((l) => /server Date ignored/.test(l)));
    }
  });

  it("a reply's Date moves a known clock at most 90 min, unless three replies in a row agree", async () => {
    const hal = fakeHal({ wallMs: NOW });
    hal.respond = (req) => ({ ...(req.url.endsWith("/auth") ? authOk() : pubOk), headers: { date: "Mon, 26 Nov 2035 01:00:00 GMT" } });
    const c = createIotClient(hal, cfg);
    await publish(c); // /auth and a post: two far Dates
    assert.ok(Math.abs(hal.clock.nowMs() - NOW) < 60000, "far Dates ignored");
    assert.equal(hal.logs.filter((l) => /server Date ignored/.test(l)).length, 2, "each one logged");
    await publish(c);
    assert.ok(Math.abs(hal.clock.nowMs() - Date.UTC(2035, 10, 26, 1, 0, 0)) < 2000, "the third in a row is taken");
    // Within the bound a Date corrects at once (RTC drift across a long deep sleep).
    const drift = fakeHal({ wallMs: NOW });
    drift.records["iot.token"] = JSON.stringify({ o: "pk/device@" + ENDPOINT, t: TOKEN, e: NOW + DAY });
    drift.script.push({ ...pubOk, headers: { date: new Date(NOW + 80 * 60000).toUTCString() } });
    await publish(createIotClient(drift, cfg));
    assert.ok(Math.abs(drift.clock.nowMs() - (NOW + 80 * 60000)) < 2000, String(drift.clock.nowMs() - NOW));
  });

  it("reuses the stored token after a reboot, and not for another device", async () => {
    const hal = fakeHal({ wallMs: NOW });
    hal.script.push(authOk(), pubOk);
    await publish(createIotClient(hal, cfg));
    const rebooted = fakeHal({ store: hal.records, wallMs: NOW });
    rebooted.script.push(pubOk);
    const c2 = createIotClient(rebooted, cfg);
    assert.equal((await publish(c2)).ok, true);
    assert.deepEqual(paths(rebooted), ["/topic" + TOPIC]);
    assert.equal(rebooted.requests[0].headers.password, TOKEN);
    assert.equal(c2.counters.auths, 0);
    const other = fakeHal({ store: hal.records, wallMs: NOW });
    other.script.push(authOk(TOKEN2), pubOk);
    await publish(createIotClient(other, { ...cfg, deviceName: "device2" }));
    assert.equal(paths(other)[0], "/auth");
  });

  it("renews the token before its 7 days run out, also across a reboot", async () => {
    const hal = fakeHal({ wallMs: NOW });
    hal.respond = (req) => (req.url.endsWith("/auth") ? authOk() : pubOk);
    const c = createIotClient(hal, cfg);
    await publish(c);
    await clock.tickAsync(6 * DAY + 22 * 3600000);
    await publish(c);
    assert.deepEqual(paths(hal), ["/auth", "/topic" + TOPIC, "/topic" + TOPIC]);
    await clock.tickAsync(90 * 60000); // now 7 days - 30 min after auth: inside the margin
    await publish(c);
    assert.deepEqual(paths(hal).slice(3), ["/auth", "/topic" + TOPIC]);
    // A device waking 8 days later with the old token on flash authenticates first.
    const old = { ...hal.records };
    const woke = fakeHal({ store: { ...old, "iot.token": old["iot.token"].replace(/"e":\d+/, `"e":${NOW + 7 * DAY}`) }, wallMs: NOW + 8 * DAY });
    woke.respond = hal.respond;
    await publish(createIotClient(woke, cfg));
    assert.deepEqual(paths(woke), ["/auth", "/topic" + TOPIC]);
  });

  for (const code of [20001, 20002, 20003]) {
    it(`on ${code} re-authenticates and resends the same message once`, async () => {
      const hal = fakeHal({ wallMs: NOW });
      hal.script.push(authOk(), codeReply(code), authOk(TOKEN2), pubOk);
      const c = createIotClient(hal, cfg);
      const r = await publish(c, 500);
      assert.deepEqual(r, { ok: true, code: 0, messageId: "892687627916247041" });
      assert.deepEqual(paths(hal), ["/auth", "/topic" + TOPIC, "/auth", "/topic" + TOPIC]);
      assert.equal(hal.requests[3].body, hal.requests[1].body);
      assert.equal(hal.requests[3].headers.password, TOKEN2);
      assert.equal(c.counters.retries, 1);
      assert.ok(hal.records["iot.token"].includes(TOKEN2));
      clean(hal);
    });
  }

  it("resends only once: a second token refusal fails with a retry delay", async () => {
    const hal = fakeHal({ wallMs: NOW });
    hal.script.push(authOk(), codeReply(20001), authOk(TOKEN2), codeReply(20001));
    const c = createIotClient(hal, cfg);
    const r = await publish(c, 500);
    assert.equal(r.ok, false);
    assert.equal(r.code, 20001);
    assert.ok(r.retryInMs! >= 1000 && r.retryInMs! < 2000, String(r.retryInMs));
    await clock.tickAsync(60000);
    assert.equal(hal.requests.length, 4);
    assert.equal(hal.records["iot.token"], undefined);
  });

  const transient: [string, object, number][] = [
    ["10000", codeReply(10000), 10000], ["20004", codeReply(20004), 20004], ["30001", codeReply(30001), 30001],
    ["40000", codeReply(40000), 40000], ["HTTP 503 page", { status: 503, body: "<html><body>503 Service Unavailable</body></html>" }, -2],
    ["network error", { err: { kind: "refused", detail: "-9" } }, -1],
  ];
  for (const [name, fault, code] of transient) {
    it(`backs off with jitter on ${name}, holds further sends, then sends again`, async () => {
      const hal = fakeHal({ wallMs: NOW });
      hal.script.push(authOk(), fault, pubOk);
      const c = createIotClient(hal, cfg);
      const r = await publish(c);
      assert.equal(r.ok, false);
      assert.equal(r.code, code);
      assert.ok(r.retryInMs! >= 1000 && r.retryInMs! < 2000, String(r.retryInMs));
      assert.ok(c.waitMs() > 0 && c.waitMs() <= r.retryInMs!);
      const held = await publish(c, 0);
      assert.equal(held.code, -5);
      assert.ok(held.retryInMs! > 0);
      assert.equal(hal.requests.length, 2);
      await clock.tickAsync(r.retryInMs!);
      assert.equal(c.waitMs(), 0);
      assert.equal((await publish(c)).ok, true);
      assert.equal(c.counters.failuresByCode[code], 1);
      clean(hal);
    });
  }

  it("doubles the delay on consecutive failures up to a cap of 10 minutes", async () => {
    sinon.stub(Math, "random").returns(0.999999);
    const hal = fakeHal({ wallMs: NOW });
    hal.respond = (req) => (req.url.endsWith("/auth") ? authOk() : codeReply(10000));
    const c = createIotClient(hal, cfg);
    const delays: number[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await publish(c);
      delays.push(r.retryInMs!);
      await clock.tickAsync(r.retryInMs!);
    }
    assert.deepEqual(delays.slice(0, 4), [1999, 3999, 7999, 15999]);
    assert.equal(Math.max(...delays), 599999);
  });

  it("10001: does not retry the message, holds long", async () => {
    const hal = fakeHal({ wallMs: NOW });
    hal.script.push(authOk(), codeReply(10001));
    const c = createIotClient(hal, cfg);
    const r = await publish(c);
    assert.equal(r.code, 10001);
    assert.equal(r.retryInMs, undefined);
    assert.ok(c.waitMs() >= 300000);
    assert.ok(hal.logs.some((l) => l.startsWith("E ") && l.includes("10001")));
  });

  it("20000 never loops: a caller hammering every second gets at most 4 requests an hour, 14 a day", async () => {
    sinon.stub(Math, "random").returns(0); // shortest waits: the worst case
    const hal = fakeHal({ wallMs: NOW });
    hal.respond = () => codeReply(20000);
    const c = createIotClient(hal, cfg);
    for (let s = 0; s < 3600; s++) {
      c.publish(TOPIC, PAYLOAD, () => undefined);
      await clock.tickAsync(1000);
    }
    assert.ok(hal.requests.length <= 4, String(hal.requests.length));
    for (let m = 60; m < 1440; m++) {
      c.publish(TOPIC, PAYLOAD, () => undefined);
      await clock.tickAsync(60000);
    }
    assert.ok(hal.requests.length >= 10 && hal.requests.length <= 14, String(hal.requests.length));
    assert.equal(c.counters.failuresByCode[20000], hal.requests.length);
    clean(hal);
  });

  it("keeps one request in flight: a second publish is refused without a second connection", async () => {
    const hal = fakeHal({ wallMs: NOW });
    hal.script.push({ ...authOk(), delayMs: 300 }, pubOk);
    const c = createIotClient(hal, cfg);
    const got: PublishResult[] = [];
    c.publish(TOPIC, PAYLOAD, (r) => got.push(r));
    c.publish(TOPIC, PAYLOAD, (r) => got.push(r));
    await clock.tickAsync(0);
    assert.equal(got.length, 1);
    assert.equal(got[0].code, -4);
    assert.ok(got[0].retryInMs! > 0);
    assert.equal(hal.inFlight(), 1);
    await clock.tickAsync(400);
    assert.equal(got.length, 2);
    assert.equal(got[1].ok, true);
    assert.equal(hal.requests.length, 2);
  });

  it("frees itself when a transport never calls back", async () => {
    const hal = fakeHal({ wallMs: NOW });
    hal.script.push(authOk(), { hang: true }, pubOk);
    const c = createIotClient(hal, { ...cfg, timeoutMs: 5000 });
    const r = await publish(c, 10100);
    assert.equal(r.code, -1);
    assert.ok(r.retryInMs! > 0);
    await clock.tickAsync(r.retryInMs!);
    assert.equal((await publish(c)).ok, true);
  });

  it("turns a transport that throws into a network failure", async () => {
    const hal = fakeHal({ wallMs: NOW });
    hal.net.request = () => {
      throw new Error("Unable to create socket");
    };
    const r = await publish(createIotClient(hal, cfg));
    assert.equal(r.code, -1);
    assert.ok(hal.logs.some((l) => l.includes("Unable to create socket")));
  });

  it("refuses a token that is not safe in a header, without using it", async () => {
    const hal = fakeHal({ wallMs: NOW });
    hal.script.push(authOk("abc\r\nX-Evil: 1"), { status: 200, body: "<html>login</html>" });
    const c = createIotClient(hal, cfg);
    const r = await publish(c);
    assert.equal(r.code, -3);
    assert.equal(hal.requests.length, 1);
    assert.equal(hal.records["iot.token"], undefined);
    await clock.tickAsync(r.retryInMs!);
    const r2 = await publish(c);
    assert.equal(r2.code, -3);
    assert.ok(hal.logs.some((l) => l.includes("<html>login")));
  });

  it("reports an unbuilt sign method as a config failure, without a request", async () => {
    const hal = fakeHal({ wallMs: NOW });
    const r = await publish(createIotClient(hal, { ...cfg, signMethod: "hmacsha512" }));
    assert.equal(r.code, -6);
    assert.equal(hal.requests.length, 0);
    assert.ok(hal.logs.some((l) => l.includes("hmacsha512")));
  });

  it("sends the payload bytes unchanged; Alink text with non-ASCII goes out as ASCII JSON", async () => {
    const hal = fakeHal({ wallMs: NOW });
    hal.script.push(authOk(), pubOk);
    await publish(createIotClient(hal, cfg), 200, propertyPost("5", { note: "湿度 °C" }));
    assert.equal(hal.requests[1].body, '{"id":"5","version":"1.0","params":{"note":"\\u6e7f\\u5ea6 \\u00b0C"},"method":"thing.event.property.post"}');
  });

  it("gives Alink ids from a stored counter: unique across reboots, few flash writes", () => {
    const hal = fakeHal({ wallMs: NOW });
    const write = sinon.spy(hal.store, "write");
    const c = createIotClient(hal, cfg);
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) ids.push(c.nextId());
    assert.deepEqual(ids.slice(0, 3), ["1", "2", "3"]);
    assert.ok(write.callCount <= 2, String(write.callCount));
    const c2 = createIotClient(fakeHal({ store: hal.records, wallMs: NOW }), cfg);
    const next = c2.nextId();
    assert.ok(/^\d+$/.test(next) && +next > 100, next);
  });

  it("Alink ids survive a torn write of the id record: no id is given twice", () => {
    const given = new Set<string>();
    let records: { [k: string]: string } = {};
    let cuts = 0;
    for (let boot = 0; boot < 9; boot++) {
      const hal = fakeHal({ store: records });
      // Power is lost during the boot's 1st, 2nd or 3rd id-block write: Espruino writes the header
      // with the size first, so the record keeps a prefix of the digits and reads 0xFF after it
      // (or, cut before the header, is gone).
      const cutAt = (boot % 3) + 1;
      let n = 0;
      const write = hal.store.write;
      hal.store.write = (name, data) => {
        if (++n < cutAt) return write(name, data);
        const keep = boot % 2;
        if (keep) hal.records[name] = data.substr(0, keep) + "\xff".repeat(data.length - keep);
        else delete hal.records[name];
        throw new Error("power cut");
      };
      const c = createIotClient(hal, cfg);
      try {
        for (;;) {
          const id = c.nextId();
          assert.ok(!given.has(id), "id " + id + " given twice (boot " + boot + ")");
          given.add(id);
        }
      } catch (e) {
        if (String(e).indexOf("power cut") < 0) throw e;
        cuts++;
      }
      records = { ...hal.records };
    }
    assert.equal(cuts, 9);
    assert.equal(given.size, 3 * (0 + 64 + 128), "ids before each cut: " + given.size);
  });

  it("Alink ids: an older device's single id record is honoured", () => {
    const c = createIotClient(fakeHal({ store: { "iot.msgid": "385" } }), cfg);
    assert.equal(c.nextId(), "385");
  });

  it("syncTime() learns an unknown time with one GET /auth, keeps the stored token, and sends nothing when the time is known", async () => {
    const hal = fakeHal({ wallMs: NOW });
    hal.script.push(authOk(), pubOk);
    await publish(createIotClient(hal, cfg));
    const cold = fakeHal({ store: hal.records });
    cold.script.push({ status: 405, body: "", headers: { date: "Thu, 26 Nov 2026 00:54:44 GMT" } });
    const c = createIotClient(cold, cfg);
    let got: PublishResult | undefined;
    c.syncTime((r) => (got = r));
    await clock.tickAsync(200);
    assert.equal(got!.ok, true);
    assert.deepEqual(cold.requests.map((q) => q.method + " " + q.url.substr(ENDPOINT.length)), ["GET /auth"]);
    assert.equal(cold.clock.synced(), true);
    assert.ok(cold.records["iot.token"].includes(TOKEN), "the stored token is kept");
    assert.deepEqual([c.counters.auths, c.counters.publishes], [0, 0]);
    got = undefined;
    c.syncTime((r) => (got = r));
    await clock.tickAsync(200);
    assert.equal(got!.ok, true);
    assert.equal(cold.requests.length, 1, "time known: no request");
  });

  it("the backoff survives a reboot (deep sleep): a 20000 holds the next wake's client too; a success clears it once", async () => {
    sinon.stub(Math, "random").returns(0.5);
    const hal = fakeHal({ wallMs: NOW });
    hal.respond = () => codeReply(20000);
    const r = await publish(createIotClient(hal, cfg));
    assert.equal(r.code, 20000);
    assert.ok(r.retryInMs! >= 300000, String(r.retryInMs));
    const saved = JSON.parse(hal.records[HOLD_REC]);
    assert.deepEqual([saved.f, saved.c], [1, 20000]);
    assert.ok(Math.abs(saved.w - (NOW + r.retryInMs!)) < 300, "earliest retry as wall time");
    // Wake 2 minutes later (the boot sets the clock): held, no request.
    await clock.tickAsync(120000);
    const woke = fakeHal({ store: hal.records, wallMs: Date.now() });
    woke.respond = () => codeReply(20000);
    const c2 = createIotClient(woke, cfg);
    assert.ok(c2.waitMs() > r.retryInMs! - 121000 && c2.waitMs() <= r.retryInMs! - 119000, String(c2.waitMs()));
    const held = await publish(c2, 0);
    assert.equal(held.code, -5);
    assert.equal(woke.requests.length, 0);
    // After the hold, the next failure doubles it: the count survived the reboot.
    await clock.tickAsync(c2.waitMs());
    const r2 = await publish(c2);
    assert.equal(r2.code, 20000);
    assert.equal(JSON.parse(woke.records[HOLD_REC]).f, 2);
    assert.ok(r2.retryInMs! >= 600000 && r2.retryInMs! < 1200000, String(r2.retryInMs));
    // A cold boot (clock unknown) cannot tell how long it was off: it may try once.
    const cold = fakeHal({ store: woke.records });
    assert.ok(restoreHold(cold.store, cold.clock).leftMs <= 0);
    assert.equal(createIotClient(cold, cfg).waitMs(), 0);
    // Success clears the record with one erase; later successes write nothing.
    await clock.tickAsync(r2.retryInMs!);
    const ok = fakeHal({ store: woke.records, wallMs: Date.now() });
    ok.respond = (req) => (req.url.endsWith("/auth") ? authOk() : pubOk);
    const c3 = createIotClient(ok, cfg);
    const erase = sinon.spy(ok.store, "erase");
    const write = sinon.spy(ok.store, "write");
    assert.equal((await publish(c3)).ok, true);
    assert.equal(ok.records[HOLD_REC], undefined);
    assert.equal((await publish(c3)).ok, true);
    assert.equal(erase.callCount, 1);
    assert.ok(write.args.every((a) => a[0] !== HOLD_REC));
  });
});
