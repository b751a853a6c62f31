// Pure builders and parsers of firmware/iot checked against alibaba-http.md (expected text written by hand from the sheet).
import { strict as assert } from "node:assert";
import { createHmac } from "node:crypto";
import { authBody, signContent } from "../../firmware/iot/auth";
import { authRequest, publishRequest, httpDateMs, messageIdOf } from "../../firmware/iot/http";
import { codeAction, backoffMs, SHORT_BASE_MS, SHORT_CAP_MS } from "../../firmware/iot/codes";
import { propertyPost, eventPost, eventRequest, historyPosts, otaInform, otaProgress, topics, floatText, readingText } from "../../firmware/iot/alink";
import { asEspruino } from "../../emulator/runtime/quirks";

const dev = { productKey: "pk", deviceName: "device", deviceSecret: "secret" };

describe("iot auth body", () => {
  it("signs the sorted fields exactly as the sheet's message", () => {
    assert.equal(signContent("pk", "device", "12345", "789"), "clientId12345deviceNamedeviceproductKeypktimestamp789");
    assert.equal(signContent("pk", "device", "12345"), "clientId12345deviceNamedeviceproductKeypk");
  });
  const vectors: [string, string][] = [
    ["hmacmd5", "14b198324fe55e1d3c88f2e705e201ee"],
    ["hmacsha1", "fafd82a3d602b37fb0fa8b7892f24a477f851a14"],
    ["hmacsha256", "6074a46a91b1ebb2cc4ea42790ad0e80202c9843859fc292e57c4eb19fad9e57"],
  ];
  for (const [method, sign] of vectors) {
    it(`is the golden body for ${method} with a timestamp (sheet vector)`, () => {
      assert.equal(authBody({ ...dev, signMethod: method }, "12345", 789),
        `{"version":"default","clientId":"12345","signmethod":"${method}","sign":"${sign}","productKey":"pk","deviceName":"device","timestamp":"789"}`);
    });
  }
  it("leaves the timestamp out of body and signature when none is given; hmacsha1 by default", () => {
    const sign = createHmac("sha1", "secret").update("clientId12345deviceNamedeviceproductKeypk").digest("hex");
    assert.equal(authBody(dev, "12345"),
      `{"version":"default","clientId":"12345","signmethod":"hmacsha1","sign":"${sign}","productKey":"pk","deviceName":"device"}`);
  });
  it("writes a fractional Date.now() timestamp as whole ms", () => {
    const body = JSON.parse(authBody(dev, "c", 1795655747647.576));
    assert.equal(body.timestamp, "1795655747647");
    assert.equal(body.sign, createHmac("sha1", "secret").update("clientIdcdeviceNamedeviceproductKeypktimestamp1795655747647").digest("hex"));
  });
  it("cuts clientId to 64 characters (sent and signed)", () => {
    const body = JSON.parse(authBody(dev, "x".repeat(80)));
    assert.equal(body.clientId, "x".repeat(64));
    assert.equal(body.sign, createHmac("sha1", "secret").update("clientId" + "x".repeat(64) + "deviceNamedeviceproductKeypk").digest("hex"));
  });
  it("never puts the secret in the body", () => {
    assert.ok(!authBody(dev, "12345", 789).includes("secret"));
  });
  it("throws naming an unknown sign method", () => {
    assert.throws(() => authBody({ ...dev, signMethod: "hmacsha512" }, "c"), /hmacsha512/);
  });
});

describe("iot requests", () => {
  it("auth: POST /auth, application/json only", () => {
    const r = authRequest("https://iot-as-http.cn-shanghai.aliyuncs.com", "{}", 5000);
    assert.equal(r.method, "POST");
    assert.equal(r.url, "https://iot-as-http.cn-shanghai.aliyuncs.com/auth");
    assert.deepEqual(r.headers, { "Content-Type": "application/json" });
    assert.equal(r.timeoutMs, 5000);
  });
  it("publish: /topic + topic with its slash, password header, octet-stream", () => {
    const r = publishRequest("https://h", "/sys/pk/device/thing/event/property/post", "tok", "x", 5000);
    assert.equal(r.method, "POST");
    assert.equal(r.url, "https://h/topic/sys/pk/device/thing/event/property/post");
    assert.deepEqual(r.headers, { password: "tok", "Content-Type": "application/octet-stream" });
    assert.equal(r.body, "x");
  });
});

