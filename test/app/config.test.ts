// iot.json parsing: defaults, every field's check, and errors that name the field.
import { strict as assert } from "node:assert";
import { parseConfig, DEFAULT_ENDPOINT } from "../../firmware/config";

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
    assert.match(errorOf({ ...base, deviceName: "" }), /deviceName must be a non-empty string/);
    assert.match(errorOf({ ...base, deviceSecret: 12 }), /deviceSecret must be a non-empty string/);
    assert.match(errorOf({ ...base, deviceName: "a/b" }), /deviceName/);
    assert.match(errorOf({ ...base, endpoint: "ftp://x" }), /endpoint must start with/);
    assert.match(errorOf({ ...base, endpoint: "https://x/auth" }), /endpoint must not have a path/);
    assert.match(errorOf({ ...base, endpoint: "https://x:0" }), /endpoint has a bad port/);
    assert.match(errorOf({ ...base, endpoint: "https://:80" }), /endpoint has no valid host/);
    assert.match(errorOf({ ...base, signMethod: "sha1" }), /signMethod must be one of hmacsha1, hmacmd5, hmacsha256/);
    assert.match(errorOf({ ...base, clientId: "x".repeat(65) }), /clientId/);
    assert.match(errorOf({ ...base, intervalSec: "60" }), /intervalSec/);
    assert.match(errorOf({ ...base, intervalSec: 1 }), /intervalSec/);
    assert.match(errorOf({ ...base, intervalSec: 2.5 }), /intervalSec/);
    assert.match(errorOf({ ...base, dhtPin: 4 }), /dhtPin/);
    assert.match(errorOf({ ...base, wifi: "lab" }), /wifi must be an object/);
    assert.match(errorOf({ ...base, wifi: { password: "x" } }), /wifi\.ssid/);
    assert.match(errorOf({ ...base, wifi: { ssid: "x", password: 5 } }), /wifi\.password/);
    assert.match(errorOf({ ...base, deepSleep: "yes" }), /deepSleep/);
    assert.match(errorOf({ ...base, logLevel: "X" }), /logLevel/);
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
    assert.match(errorOf({ ...base, delivery: "bulk" }), /^iot\.json: delivery must be "realtime" or "batch"/);
    for (const v of [0, 101, 2.5, "6"]) assert.match(errorOf({ ...base, batchSize: v }), /^iot\.json: batchSize /);
    for (const v of [1023, 1048577, "16k"]) assert.match(errorOf({ ...base, queueBudgetBytes: v }), /^iot\.json: queueBudgetBytes /);
    for (const v of [255, 8193]) assert.match(errorOf({ ...base, queueBudgetBytes: 16384, queueSegmentBytes: v }), /^iot\.json: queueSegmentBytes /);
    assert.match(errorOf({ ...base, queueBudgetBytes: 2048, queueSegmentBytes: 2048 }), /queueSegmentBytes must be .* half of queueBudgetBytes/);
    for (const v of [0, 51, true]) assert.match(errorOf({ ...base, maxPostsPerCycle: v }), /^iot\.json: maxPostsPerCycle /);
  });

  it("checks the OTA keys", () => {
    const r = parse({ ...base, otaUrl: "https://updates.example.com/p1/manifest.json", otaEveryCycles: 1, otaChunkBytes: 1024, otaTrialBoots: 2 });
    assert.ok(r.ok);
    assert.equal(r.config.otaUrl, "https://updates.example.com/p1/manifest.json");
    assert.equal(r.config.otaEveryCycles, 1);
    assert.equal(r.config.otaChunkBytes, 1024);
    assert.equal(r.config.otaTrialBoots, 2);
    assert.deepEqual(r.warnings, []);
    for (const v of ["ftp://x/m.json", "manifest.json", 5]) assert.match(errorOf({ ...base, otaUrl: v }), /^iot\.json: otaUrl /);
    for (const v of [0, 1.5, "24"]) assert.match(errorOf({ ...base, otaEveryCycles: v }), /^iot\.json: otaEveryCycles /);
    for (const v of [255, 16385]) assert.match(errorOf({ ...base, otaChunkBytes: v }), /^iot\.json: otaChunkBytes /);
    for (const v of [0, 21]) assert.match(errorOf({ ...base, otaTrialBoots: v }), /^iot\.json: otaTrialBoots /);
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
