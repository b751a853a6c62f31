// In-house crypto from the sources: published vectors, streaming, UTF-8, and random inputs
// compared with Node's crypto (tests only).
import { strict as assert } from "node:assert";
import * as nodeCrypto from "node:crypto";
import { hmacHex, signMethodBuilt } from "../../firmware/crypto/hmac";
import { sha1Hex, createSha1 } from "../../firmware/crypto/sha1";
import { createMd5 } from "../../firmware/crypto/md5";
import { createSha256 } from "../../firmware/crypto/sha256";
import { toHex, utf8Encode } from "../../firmware/crypto/bytes";
import { SHA1_VECTORS, SHA1_MILLION_A, HMAC_VECTORS, EDGE_LENGTHS, randomBytes } from "./vectors";

const NODE_HASH: { [method: string]: string } = { hmacsha1: "sha1", hmacmd5: "md5", hmacsha256: "sha256" };
const bytes = (s: string) => Buffer.from(s, "latin1");
const nodeHmac = (method: string, key: string, msg: string) =>
  nodeCrypto.createHmac(NODE_HASH[method], bytes(key)).update(bytes(msg)).digest("hex");

describe("crypto: SHA-1", () => {
  for (const v of SHA1_VECTORS) {
    it(`FIPS 180 / RFC 3174: ${v.name}`, () => assert.equal(sha1Hex(v.msg), v.hex));
  }
  it("one million 'a'", () => assert.equal(sha1Hex("a".repeat(1000000)), SHA1_MILLION_A));

  it("streaming in uneven chunks equals the one-shot digest", () => {
    const msg = randomBytes(5000, 7);
    const s = createSha1();
    for (let i = 0, step = 1; i < msg.length; i += step, step = (step * 7 + 3) % 150) s.update(msg.substr(i, step));
    assert.equal(s.digestHex(), nodeCrypto.createHash("sha1").update(bytes(msg)).digest("hex"));
  });

  it("raw digest is 20 bytes that hex-encode to the hex digest", () => {
    const raw = createSha1().update("abc").digest();
    assert.equal(raw.length, 20);
    assert.equal(toHex(raw), "a9993e364706816aba3e25717850c26c9cd0d89d");
  });
});

describe("crypto: MD5 and SHA-256 against Node", () => {
  for (const n of EDGE_LENGTHS) {
    it(`length ${n}`, () => {
      const msg = randomBytes(n, n + 11);
      assert.equal(createMd5().update(msg).digestHex(), nodeCrypto.createHash("md5").update(bytes(msg)).digest("hex"));
      assert.equal(createSha256().update(msg).digestHex(), nodeCrypto.createHash("sha256").update(bytes(msg)).digest("hex"));
    });
  }
});

describe("crypto: HMAC", () => {
  for (const v of HMAC_VECTORS) {
    it(v.name, () => {
      const hex = hmacHex(v.method, v.key, v.msg);
      assert.equal(v.truncatedTo ? hex.substr(0, v.truncatedTo) : hex, v.hex);
    });
  }

  it("random messages of every length 0..300 and keys up to 150 bytes match Node (all three methods)", () => {
    for (let n = 0; n <= 300; n++) {
      const msg = randomBytes(n, 1000 + n);
      const key = randomBytes((n * 37) % 151, 5000 + n);
      for (const method of Object.keys(NODE_HASH)) {
        assert.equal(hmacHex(method, key, msg), nodeHmac(method, key, msg), `${method} msg ${n} key ${key.length}`);
      }
    }
  });

  it("keys of 63, 64, 65 and 200 bytes (block-size edges) match Node", () => {
    for (const k of [0, 63, 64, 65, 200]) {
      for (const n of EDGE_LENGTHS) {
        const key = randomBytes(k, k + 1), msg = randomBytes(n, n + 3);
        for (const method of Object.keys(NODE_HASH)) assert.equal(hmacHex(method, key, msg), nodeHmac(method, key, msg));
      }
    }
  });

  it("all three methods are built when the sources run without build flags", () => {
    for (const m of Object.keys(NODE_HASH)) assert.equal(signMethodBuilt(m), true);
  });

  it("an unknown method is not built and throws an Error naming it", () => {
    assert.equal(signMethodBuilt("hmacsha512"), false);
    assert.equal(signMethodBuilt("constructor"), false);
    assert.throws(() => hmacHex("hmacsha512", "k", "m"), (e: Error) => e instanceof Error && e.message.includes("hmacsha512"));
  });
});

describe("crypto: byte helpers", () => {
  it("toHex is lowercase, two digits per byte", () => assert.equal(toHex("\x00\x0f\xff\xa0"), "000fffa0"));

  it("utf8Encode matches Node for ASCII, 2-, 3- and 4-byte characters", () => {
    for (const s of ["", "plain", "温度 23.5 °C", "é", "€", "😀 ok", "a\u07ffb\u0800c\uffff"]) {
      assert.equal(utf8Encode(s), Buffer.from(s, "utf8").toString("latin1"), JSON.stringify(s));
    }
  });

  it("utf8Encode turns a lone surrogate into U+FFFD, as Node does", () => {
    for (const s of ["\ud800", "x\udc00y", "\ud83d"]) assert.equal(utf8Encode(s), Buffer.from(s, "utf8").toString("latin1"));
  });

  it("HMAC over UTF-8 bytes of a non-ASCII message matches Node", () => {
    const msg = "deviceName温湿度";
    assert.equal(hmacHex("hmacsha1", "secret", utf8Encode(msg)),
      nodeCrypto.createHmac("sha1", "secret").update(msg, "utf8").digest("hex"));
  });
});
