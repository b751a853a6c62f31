// Release side: the manifest and signature the release tool writes are what the device's own code
// accepts, the LMS state never lets a leaf sign twice, the key handling refuses to clobber a key,
// the HMAC migration release is what HMAC-era firmware checks, and the local update hosting
// answers Range requests.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Fastify from "fastify";
import { generateSigningKey, makeManifest, publicKeyFile, readState, signNext, writeRelease, writeState, hmacSignedText } from "../../build/release";
import { registerUpdates, parseRange } from "../../emulator/cloud/updates";
import { hssVerify } from "../../firmware/crypto/lms";
import { manifestSignedText, parseManifest } from "../../firmware/ota";

const ROOT = path.resolve(__dirname, "../..");
const nodeSha = (s: string) => crypto.createHash("sha256").update(Buffer.from(s, "latin1")).digest("latin1");
const hex = (b: Buffer) => b.toString("latin1");

describe("ota: release and update hosting", () => {
  let tmp = "";
  let keyFile = "";
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ota-release-"));
    keyFile = path.join(tmp, "keys", "p1.lms.key");
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("signs a manifest and signature file that the device's verifier accepts (image hash by node:crypto)", () => {
    const pubHex = generateSigningKey(keyFile, 5, 3);
    const img = Buffer.from("(()=>{var v='1.2.3';})();\n\u00e9", "utf8");
    const out = path.join(tmp, "out");
    const r = writeRelease({ version: "1.2.3", image: img, keyFile, outDir: out });
    const m = JSON.parse(fs.readFileSync(r.manifestFile, "utf8"));
    assert.deepEqual(parseManifest(JSON.stringify(m)), { ok: true, manifest: m });
    assert.equal(m.size, img.length);
    assert.equal(m.sha256, crypto.createHash("sha256").update(img).digest("hex"));
    assert.equal(m.counter, 1);
    assert.equal(m.url, "firmware-1.2.3.js");
    assert.equal(m.sig, "firmware-1.2.3.sig");
    const sig = fs.readFileSync(path.join(out, m.sig));
    // RFC 8554 6.2: HSS with one level: Nspk 0, then the LMS signature (H5, W4: 4 + 12 + 32 * (67 + 1 + 5))
    assert.equal(sig.length, 4 + 12 + 32 * 73);
    assert.equal(sig.readUInt32BE(0), 0);
    assert.equal(fs.readFileSync(publicKeyFile(keyFile), "latin1").trim(), pubHex);
    const pub = hex(Buffer.from(pubHex, "hex"));
    const text = manifestSignedText(m.version, m.counter, m.size, m.sha256);
    assert.equal(text, "ota2\n1.2.3\n1\n" + img.length + "\n" + m.sha256);
    assert.equal(hssVerify(pub, text, hex(sig), nodeSha), true);
    assert.equal(hssVerify(pub, manifestSignedText(m.version, m.counter + 1, m.size, m.sha256), hex(sig), nodeSha), false);
    assert.throws(() => makeManifest(img, "1.2.3-beta", 1, "x", "y"), /version/);
  });

  it("never signs twice with a leaf: the advanced state is on disk before the signature exists; counts down; stops when used up", () => {
    generateSigningKey(keyFile, 5, 3);
    assert.equal(readState(keyFile).key.q, 0);
    // a signer that dies while signing (after the state write) has still used up its leaf
    assert.throws(() => signNext(keyFile, () => { throw new Error("crash while signing"); }), /crash/);
    assert.equal(readState(keyFile).key.q, 1);
    assert.equal(readState(keyFile).counter, 1);
    const a = signNext(keyFile, () => Buffer.from("a"));
    const b = signNext(keyFile, () => Buffer.from("b"));
    assert.deepEqual([a.sig.readUInt32BE(4), b.sig.readUInt32BE(4)], [1, 2], "leaf q of each signature");
    assert.deepEqual([a.counter, b.counter, a.left, b.left], [2, 3, 30, 29]);
    const s = readState(keyFile);
    writeState(keyFile, { key: { ...s.key, q: 31 }, counter: s.counter });
    assert.equal(signNext(keyFile, () => Buffer.from("last")).left, 0);
    assert.throws(() => signNext(keyFile, () => Buffer.from("one more")), /all 32 signatures are used/);
    if (process.platform !== "win32") assert.equal(fs.statSync(keyFile).mode & 0o077, 0, "not readable by others");
  });

  it("generates a private key file once (mode 0600) and refuses to replace it; git ignores it", () => {
    const pub = generateSigningKey(keyFile, 5, 3);
    assert.match(pub, /^000000010000000500000003[0-9a-f]{96}$/, "HSS L=1, LMS_SHA256_M32_H5, LMOTS_SHA256_N32_W4, then I and the root");
    if (process.platform !== "win32") assert.equal(fs.statSync(keyFile).mode & 0o077, 0, "not readable by others");
    assert.throws(() => generateSigningKey(keyFile, 5, 3), /exists/);
    assert.equal(fs.readFileSync(publicKeyFile(keyFile), "latin1").trim(), pub);
    for (const f of ["ota-lms.key", "keys/p1.lms.key", "ota.key"]) {
      execFileSync("git", ["check-ignore", "-q", f], { cwd: ROOT });
    }
  });

  it("CLI: --gen-key, a release that prints the signatures left, --status, and the HMAC migration release", () => {
    const tsx = path.join(ROOT, "node_modules", ".bin", "tsx");
    const run = (...args: string[]) => execFileSync(tsx, ["build/release.ts", ...args], { cwd: ROOT, encoding: "utf8" });
    assert.match(run("--gen-key", "--key-file", keyFile, "--height", "5"), /32 signatures/);
    const pub = fs.readFileSync(publicKeyFile(keyFile), "latin1").trim();
    const img = path.join(tmp, "fw.js");
    fs.writeFileSync(img, "print(1);");
    const out = path.join(tmp, "rel");
    const text = run("--version", "3.0.0", "--image", img, "--key-file", keyFile, "--out", out, "--url", "https://h/ota");
    assert.match(text, /release 3\.0\.0: 9 bytes/);
    assert.match(text, /signatures left: 31/);
    const m = JSON.parse(fs.readFileSync(path.join(out, "manifest.json"), "utf8"));
    assert.equal(m.url, "https://h/ota/firmware-3.0.0.js");
    assert.equal(m.sig, "https://h/ota/firmware-3.0.0.sig");
    assert.equal(hssVerify(hex(Buffer.from(pub, "hex")), manifestSignedText("3.0.0", 1, 9, m.sha256), hex(fs.readFileSync(path.join(out, "firmware-3.0.0.sig"))), nodeSha), true);
    assert.match(run("--status", "--key-file", keyFile), /31 of 32 signatures left, last release counter 1/);

    // Migration: an image carrying the public key, under the manifest HMAC-era firmware checks.
    const hmacKey = "0123456789abcdef".repeat(4);
    const hmacFile = path.join(tmp, "ota.key");
    fs.writeFileSync(hmacFile, hmacKey + "\n");
    const migImg = path.join(tmp, "mig.js");
    fs.writeFileSync(migImg, `var v="3.1.0",k="${pub}";`);
    const migOut = path.join(tmp, "mig");
    assert.match(run("--version", "3.1.0", "--image", migImg, "--key-file", keyFile, "--out", migOut, "--migrate", hmacFile), /migration/);
    const mm = JSON.parse(fs.readFileSync(path.join(migOut, "manifest.json"), "utf8"));
    const bytes = fs.readFileSync(migImg);
    assert.equal(mm.sha1, crypto.createHash("sha1").update(bytes).digest("hex"));
    assert.equal(hmacSignedText("3.1.0", bytes.length, mm.sha1), `ota1\n3.1.0\n${bytes.length}\n${mm.sha1}`);
    assert.equal(mm.signature, crypto.createHmac("sha1", hmacKey).update(`ota1\n3.1.0\n${bytes.length}\n${mm.sha1}`).digest("hex"));
    assert.equal(mm.signMethod, "hmacsha1");
    // an image without the public key would strand the fleet: refused
    assert.throws(() => run("--version", "3.1.1", "--image", img, "--key-file", keyFile, "--out", migOut, "--migrate", hmacFile), /public key/);
    assert.match(run("--status", "--key-file", keyFile), /31 of 32/, "the migration release uses no LMS signature");
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
    generateSigningKey(keyFile, 5, 3);
    writeRelease({ version: "1.0.0", image: img, keyFile, outDir: dir });
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
      const sig = await app.inject({ method: "GET", url: "/ota/firmware-1.0.0.sig" });
      assert.equal(sig.statusCode, 200);
      assert.deepEqual(sig.rawPayload, fs.readFileSync(path.join(dir, "firmware-1.0.0.sig")));
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
