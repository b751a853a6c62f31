// iot.json parsing: defaults, every field's check, and errors that name the field.
import { strict as assert } from "node:assert";
import { parseConfig, DEFAULT_ENDPOINT } from "../../firmware/config";
import { asEspruino } from "../../emulator/runtime/quirks";

const base = { productKey: "a1pk", deviceName: "dev1", deviceSecret: "secretsecret" };
function parse(o: object) {
  return parseConfig(JSON.stringify(o));
}
function errorOf(o: object): string {
  const r = parse(o);
  assert.equal(r.ok, false, "expected a config error for " + JSON.stringify(o));
  return (r as { error: string }).error;
}

describe("firmware/config parseConfig", () => {
  it("fills in the design's defaults", () => {
    const r = parse(base);
    assert.ok(r.ok);
    assert.deepEqual(r.config, {
      productKey: "a1pk",
      deviceName: "dev1",
      deviceSecret: "secretsecret",
      endpoint: DEFAULT_ENDPOINT,
      signMethod: "hmacsha1",
      clientId: "a1pk.dev1",
      intervalSec: 60,
      dhtPin: "D4",
      deepSleep: true,
      logLevel: "I",
      delivery: "realtime",
      batchSize: 6,
      queueBudgetBytes: 32768,
      queueSegmentBytes: 2048,
      maxPostsPerCycle: 4,
      otaUrl: "",
      otaEveryCycles: 24,
      otaChunkBytes: 4096,
      otaTrialBoots: 3,
    });
    assert.equal(DEFAULT_ENDPOINT, "https://iot-as-http.cn-shanghai.aliyuncs.com");
    assert.deepEqual(r.warnings, []);
  });

  it("takes every documented key", () => {
    const r = parse({
      ...base,
      endpoint: "http://192.168.1.10:8080",
      signMethod: "hmacsha256",
      clientId: "AA:BB:CC:DD:EE:FF",
      intervalSec: 300,
      dhtPin: "D15",
      wifi: { ssid: "lab", password: "pw" },
      deepSleep: false,
      logLevel: "D",
    });
    assert.ok(r.ok);
    assert.equal(r.config.endpoint, "http://192.168.1.10:8080");
    assert.equal(r.config.signMethod, "hmacsha256");
    assert.deepEqual(r.config.wifi, { ssid: "lab", password: "pw" });
    assert.equal(r.config.intervalSec, 300);
    assert.equal(r.config.deepSleep, false);
    assert.ok(parse({ ...base, endpoint: "https://h.example:8443/" }).ok, "trailing slash");
    const open = parse({ ...base, wifi: { ssid: "open" } });
    assert.ok(open.ok);
    assert.deepEqual(open.config.wifi, { ssid: "open", password: "" });
  });

  it("names the missing or wrong field", () => {
    assert.equal(parseConfig(undefined).ok, false);
    assert.match((parseConfig(undefined) as { error: string }).error, /missing/);
    assert.match((parseConfig("{nope") as { error: string }).error, /not valid JSON/);
    assert.match((parseConfig("[1]") as { error: string }).error, /not a JSON object/);
    assert.match(errorOf({ deviceName: "d", deviceSecret: "s" }), /^iot\.json: productKey is missing$/);
    assert.match(errorOf({ ...base, deviceName: "" }), /^iot\.json: deviceName must be 1\.\.64 printable chars without '\/' or spaces$/);
    assert.match(errorOf({ ...base, productKey: "x".repeat(65) }), /^iot\.json: productKey must be 1\.\.64 printable chars/);
    assert.match(errorOf({ ...base, deviceSecret: 12 }), /^iot\.json: deviceSecret must be a non-empty string$/);
    assert.match(errorOf({ ...base, deviceSecret: "" }), /^iot\.json: deviceSecret must be a non-empty string$/);
    assert.match(errorOf({ ...base, deviceName: "a/b" }), /deviceName/);
    // One text for every way an endpoint can be wrong: it shows the form that is expected.
    const endpointError = /^iot\.json: endpoint must be http\(s\):\/\/host\[:port\] with no path$/;
    for (const v of ["ftp://x", "x.example.com", "https://x/auth", "https://x//", "https://x?a=1", "https://x:0", "https://x:65536", "https://x:80:1", "https://x:8o", "https://:80", "https://a b", 5]) {
      assert.match(errorOf({ ...base, endpoint: v }), endpointError, "endpoint " + v);
    }
    for (const v of ["https://x", "http://x:1", "https://x:65535/", "http://10.0.0.2:8080"]) assert.ok(parse({ ...base, endpoint: v }).ok, v);
    assert.match(errorOf({ ...base, signMethod: "sha1" }), /signMethod must be one of hmacsha1, hmacmd5, hmacsha256/);
    for (const v of ["x".repeat(65), "", 5]) assert.match(errorOf({ ...base, clientId: v }), /^iot\.json: clientId must be a string of 1\.\.64 chars$/);
    assert.ok(parse({ ...base, clientId: "x".repeat(64) }).ok);
    for (const v of ["60", 1, 2.5, 86401, null]) assert.match(errorOf({ ...base, intervalSec: v }), /^iot\.json: intervalSec must be a whole number from 2 to 86400$/);
    for (const v of [2, 86400]) assert.ok(parse({ ...base, intervalSec: v }).ok);
    for (const v of [4, "", "D123456789"]) assert.match(errorOf({ ...base, dhtPin: v }), /^iot\.json: dhtPin must be a string of 1\.\.8 chars$/);
    for (const v of ["lab", null, ["lab"]]) assert.match(errorOf({ ...base, wifi: v }), /^iot\.json: wifi must be an object \{ssid, password\}$/);
    assert.match(errorOf({ ...base, wifi: { password: "x" } }), /^iot\.json: wifi\.ssid must be a string of 1\.\.32 chars$/);
    assert.match(errorOf({ ...base, wifi: { ssid: "x".repeat(33) } }), /^iot\.json: wifi\.ssid /);
    assert.match(errorOf({ ...base, wifi: { ssid: "x", password: 5 } }), /^iot\.json: wifi\.password must be a string of 0\.\.64 chars$/);
    assert.match(errorOf({ ...base, wifi: { ssid: "x", password: "p".repeat(65) } }), /^iot\.json: wifi\.password /);
    for (const v of ["yes", 1, null]) assert.match(errorOf({ ...base, deepSleep: v }), /^iot\.json: deepSleep must be one of true, false$/);
    for (const v of ["X", "i", "EW", 1]) assert.match(errorOf({ ...base, logLevel: v }), /^iot\.json: logLevel must be one of E, W, I, D$/);
  });

  it("checks the store-and-forward keys", () => {
    const r = parse({ ...base, delivery: "batch", batchSize: 30, queueBudgetBytes: 8192, queueSegmentBytes: 1024, maxPostsPerCycle: 2 });
    assert.ok(r.ok);
    assert.equal(r.config.delivery, "batch");
    assert.equal(r.config.batchSize, 30);
    assert.equal(r.config.queueBudgetBytes, 8192);
    assert.equal(r.config.queueSegmentBytes, 1024);
    assert.equal(r.config.maxPostsPerCycle, 2);
    const small = parse({ ...base, queueBudgetBytes: 1500 });
    assert.ok(small.ok);
    assert.equal(small.config.queueSegmentBytes, 375, "default segment: a quarter of a small budget");
    assert.match(errorOf({ ...base, delivery: "bulk" }), /^iot\.json: delivery must be one of realtime, batch$/);
    for (const v of [0, 101, 2.5, "6"]) assert.match(errorOf({ ...base, batchSize: v }), /^iot\.json: batchSize must be a whole number from 1 to 100$/);
    for (const v of [1023, 1048577, "16k"]) assert.match(errorOf({ ...base, queueBudgetBytes: v }), /^iot\.json: queueBudgetBytes must be a whole number from 1024 to 1048576$/);
    // The segment's upper bound is half of the budget given: the error shows that number.
    for (const v of [255, 8193, 300.5]) assert.match(errorOf({ ...base, queueBudgetBytes: 16384, queueSegmentBytes: v }), /^iot\.json: queueSegmentBytes must be a whole number from 256 to 8192$/);
    assert.ok(parse({ ...base, queueBudgetBytes: 16384, queueSegmentBytes: 8192 }).ok);
    assert.match(errorOf({ ...base, queueBudgetBytes: 2048, queueSegmentBytes: 2048 }), /^iot\.json: queueSegmentBytes must be a whole number from 256 to 1024$/);
    assert.match(errorOf({ ...base, queueBudgetBytes: 1025, queueSegmentBytes: 513 }), /^iot\.json: queueSegmentBytes must be a whole number from 256 to 512$/);
    for (const v of [0, 51, true]) assert.match(errorOf({ ...base, maxPostsPerCycle: v }), /^iot\.json: maxPostsPerCycle must be a whole number from 1 to 50$/);
  });

  it("checks the OTA keys", () => {
    const r = parse({ ...base, otaUrl: "https://updates.example.com/p1/manifest.json", otaEveryCycles: 1, otaChunkBytes: 1024, otaTrialBoots: 2 });
    assert.ok(r.ok);
    assert.equal(r.config.otaUrl, "https://updates.example.com/p1/manifest.json");
    assert.equal(r.config.otaEveryCycles, 1);
    assert.equal(r.config.otaChunkBytes, 1024);
    assert.equal(r.config.otaTrialBoots, 2);
    assert.deepEqual(r.warnings, []);
    for (const v of ["ftp://x/m.json", "manifest.json", 5, ["https://x/m.json"]]) assert.match(errorOf({ ...base, otaUrl: v }), /^iot\.json: otaUrl must be an http\(s\) URL or absent$/);
    for (const v of [0, 1.5, "24", 100001]) assert.match(errorOf({ ...base, otaEveryCycles: v }), /^iot\.json: otaEveryCycles must be a whole number from 1 to 100000$/);
    for (const v of [255, 16385]) assert.match(errorOf({ ...base, otaChunkBytes: v }), /^iot\.json: otaChunkBytes must be a whole number from 256 to 16384$/);
    for (const v of [0, 21]) assert.match(errorOf({ ...base, otaTrialBoots: v }), /^iot\.json: otaTrialBoots must be a whole number from 1 to 20$/);
  });

  it("refuses a sign method this build leaves out, and says how to build it in", () => {
    // firmware/crypto/hmac.ts reads the build's SIGN_* defines as globals; unset means built in.
    const g = globalThis as { SIGN_HMACMD5?: boolean };
    g.SIGN_HMACMD5 = false;
    try {
      assert.equal(errorOf({ ...base, signMethod: "hmacmd5" }), "iot.json: signMethod must be built into this firmware: build with --sign-methods hmacmd5");
      assert.ok(parse({ ...base, signMethod: "hmacsha256" }).ok);
    } finally {
      delete g.SIGN_HMACMD5;
    }
    assert.ok(parse({ ...base, signMethod: "hmacmd5" }).ok);
  });

  it("checks the required keys first, then the rest", () => {
    assert.match(errorOf({ deviceName: "d", deviceSecret: "s", intervalSec: 0 }), /^iot\.json: productKey is missing$/);
    assert.match(errorOf({ ...base, deviceSecret: undefined }), /^iot\.json: deviceSecret is missing$/);
    assert.match(errorOf({ ...base, endpoint: "x", intervalSec: 0 }), /^iot\.json: endpoint /);
  });

  it("never puts the secret in an error", () => {
    const e = errorOf({ ...base, deviceSecret: "verysecretvalue", signMethod: "verysecretvalue" });
    assert.ok(!e.includes("verysecretvalue"));
  });

  it("warns about unknown keys (typos) without failing", () => {
    const r = parse({ ...base, intervalsec: 10 });
    assert.ok(r.ok);
    assert.deepEqual(r.warnings, ["iot.json: unknown key intervalsec ignored"]);
  });
});

