// LMS/HSS verification (firmware/crypto/lms.ts) against RFC 8554's own test vectors, and the
// release tool's signer (build/lms.ts) against the same vectors: the signer reproduces the RFC's
// Test Case 2 top-level key and signature from its published seed; both sides agree for every
// Winternitz width; any changed byte is refused.
import { strict as assert } from "node:assert";
import * as crypto from "node:crypto";
import { hssVerify, lmsVerify } from "../../firmware/crypto/lms";
import { sha256 } from "../../firmware/crypto/sha256";
import { generateLmsKey, hssPublicKey, hssSignAt, lmsPublicKey, lmsSignAt, lmsTree, otsParams, type LmsKey } from "../../build/lms";
import { RFC8554_VECTORS } from "./lms-vectors";

const bytes = (h: string) => Buffer.from(h, "hex").toString("latin1");
const nodeSha = (s: string) => crypto.createHash("sha256").update(Buffer.from(s, "latin1")).digest("latin1");
const flip = (s: string, i: number) => s.substr(0, i) + String.fromCharCode(s.charCodeAt(i) ^ 1) + s.substr(i + 1);

describe("LMS / HSS (RFC 8554)", () => {
  for (const v of RFC8554_VECTORS) {
    describe(v.name, () => {
      const pub = bytes(v.pub);
      const sig = bytes(v.sig);
      it("verifies with the firmware's SHA-256 and with node:crypto's", () => {
        assert.equal(hssVerify(pub, v.msg, sig, sha256), true);
        assert.equal(hssVerify(pub, v.msg, sig, nodeSha), true);
      });
      it("refuses another message, a changed byte anywhere in the signature or key, and a cut signature", () => {
        assert.equal(hssVerify(pub, v.msg + " ", sig, nodeSha), false);
        // every 97th byte: C, chains, path, the signed second-level key, types and q
        for (let i = 0; i < sig.length; i += 97) assert.equal(hssVerify(pub, v.msg, flip(sig, i), nodeSha), false, "byte " + i);
        for (const i of [0, 3, 4, 7, 8, 11, 12, 40, sig.length - 1]) assert.equal(hssVerify(pub, v.msg, flip(sig, i), nodeSha), false, "byte " + i);
        for (let i = 0; i < pub.length; i += 7) assert.equal(hssVerify(flip(pub, i), v.msg, sig, nodeSha), false, "key byte " + i);
        assert.equal(hssVerify(pub, v.msg, sig.substr(0, sig.length - 1), nodeSha), false);
        assert.equal(hssVerify(pub, v.msg, sig + "\0", nodeSha), false);
        assert.equal(hssVerify(pub, v.msg, "", nodeSha), false);
      });
    });
  }

  it("the release signer reproduces RFC 8554 Test Case 2's top-level key (from its SEED and I) and its signature of the second-level key", () => {
    // RFC 8554 Appendix F, Test Case 2, top-level private key: LMS_SHA256_M32_H10 / LMOTS_SHA256_N32_W4
    const k: LmsKey = { lmsType: 6, otsType: 3, q: 0,
      id: Buffer.from("d08fabd4a2091ff0a8cb4ed834e74534", "hex"),
      seed: Buffer.from("558b8966c48ae9cb898b423c83443aae014a72f1b1ab5cc85cf1d892903b5439", "hex") };
    const nodes = lmsTree(k);
    const v = RFC8554_VECTORS[1];
    assert.equal(lmsPublicKey(k, nodes).toString("hex"), v.pub.slice(8));
    const sig = Buffer.from(v.sig, "hex");
    const top = sig.subarray(4, 4 + 12 + 32 * (67 + 1 + 10));
    const second = sig.subarray(top.length + 4, top.length + 4 + 56);
    // same leaf (q = 3) and the RFC's randomizer C: byte-identical
    assert.equal(top.readUInt32BE(0), 3);
    assert.ok(lmsSignAt(k, 3, second, top.subarray(8, 40), nodes).equals(top));
  }).timeout(120000);

  for (const ots of [1, 2, 3, 4]) {
    const { w, p } = otsParams(ots);
    it(`signer and verifier agree for LM-OTS W${w} (p = ${p}) with an H5 tree, single LMS and one-level HSS`, () => {
      const k = generateLmsKey(5, ots);
      const nodes = lmsTree(k);
      const pub = hssPublicKey(k, nodes).toString("latin1");
      for (const q of [0, 13, 31]) {
        const msg = "ota2\n1.2." + q + "\n" + (q + 1) + "\n1000\n" + "ab".repeat(32);
        const sig = hssSignAt(k, q, Buffer.from(msg, "latin1"), undefined, nodes).toString("latin1");
        assert.equal(sig.length, 4 + 12 + 32 * (p + 1 + 5));
        assert.equal(hssVerify(pub, msg, sig, sha256), true);
        assert.equal(hssVerify(pub, msg + "x", sig, nodeSha), false);
        assert.equal(lmsVerify(pub.substr(4), msg, sig.substr(4), nodeSha), true);
      }
      assert.throws(() => hssSignAt(k, 32, Buffer.from("x"), undefined, nodes), /leaf 32/);
    });
  }

  it("refuses a signature whose types differ from the key's (another tree height or LM-OTS width)", () => {
    const a = generateLmsKey(5, 3);
    const b = generateLmsKey(5, 4);
    const na = lmsTree(a);
    const pubA = hssPublicKey(a, na).toString("latin1");
    const sigB = hssSignAt(b, 0, Buffer.from("m"), undefined, lmsTree(b)).toString("latin1");
    assert.equal(hssVerify(pubA, "m", sigB, nodeSha), false);
    // a public key of two levels with a one-level signature
    assert.equal(hssVerify("\0\0\0\x02" + pubA.substr(4), "m", hssSignAt(a, 0, Buffer.from("m"), undefined, na).toString("latin1"), nodeSha), false);
  });
});