describe("iot reply helpers", () => {
  it("keeps messageId digits beyond 2^53 exactly", () => {
    assert.equal(messageIdOf('{"code":0,"message":"success","info":{"messageId":892687627916247041}}'), "892687627916247041");
    assert.equal(messageIdOf('{"code":0,"info":{"messageId" : "12"}}'), "12");
    assert.equal(messageIdOf('{"code":0,"info":{}}'), undefined);
  });
  it("parses RFC 1123 dates like Date.UTC", () => {
    assert.equal(httpDateMs("Thu, 26 Nov 2026 00:54:44 GMT"), Date.UTC(2026, 10, 26, 0, 54, 44));
    assert.equal(httpDateMs("Thu, 29 Feb 2024 23:59:59 GMT"), Date.UTC(2024, 1, 29, 23, 59, 59));
    assert.equal(httpDateMs("Sat, 01 Jan 2000 00:00:00 GMT"), Date.UTC(2000, 0, 1));
    assert.equal(httpDateMs("Wed, 31 Dec 2098 12:00:00 GMT"), Date.UTC(2098, 11, 31, 12));
    for (let t = Date.UTC(2020, 0, 1); t < Date.UTC(2030, 0, 1); t += 86400000 * 37 + 3723000) {
      assert.equal(httpDateMs(new Date(t).toUTCString()), t);
    }
  });
  it("rejects what is not an RFC 1123 date", () => {
    for (const s of ["", "Thu, 26 Nov 2026 00:54:44", "Thu, 26 Nov 2026 00:54:44 PST", "Thu, 26 Foo 2026 00:54:44 GMT",
      "Thu, 26 ovD 2026 00:54:44 GMT", "Thu, 32 Nov 2026 00:54:44 GMT", "Thu, 26 Nov 2026 24:00:00 GMT", "Thu, 2x Nov 2026 00:54:44 GMT",
      "2026-11-26T00:54:44Z"]) {
      assert.ok(Number.isNaN(httpDateMs(s)), s);
    }
    assert.ok(Number.isNaN(httpDateMs(undefined as unknown as string)));
  });
});

describe("iot code table", () => {
  it("maps every code of the sheet to its action", () => {
    const want: [number, string][] = [[0, "ok"], [10000, "retry"], [10001, "drop"], [20000, "hold"], [20001, "reauth"],
      [20002, "reauth"], [20003, "reauth"], [20004, "retry"], [30001, "retry"], [40000, "retry"], [-1, "retry"], [-2, "retry"], [-3, "retry"]];
    for (const [code, action] of want) assert.equal(codeAction(code), action, String(code));
  });
  it("backs off exponentially with jitter in [d/2, d) and a cap", () => {
    assert.equal(backoffMs(1, 2000, 600000, 0), 1000);
    assert.equal(backoffMs(1, 2000, 600000, 0.999999), 1999);
    assert.equal(backoffMs(3, 2000, 600000, 0), 4000);
    assert.equal(backoffMs(50, SHORT_BASE_MS, SHORT_CAP_MS, 0.999999), SHORT_CAP_MS - 1);
    assert.equal(backoffMs(1000, SHORT_BASE_MS, SHORT_CAP_MS, 0), SHORT_CAP_MS / 2);
  });
});

