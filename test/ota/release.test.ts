// Release side: the manifest the release tool writes is what the device's own code accepts, the
// key handling refuses to clobber a key, and the local update hosting answers Range requests.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Fastify from "fastify";
import { makeManifest, writeRelease, generateKey, readKey } from "../../build/release";
import { registerUpdates, parseRange } from "../../emulator/cloud/updates";
import { hmacHex } from "../../firmware/crypto/hmac";
import { sha1Hex } from "../../firmware/crypto/sha1";
import { manifestSignedText, parseManifest } from "../../firmware/ota";
import { KEY } from "./fakes";

const ROOT = path.resolve(__dirname, "../..");

describe("ota: release and update hosting", () => {
  let tmp = "";
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ota-release-"));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("signs a manifest the device code verifies (device crypto vs node:crypto)", () => {
    const img = Buffer.from("(()=>{var v='1.2.3';})();\n\u00e9", "utf8");
    const m = makeManifest(img, "1.2.3", KEY, "firmware-1.2.3.js");
    const bytes = img.toString("latin1");
    assert.equal(m.size, img.length);
    assert.equal(m.sha1, sha1Hex(bytes));
    assert.equal(m.signature, hmacHex("hmacsha1", KEY, manifestSignedText("1.2.3", img.length, m.sha1)));
    const m256 = makeManifest(img, "1.2.3", KEY, "x", "hmacsha256");
    assert.equal(m256.signature, hmacHex("hmacsha256", KEY, manifestSignedText("1.2.3", img.length, m.sha1)));
    assert.deepEqual(parseManifest(JSON.stringify(m)), { ok: true, manifest: m });
    assert.throws(() => makeManifest(img, "1.2.3-beta", KEY, "x"), /version/);
    assert.throws(() => makeManifest(img, "1.2.3", "short", "x"), /key/);
  });

  it("writes image and manifest with a relative or absolute URL", () => {
    const out = path.join(tmp, "out");
    const r = writeRelease({ version: "2.0.1", image: Buffer.from("abc"), key: KEY, outDir: out });
    assert.equal(r.manifest.url, "firmware-2.0.1.js");
    assert.equal(fs.readFileSync(path.join(out, "firmware-2.0.1.js"), "latin1"), "abc");
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(out, "manifest.json"), "utf8")), r.manifest);
    const r2 = writeRelease({ version: "2.0.2", image: Buffer.from("abcd"), key: KEY, outDir: out, baseUrl: "https://cdn.example.com/p1/" });
    assert.equal(r2.manifest.url, "https://cdn.example.com/p1/firmware-2.0.2.js");
    assert.ok(fs.existsSync(path.join(out, "firmware-2.0.1.js")), "older images stay");
  });

  it("generates a private key file once and refuses to replace it", () => {
    const f = path.join(tmp, "keys", "ota.key");
    generateKey(f);
    const k = readKey(f);
    assert.match(k, /^[0-9a-f]{64}$/);
    if (process.platform !== "win32") assert.equal(fs.statSync(f).mode & 0o077, 0, "not readable by others");
    assert.throws(() => generateKey(f), /exists/);
    assert.equal(readKey(f), k);
    assert.throws(() => readKey(path.join(tmp, "none.key")), /--gen-key/);
  });

  it("CLI: npm run release -- --image F --version X --key-file K --out D", () => {
    const keyFile = path.join(tmp, "ota.key");
    fs.writeFileSync(keyFile, KEY + "\n");
    const img = path.join(tmp, "fw.js");
    fs.writeFileSync(img, "print(1);");
    const out = path.join(tmp, "rel");
    const tsx = path.join(ROOT, "node_modules", ".bin", "tsx");
    const text = execFileSync(tsx, ["build/release.ts", "--version", "3.0.0", "--image", img, "--key-file", keyFile, "--out", out, "--url", "https://h/ota"], { cwd: ROOT, encoding: "utf8" });
    assert.match(text, /release 3\.0\.0: 9 bytes/);
    const m = JSON.parse(fs.readFileSync(path.join(out, "manifest.json"), "utf8"));
    assert.equal(m.url, "https://h/ota/firmware-3.0.0.js");
    assert.equal(m.signature, crypto.createHmac("sha1", KEY).update(`ota1\n3.0.0\n9\n${m.sha1}`).digest("hex"));
  });

  it("parses single byte ranges (RFC 9110 14.1.2)", () => {
    assert.deepEqual(parseRange("bytes=0-99", 1000), [0, 99]);
    assert.deepEqual(parseRange("bytes=900-", 1000), [900, 999]);
    assert.deepEqual(parseRange("bytes=-100", 1000), [900, 999]);
    assert.deepEqual(parseRange("bytes=990-2000", 1000), [990, 999]);
    assert.equal(parseRange("bytes=1000-1100", 1000), null);
    assert.equal(parseRange("bytes=0-1,5-6", 1000), undefined);
    assert.equal(parseRange(undefined, 1000), undefined);
  });

  it("serves manifest and image with Range, 416 and no path traversal", async () => {
    const dir = path.join(tmp, "rel");
    const img = Buffer.alloc(5000);
    for (let i = 0; i < img.length; i++) img[i] = i & 255;
    writeRelease({ version: "1.0.0", image: img, key: KEY, outDir: dir });
    fs.writeFileSync(path.join(tmp, "secret.txt"), "no");
    const app = Fastify();
    registerUpdates(app, { dir });
    try {
      const man = await app.inject({ method: "GET", url: "/ota/manifest.json" });
      assert.equal(man.statusCode, 200);
      assert.equal(JSON.parse(man.body).size, 5000);
      const part = await app.inject({ method: "GET", url: "/ota/firmware-1.0.0.js", headers: { range: "bytes=4096-8191" } });
      assert.equal(part.statusCode, 206);
      assert.equal(part.headers["content-range"], "bytes 4096-4999/5000");
      assert.deepEqual(part.rawPayload, img.subarray(4096));
      assert.equal(part.headers["content-length"], "904");
      const whole = await app.inject({ method: "GET", url: "/ota/firmware-1.0.0.js" });
      assert.equal(whole.statusCode, 200);
      assert.deepEqual(whole.rawPayload, img);
      const past = await app.inject({ method: "GET", url: "/ota/firmware-1.0.0.js", headers: { range: "bytes=5000-5999" } });
      assert.equal(past.statusCode, 416);
      assert.equal(past.headers["content-range"], "bytes */5000");
      const up = await app.inject({ method: "GET", url: "/ota/..%2Fsecret.txt" });
      assert.equal(up.statusCode, 404);
    } finally {
      await app.close();
    }
  });
});