describe("firmware/config console key (docs/console.md)", () => {
  it("absent: no console; {password} of 12..64 printable chars: kept; anything else names the key", () => {
    const off = parse(base);
    assert.ok(off.ok);
    assert.equal(off.config.console, undefined);
    const on = parse({ ...base, console: { password: "abcdefghijkl" } });
    assert.ok(on.ok);
    assert.deepEqual(on.config.console, { password: "abcdefghijkl" });
    assert.equal(errorOf({ ...base, console: { password: "abcdefghijk" } }), "iot.json: console.password must be 12..64 printable chars without '/' or spaces");
    assert.equal(errorOf({ ...base, console: { password: "abcdef ghijklm" } }), "iot.json: console.password must be 12..64 printable chars without '/' or spaces");
    assert.equal(errorOf({ ...base, console: {} }), "iot.json: console.password is missing");
    assert.equal(errorOf({ ...base, console: "abcdefghijklmnop" }), "iot.json: console must be an object {password}");
    assert.equal(errorOf({ ...base, wifi: "lab" }), "iot.json: wifi must be an object {ssid, password}");
  });
});

describe("firmware/config on Espruino's JSON (docs/espruino-quirks.md)", () => {
  let restore: () => void = () => undefined;
  beforeEach(() => (restore = asEspruino()));
  afterEach(() => restore());

  it("reads the bare-key notation Storage.writeJSON writes (JSON.parse alone refuses it)", () => {
    const r = parseConfig('{productKey:"a1pk",deviceName:"dev1",deviceSecret:"secretsecret",intervalSec:300,wifi:{ssid:"lab",password:"pw"},deepSleep:false}');
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.config.intervalSec, 300);
    assert.equal(r.config.deepSleep, false);
    assert.deepEqual(r.config.wifi, { ssid: "lab", password: "pw" });
    assert.deepEqual(r.warnings, []);
  });

  it("turns \\u escapes beyond ASCII into UTF-8 bytes (an ESP32 kept only the low byte: \\u4e2d read as '-')", () => {
    const r = parseConfig(JSON.stringify({ ...base, wifi: { ssid: "x", password: "p" } }).replace('"x"', '"\\u4e2d\\u6587 caf\\u00e9"'));
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(Buffer.from(r.config.wifi!.ssid, "latin1").toString("utf8"), "中文 café");
  });

  it("refuses a __proto__ key, whose keys Espruino's JSON.parse would make every config key's default", () => {
    const text = '{"productKey":"a1pk","deviceName":"dev1","deviceSecret":"secretsecret","__proto__":{"deepSleep":false,"endpoint":"http://evil.example"}}';
    assert.equal(errorOf2(text), "iot.json: a key is repeated or is __proto__");
    restore();
    assert.equal(errorOf2(text), "iot.json: a key is repeated or is __proto__", "V8 too");
  });
});

function errorOf2(text: string): string {
  const r = parseConfig(text);
  assert.equal(r.ok, false, "expected a config error for " + text);
  return (r as { error: string }).error;
}