describe("iot Alink payloads", () => {
  it("property post is the sheet's example byte for byte (61 written 61.0)", () => {
    assert.equal(propertyPost("123", { temperature: 23.5, humidity: 61 }),
      '{"id":"123","version":"1.0","params":{"temperature":23.5,"humidity":61.0},"method":"thing.event.property.post"}');
  });
  it("rounds FLOAT to 0.1 and always writes a decimal point", () => {
    assert.equal(floatText(10), "10.0");
    assert.equal(floatText(23.46), "23.5");
    // whole tenths, halves away from zero, the same text on Espruino (Math.round(-37.5) is -38 there, -37 in V8)
    assert.equal(floatText(-3.75), "-3.8");
    assert.equal(floatText(-0.05), "-0.1");
    assert.equal(floatText(-0.04), "0.0");
    assert.equal(floatText(-40), "-40.0");
    assert.equal(floatText(2.45), "2.5");
    const restore = asEspruino();
    try {
      assert.deepEqual([floatText(-3.75), floatText(3.75), floatText(-0.04), floatText(-12.3)], ["-3.8", "3.8", "0.0", "-12.3"]);
    } finally {
      restore();
    }
    assert.equal(floatText(-0.04), "0.0");
    assert.equal(floatText(-10.06), "-10.1");
    assert.equal(floatText(NaN), "");
  });
  it("writes per-value time and leaves out values that are not numbers", () => {
    assert.equal(propertyPost("7", { temperature: { value: 23.5, time: 1524448722000.7 }, humidity: NaN }),
      '{"id":"7","version":"1.0","params":{"temperature":{"value":23.5,"time":1524448722000}},"method":"thing.event.property.post"}');
  });
  it("event post has value, time and the event's method", () => {
    assert.equal(eventPost("9", "sensorFault", { reason: "no answer" }, 1524448722000),
      '{"id":"9","version":"1.0","params":{"value":{"reason":"no answer"},"time":1524448722000},"method":"thing.event.sensorFault.post"}');
  });
  it("an event request is the event's topic and post; a reading's log text is its two FLOAT texts", () => {
    assert.deepEqual(eventRequest("a1pk", "dev1", "9", "queueHealth", { depth: 3 }, 1524448722000), {
      topic: "/sys/a1pk/dev1/thing/event/queueHealth/post",
      body: '{"id":"9","version":"1.0","params":{"value":{"depth":3.0},"time":1524448722000},"method":"thing.event.queueHealth.post"}',
    });
    assert.equal(readingText(23.46, 61), "23.5 C 61.0 %RH");
    assert.equal(readingText(-3.75, 0.04), "-3.8 C 0.0 %RH");
  });
  it("OTA inform and progress match the sheet", () => {
    assert.equal(otaInform("1", "1.0.1"), '{"id":"1","params":{"version":"1.0.1"}}');
    assert.equal(otaInform("1", "1.0.1", "app"), '{"id":"1","params":{"version":"1.0.1","module":"app"}}');
    assert.equal(otaProgress("2", 45, "writing"), '{"id":"2","params":{"step":"45","desc":"writing"}}');
    assert.equal(otaProgress("3", -3, "verify failed"), '{"id":"3","params":{"step":"-3","desc":"verify failed"}}');
  });
  it("topics follow the sheet", () => {
    const t = topics("pk", "device");
    assert.equal(t.property, "/sys/pk/device/thing/event/property/post");
    assert.equal(t.history, "/sys/pk/device/thing/event/property/history/post");
    assert.equal(t.event("sensorFault"), "/sys/pk/device/thing/event/sensorFault/post");
    assert.equal(t.otaInform, "/ota/device/inform/pk/device");
    assert.equal(t.otaProgress, "/ota/device/progress/pk/device");
  });
  it("escapes non-ASCII so the body is ASCII (bytes = chars) and still the same JSON", () => {
    const body = eventPost("1", "e", { note: "23 °C, 湿度" });
    assert.ok(/^[\x20-\x7e]*$/.test(body));
    assert.equal(JSON.parse(body).params.value.note, "23 °C, 湿度");
  });
  it("history post: one entry per reading, every value with its time, identity of the device", () => {
    let id = 10;
    const posts = historyPosts("pk", "device", [{ timeMs: 1000, values: { temperature: 20, humidity: 50.04 } }], () => String(id++));
    assert.deepEqual(posts, ['{"id":"10","version":"1.0","params":[{"identity":{"productKey":"pk","deviceName":"device"},"properties":[' +
      '{"temperature":{"value":20.0,"time":1000},"humidity":{"value":50.0,"time":1000}}],"events":[]}],"method":"thing.event.property.history.post"}']);
  });
  it("history posts split at 200 properties and keep every reading in order", () => {
    const readings = [];
    for (let i = 0; i < 250; i++) readings.push({ timeMs: 1700000000000 + i * 60000, values: { temperature: i / 10, humidity: 50 } });
    let id = 1;
    const posts = historyPosts("pk", "device", readings, () => String(id++));
    assert.equal(posts.length, 3);
    const times: number[] = [];
    for (const p of posts) {
      const j = JSON.parse(p);
      const props = j.params[0].properties;
      assert.ok(props.length * 2 <= 200);
      for (const e of props) times.push(e.temperature.time);
    }
    assert.deepEqual(times, readings.map((r) => r.timeMs));
    assert.deepEqual(posts.map((p) => JSON.parse(p).id), ["1", "2", "3"]);
  });
  it("history posts stay within 128 KB", () => {
    const readings = [];
    for (let i = 0; i < 60; i++) readings.push({ timeMs: i, values: { log: "x".repeat(5000) } });
    const posts = historyPosts("pk", "device", readings, () => "4294967295");
    assert.ok(posts.length >= 3);
    for (const p of posts) assert.ok(Buffer.byteLength(p) <= 131072, String(p.length));
    assert.equal(posts.reduce((n, p) => n + JSON.parse(p).params[0].properties.length, 0), 60);
  });
});
