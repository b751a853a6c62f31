// Device-side OTA (firmware/ota.ts) over a fake HAL: the A -> B update path and each refusal.
import { strict as assert } from "node:assert";
import { adoptKey, OtaConfig, versionNewer, parseManifest, imageUrl } from "../../firmware/ota";
import { chooseBoot, readBootRecord } from "../../firmware/ota-slots";
import { asEspruino } from "../../emulator/runtime/quirks";
import { FlashStore, UpdateHost, Publisher, fakeHal, otaFor, image, passHealth, testKey, KEY, MANIFEST_URL } from "./fakes";

const A = image("1.0.0", 5000);
const B = image("1.1.0", 10123);
const B_URL = MANIFEST_URL.replace("manifest.json", "firmware-1.1.0.js");
const B_SIG = MANIFEST_URL.replace("manifest.json", "firmware-1.1.0.sig");

function factory(): FlashStore {
  return new FlashStore({ ".boot0": "boot stage", "fw.a": A, "ota.pub": KEY.pub + "\n" }); // as flashed from a key file with a newline
}

function config(version: string): OtaConfig {
  return { productKey: "pk1", deviceName: "dev1", manifestUrl: MANIFEST_URL, version, chunkBytes: 1024, trialBoots: 3, everyCycles: 1 };
}

/** Runs one check on a device running `version`; outcome undefined when it rebooted instead. */
function check(store: FlashStore, host: UpdateHost, version: string, pub = new Publisher()) {
  const dev = fakeHal(store, host);
  let outcome: string | undefined;
  otaFor(dev.hal, config(version), pub).check((o) => { outcome = o; });
  return { outcome, reboots: dev.reboots, pub, logs: dev.logs };
}

describe("ota: device side", () => {
  it("streams each chunk into the idle slot as it arrives (HAL stream): the image is whole, no chunk body comes back", () => {
    const store = factory();
    const host = new UpdateHost();
    host.streamPiece = 300; // a TCP segment's worth, as the interpreter hands them on
    host.publish("1.1.0", B);
    const r = check(store, host, "1.0.0");
    assert.equal(r.reboots, 1, r.logs.join("\n"));
    assert.equal(store.files["fw.b"], B, "image written whole into the idle slot");
    const chunks = host.requests.filter((q) => q.url === B_URL);
    assert.equal(chunks.length, Math.ceil(B.length / 1024));
    assert.ok(chunks.every((q) => typeof q.stream === "function"), "chunk requests ask for a stream");
    assert.equal(host.bodiesSeen.length, chunks.length);
    assert.ok(host.bodiesSeen.every((b) => b === ""), "no chunk body held");
  });

  it("a chunk cut mid-way resumes after the bytes already streamed, writing each byte once", () => {
    const store = factory();
    const host = new UpdateHost();
    host.streamPiece = 300;
    host.cutOnce = { url: B_URL, after: 600 };
    host.publish("1.1.0", B);
    // FlashStore.writeAt throws on a byte written twice (flash bits only clear): the resume must not rewrite.
    const r = check(store, host, "1.0.0");
    assert.equal(r.reboots, 1, r.logs.join("\n"));
    assert.equal(store.files["fw.b"], B);
    const ranges = host.requests.filter((q) => q.url === B_URL).map((q) => q.headers.Range);
    assert.equal(ranges[0], "bytes=0-1023");
    assert.equal(ranges[1], "bytes=600-1623", "the retry starts after the 600 streamed bytes");
  });

  it("a streamed answer with the wrong status writes nothing into the slot", () => {
    const store = factory();
    const host = new UpdateHost();
    host.streamPiece = 300;
    host.publish("1.1.0", B);
    // A host that ignores Range from the second chunk on: 200 with the whole image.
    host.fault = (req, res) => (req.url === B_URL && req.headers.Range !== "bytes=0-1023" ? { status: 200, headers: {}, body: B, truncated: false } : res);
    const r = check(store, host, "1.0.0");
    assert.equal(r.outcome, "refused");
    assert.equal(r.reboots, 0);
    assert.equal(store.files["fw.b"].substr(0, 1024), B.substr(0, 1024), "the first chunk went in");
    assert.equal(store.files["fw.b"].substr(1024), "\xff".repeat(B.length - 1024), "nothing of the 200 answers was written");
    assert.deepEqual(r.pub.steps().map((p) => p.step), ["1", "-2"]);
  });

  it("updates A -> B: manifest, LMS signature file, Range chunks into the idle slot, boot record, reboot, then B informs", () => {
    const store = factory();
    const host = new UpdateHost();
    host.publish("1.1.0", B);
    const r = check(store, host, "1.0.0");
    assert.equal(r.outcome, undefined, r.logs.join("\n"));
    assert.equal(r.reboots, 1);
    assert.equal(store.files["fw.b"], B, "image written whole into the idle slot");
    assert.equal(store.files["fw.a"], A, "running slot untouched");
    // Manifest first (no Range), its signature file, then consecutive ranges of at most chunkBytes.
    assert.equal(host.requests[0].url, MANIFEST_URL);
    assert.equal(host.requests[0].headers.Range, undefined);
    assert.equal(host.requests[1].url, B_SIG);
    // RFC 8554: one-level HSS, H5 / W4 (67 chains): 4 + 12 + 32 * (67 + 1 + 5) bytes, no more in RAM
    assert.equal(host.requests[1].maxBodyBytes, 2352);
    const chunks = host.requests.slice(2);
    assert.equal(chunks.length, Math.ceil(B.length / 1024));
    let next = 0;
    for (const c of chunks) {
      assert.equal(c.method, "GET");
      assert.equal(c.url, B_URL);
      const m = /^bytes=(\d+)-(\d+)$/.exec(c.headers.Range);
      assert.ok(m, c.headers.Range);
      assert.equal(Number(m[1]), next);
      assert.ok(Number(m[2]) - Number(m[1]) + 1 <= 1024 && c.maxBodyBytes <= 1024, "never more than a chunk in RAM");
      next = Number(m[2]) + 1;
    }
    assert.equal(next, B.length);
    // alibaba-http.md section 5: progress topic and {"id":..,"params":{"step":"..","desc":".."}}
    assert.deepEqual(r.pub.sent.map((s) => s.topic), ["/ota/device/progress/pk1/dev1", "/ota/device/progress/pk1/dev1"]);
    assert.deepEqual(r.pub.steps().map((p) => p.step), ["1", "100"]);
    assert.ok(typeof JSON.parse(r.pub.sent[0].payload).id === "string");

    // The boot stage starts B on trial; B's health check (a request sent, sensor answered)
    // confirms it; its first successful publish informs.
    assert.deepEqual(chooseBoot(store), { slot: "fw.b", version: "1.1.0", trial: true, waitMs: 600000 });
    const devB = fakeHal(store, host);
    const pubB = new Publisher();
    let outcome = "";
    const otaB = otaFor(devB.hal, Object.assign(config("1.1.0"), { everyCycles: 5 }), pubB);
    passHealth(devB, otaB);
    assert.equal(store.files["ota.ok"], "1.1.0");
    assert.equal(store.files["ota.ctr"], "1", "the confirmed release's counter is the replay floor");
    otaB.afterPublish(1, (o) => { outcome = o; });
    assert.equal(outcome, "idle");
    assert.equal(pubB.sent.length, 1);
    assert.equal(pubB.sent[0].topic, "/ota/device/inform/pk1/dev1");
    assert.deepEqual(JSON.parse(pubB.sent[0].payload).params, { version: "1.1.0" });
    assert.deepEqual(chooseBoot(store), { slot: "fw.b", version: "1.1.0", trial: false });
    assert.equal(readBootRecord(store)?.t, undefined, "trial confirmed");
    // Informed once per version, not per boot.
    const pub2 = new Publisher();
    otaFor(fakeHal(store, host).hal, Object.assign(config("1.1.0"), { everyCycles: 5 }), pub2).afterPublish(2, () => undefined);
    assert.equal(pub2.sent.length, 0);
  });

  const refusals: { name: string; step: string; desc: RegExp; setup: (h: UpdateHost) => void; downloads: boolean }[] = [
    {
      name: "a tampered image", step: "-3", desc: /sha256 mismatch/, downloads: true,
      setup: (h) => { h.publish("1.1.0", B); h.files[B_URL] = B.substr(0, 5000) + "X" + B.substr(5001); },
    },
    {
      name: "a signature by another LMS key", step: "-3", desc: /signature/, downloads: false,
      setup: (h) => { h.publish("1.1.0", B, testKey()); },
    },
    {
      name: "a manifest edited after signing (version)", step: "-3", desc: /signature/, downloads: false,
      setup: (h) => { h.publish("1.1.0", B, KEY, (m) => { m.version = "1.1.1"; }); },
    },
    {
      name: "a manifest edited after signing (counter)", step: "-3", desc: /signature/, downloads: false,
      setup: (h) => { h.publish("1.1.0", B, KEY, (m) => { m.counter += 1; }); },
    },
    {
      name: "a manifest pointing at another image (sha256 edited)", step: "-3", desc: /signature/, downloads: false,
      setup: (h) => { h.publish("1.1.0", B, KEY, (m) => { m.sha256 = "0".repeat(64); }); },
    },
    {
      name: "a signature file cut short", step: "-3", desc: /signature/, downloads: false,
      setup: (h) => { h.publish("1.1.0", B); h.files[B_SIG] = h.files[B_SIG].substr(0, 2000); },
    },
    {
      name: "a signature file longer than the key's signatures (padding to fill RAM)", step: "-3", desc: /signature/, downloads: false,
      setup: (h) => { h.publish("1.1.0", B); h.files[B_SIG] += "\0".repeat(8000); },
    },
    {
      name: "a missing signature file", step: "-2", desc: /signature file http 404/, downloads: false,
      setup: (h) => { h.publish("1.1.0", B); delete h.files[B_SIG]; },
    },
    {
      name: "a manifest edited after signing (size)", step: "-3", desc: /signature/, downloads: false,
      setup: (h) => { h.publish("1.1.0", B, KEY, (m) => { m.size += 1; }); },
    },
    {
      name: "a wrong size on the host", step: "-3", desc: /size/, downloads: true,
      setup: (h) => { h.publish("1.1.0", B); h.files[B_URL] = B + "tail"; },
    },
    {
      name: "a truncated download (short chunk)", step: "-2", desc: /short/, downloads: true,
      setup: (h) => {
        h.publish("1.1.0", B);
        h.fault = (req, res) => (req.headers.Range === "bytes=3072-4095" ? Object.assign({}, res, { body: res.body.substr(0, 100) }) : res);
      },
    },
    {
      name: "a dropped connection (twice on one chunk)", step: "-2", desc: /net refused/, downloads: true,
      setup: (h) => {
        h.publish("1.1.0", B);
        h.fault = (req, res) => (req.headers.Range === "bytes=2048-3071" ? null : res);
      },
    },
    {
      name: "an image the host no longer has", step: "-2", desc: /http 404/, downloads: true,
      setup: (h) => { h.publish("1.1.0", B); delete h.files[B_URL]; },
    },
    {
      name: "a manifest with a bad field", step: "-3", desc: /manifest: sha256/, downloads: false,
      setup: (h) => { h.publish("1.1.0", B, KEY, (m) => { m.sha256 = "abc"; }); },
    },
  ];
  for (const c of refusals) {
    it(`refuses ${c.name}: stays on A and reports step ${c.step}`, () => {
      const store = factory();
      const host = new UpdateHost();
      c.setup(host);
      const r = check(store, host, "1.0.0");
      assert.equal(r.outcome, "refused");
      assert.equal(r.reboots, 0);
      const steps = r.pub.steps();
      assert.equal(steps[steps.length - 1].step, c.step);
      assert.match(steps[steps.length - 1].desc, c.desc);
      assert.equal(host.requests.some((q) => q.url === B_URL), c.downloads);
      assert.equal(readBootRecord(store), null, "boot record untouched");
      assert.deepEqual(chooseBoot(store), { slot: "fw.a", trial: false });
      assert.equal(store.files["fw.a"], A);
    });
  }

  it("does nothing for the same or an older version, a rolled-back version, or while on trial", () => {
    const host = new UpdateHost();
    host.publish("1.0.0", A);
    let r = check(factory(), host, "1.0.0");
    assert.equal(r.outcome, "current");
    assert.equal(host.requests.length, 1);
    host.publish("0.9.9", A);
    assert.equal(check(factory(), host, "1.0.0").outcome, "current");

    host.publish("1.1.0", B);
    const rolled = factory();
    rolled.files["ota.rb"] = '{"v":"1.1.0","r":1}';
    assert.equal(check(rolled, host, "1.0.0").outcome, "current");

    const onTrial = factory();
    onTrial.files["ota.m1"] = JSON.stringify({ s: 1, c: "fw.a", v: "1.0.0", p: "fw.b", pv: "0.9.0", t: 1, k: 3 });
    host.requests = [];
    r = check(onTrial, host, "1.0.0");
    assert.equal(r.outcome, "trial");
    assert.equal(host.requests.length, 0, "the rollback slot is not overwritten during a trial");
  });

  it("is off without an update key or without the boot stage", () => {
    const host = new UpdateHost();
    host.publish("1.1.0", B);
    const noKey = factory();
    delete noKey.files["ota.pub"];
    assert.equal(check(noKey, host, "1.0.0").outcome, "off");
    const noBoot = factory();
    delete noBoot.files[".boot0"];
    assert.equal(check(noBoot, host, "1.0.0").outcome, "off");
    assert.equal(host.requests.length, 0);
  });

  it("reports a network-less manifest check as unreachable without a progress report", () => {
    const host = new UpdateHost();
    host.fault = () => null;
    const r = check(factory(), host, "1.0.0");
    assert.equal(r.outcome, "unreachable");
    assert.equal(r.pub.sent.length, 0);
  });

  it("compares versions numerically and parses manifests strictly", () => {
    assert.equal(versionNewer("1.10.0", "1.9.9"), true);
    assert.equal(versionNewer("1.2", "1.2.0"), false);
    assert.equal(versionNewer("1.2.0.1", "1.2"), true);
    assert.equal(versionNewer("2.0.0-rc1", "1.0.0"), false, "a malformed version is never newer");
    assert.equal(versionNewer("1.0.0", "1.0.1"), false);
    assert.equal(parseManifest("{").ok, false);
    const bad = parseManifest('{"version":"1.0","counter":1,"size":1.5,"sha256":"' + "a".repeat(64) + '","url":"x","sig":"y"}');
    assert.deepEqual(bad, { ok: false, error: "manifest: size" });
    assert.deepEqual(parseManifest('{"version":"1.0","counter":0,"size":1,"sha256":"' + "a".repeat(64) + '","url":"x","sig":"y"}'), { ok: false, error: "manifest: counter" });
    // Espruino's lenient JSON.parse: a manifest with junk, comments or a repeated key is still "not JSON"
    const good = '{"version":"1.0","counter":1,"size":100,"sha256":"' + "a".repeat(64) + '","url":"x","sig":"y"}';
    const restore = asEspruino();
    try {
      assert.equal(parseManifest(good).ok, true);
      for (const t of [good + "junk", good.replace('"size":100', '"size":100,"size":5'), good.replace('"size":100', '"size":0x64'), good.replace("}", ",}")])
        assert.deepEqual(parseManifest(t), { ok: false, error: "manifest: not JSON" }, t);
    } finally {
      restore();
    }
    assert.equal(imageUrl("https://h:8443/ota/manifest.json", "firmware-1.js"), "https://h:8443/ota/firmware-1.js");
    assert.equal(imageUrl("https://h:8443/ota/manifest.json", "/img/f.js"), "https://h:8443/img/f.js");
    assert.equal(imageUrl("https://h/ota/manifest.json", "http://cdn/f.js"), "http://cdn/f.js");
  });

  it("refuses a genuinely signed older release replayed with a newer-looking version: its counter is not above the confirmed one", () => {
    const store = factory();
    store.files["ota.ctr"] = "5";
    const host = new UpdateHost();
    host.publish("1.1.0", B, KEY, undefined, 5);
    let r = check(store, host, "1.0.0");
    assert.equal(r.outcome, "refused");
    assert.deepEqual(r.pub.steps(), [{ step: "-3", desc: "replayed release 1.1.0 (counter 5)" }]);
    assert.equal(host.requests.length, 1, "neither signature nor image fetched");
    host.publish("1.1.0", B, KEY, undefined, 6);
    r = check(store, host, "1.0.0");
    assert.equal(r.reboots, 1, "the next counter installs");
  });

  it("refuses a manifest in the HMAC format (signed with a key read from a board): there is no key on the device that signs", () => {
    const store = factory();
    const host = new UpdateHost();
    host.publish("1.1.0", B);
    const m = JSON.parse(host.files[MANIFEST_URL]);
    host.files[MANIFEST_URL] = JSON.stringify({ version: "1.1.0", size: m.size, sha1: "a".repeat(40), url: m.url, signMethod: "hmacsha1", signature: "b".repeat(40) });
    const r = check(store, host, "1.0.0");
    assert.equal(r.outcome, "refused");
    assert.equal(r.reboots, 0);
    assert.equal(Object.keys(store.files).filter((n) => /key|secret/.test(n)).length, 0, "the device holds no signing secret");
  });

  /** B on trial in `store` (installed from A by `host`); returns B's device and OTA. */
  function onTrialB(): { store: FlashStore; host: UpdateHost } {
    const store = factory();
    const host = new UpdateHost();
    host.publish("1.1.0", B);
    assert.equal(check(store, host, "1.0.0").reboots, 1);
    assert.equal(chooseBoot(store)?.trial, true);
    return { store, host };
  }

  it("confirms a trial on its local health check when the endpoint is blocked (requests go out, nothing answers)", () => {
    const { store, host } = onTrialB();
    const dev = fakeHal(store, host);
    host.fault = () => null; // connection refused: the request left the device
    const ota = otaFor(dev.hal, config("1.1.0"), new Publisher());
    ota.health(false);
    assert.equal(store.files["ota.ok"], undefined, "the sensor must answer too");
    dev.hal.net.request({ method: "POST", url: "https://iot.example.com/auth", headers: {}, body: "", timeoutMs: 1, maxBodyBytes: 1 }, () => undefined);
    ota.health(true);
    assert.equal(store.files["ota.ok"], "1.1.0");
    assert.deepEqual(chooseBoot(store), { slot: "fw.b", version: "1.1.0", trial: false });
  });

  it("rolls back a trial that could send nothing (no Wi-Fi) as 'no network', reports it, and offers that version again", () => {
    const { store, host } = onTrialB();
    for (let boot = 0; boot < 3; boot++) {
      if (boot) assert.equal(chooseBoot(store)?.trial, true);
      const dev = fakeHal(store, host);
      dev.hal.net = { request: (_req, done) => done({ kind: "offline", detail: "no Wi-Fi" }, null) };
      const ota = otaFor(dev.hal, config("1.1.0"), new Publisher());
      dev.hal.net.request({ method: "POST", url: "https://iot.example.com/auth", headers: {}, body: "", timeoutMs: 1, maxBodyBytes: 1 }, () => undefined);
      ota.health(true);
      assert.equal(store.files["ota.ok"], undefined);
      assert.equal(store.files["ota.up"], "1.1.0");
    }
    // the boot stage (the one in the field too: OTA never replaces it) records the version only;
    // the sensor-answered mark of the trial tells the firmware why
    assert.deepEqual(chooseBoot(store), { slot: "fw.a", version: "1.0.0", trial: false });
    assert.equal(store.files["ota.rb"], '{"v":"1.1.0"}');
    assert.equal(store.files["ota.up"], "1.1.0");
    // A, network back: reports the rollback, then the same release is offered and installed again.
    const dev = fakeHal(store, host);
    const pub = new Publisher();
    otaFor(dev.hal, config("1.0.0"), pub).afterPublish(0, () => undefined);
    assert.deepEqual(pub.steps()[0], { step: "-1", desc: "rolled back from 1.1.0 (no network)" });
    assert.equal(dev.reboots, 1, "installed again");
    assert.equal(chooseBoot(store)?.version, "1.1.0");
    assert.equal(store.files["ota.up"], undefined, "each trial starts without the mark");
  });

  it("keeps refusing a version that crashed or never read its sensor on trial", () => {
    const { store, host } = onTrialB();
    for (let boot = 1; boot < 3; boot++) chooseBoot(store); // B never got to a health check
    assert.deepEqual(chooseBoot(store), { slot: "fw.a", version: "1.0.0", trial: false });
    assert.equal(store.files["ota.rb"], '{"v":"1.1.0"}');
    const dev = fakeHal(store, host);
    const pub = new Publisher();
    let outcome = "";
    otaFor(dev.hal, config("1.0.0"), pub).afterPublish(0, (o) => { outcome = o; });
    assert.deepEqual(pub.steps(), [{ step: "-1", desc: "rolled back from 1.1.0" }]);
    assert.equal(outcome, "current");
    assert.equal(dev.reboots, 0);
  });

  it("migration: a build carrying the public key stores it; the HMAC key is erased once that build is confirmed", () => {
    const store = new FlashStore({ ".boot0": "boot stage", "fw.a": A, "ota.key": "k".repeat(64) });
    adoptKey(store, "");
    assert.equal(store.files["ota.pub"], undefined);
    adoptKey(store, KEY.pub);
    assert.equal(store.files["ota.pub"], KEY.pub);
    adoptKey(store, "00");
    assert.equal(store.files["ota.pub"], KEY.pub, "an existing key is never replaced");
    // the migration build on trial, confirmed by its health check: the HMAC key goes
    store.files["ota.m0"] = JSON.stringify({ s: 2, c: "fw.b", v: "1.1.0", p: "fw.a", pv: "1.0.0", t: 1, k: 3 });
    const dev = fakeHal(store, new UpdateHost());
    const ota = otaFor(dev.hal, config("1.1.0"), new Publisher());
    assert.equal(store.files["ota.key"], "k".repeat(64), "kept while a rollback to the HMAC firmware is possible");
    passHealth(dev, ota);
    assert.equal(store.files["ota.key"], undefined);
  });
});
