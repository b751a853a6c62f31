// SHA-1 (FIPS 180-4), streaming: auth signatures (HMAC-SHA1) and OTA image checks. Self-contained
// instead of built on md.ts: it is the one hash every firmware carries, and the byte budget of
// SHA-1 + HMAC (build/budgets.json) has no room for the shared driver's byte-order generality.
import type { Hasher } from "./md";
import { toHex } from "./bytes";

/** 64 zero bytes, for padding without per-byte string building. */
export let ZEROS = "\0";
while (ZEROS.length < 64) ZEROS += ZEROS;

function wordBytes(x: number): string {
  return String.fromCharCode(x >>> 24, x >> 16 & 255, x >> 8 & 255, x & 255);
}

/** A streaming SHA-1: `update(chunk)` any number of times, then `digestHex()` (or raw `digest()`). */
export function createSha1(): Hasher {
  const h = new Int32Array([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0]);
  const w = new Int32Array(80);
  let buf = "";
  let len = 0;
  const self: Hasher = {
    update: (chunk: string, xorWord?: number) => {
      buf += chunk;
      len += chunk.length;
      // Absent mask: 0, not undefined, so the XOR below stays on the engines' integer path.
      const mask = (xorWord as number) | 0;
      let i = 0;
      // Whole 64-byte blocks; words are read straight from the string, no per-byte copies.
      for (; i + 64 <= buf.length; i += 64) {
        let a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
        for (let j = 0; j < 80; j++) {
          let x = i + j * 4;
          x = j < 16
            ? (buf.charCodeAt(x) << 24 | buf.charCodeAt(x + 1) << 16 | buf.charCodeAt(x + 2) << 8 | buf.charCodeAt(x + 3)) ^ mask
            : w[j - 3] ^ w[j - 8] ^ w[j - 14] ^ w[j - 16];
          w[j] = j < 16 ? x : x << 1 | x >>> 31;
          x = (a << 5 | a >>> 27) + e + w[j] + (j < 20 ? (b & c | ~b & d) + 0x5a827999
            : j < 40 ? (b ^ c ^ d) + 0x6ed9eba1
              : j < 60 ? (b & c | b & d | c & d) - 0x70e44324
                : (b ^ c ^ d) - 0x359d3e2a);
          e = d;
          d = c;
          c = b << 30 | b >>> 2;
          b = a;
          a = x | 0;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
      }
      buf = buf.substr(i);
      return self;
    },
    digest: () => {
      // 0x80, zeros up to 56 mod 64, then the bit length (exact in int32 shifts below 512 MB).
      self.update("\x80" + ZEROS.substr(0, 55 - len & 63) + wordBytes(len >>> 29) + wordBytes(len << 3));
      let out = "";
      for (let i = 0; i < 5; i++) out += wordBytes(h[i]);
      return out;
    },
    digestHex: () => toHex(self.digest()),
  };
  return self;
}

/** SHA-1 of a byte string, lowercase hex. */
export function sha1Hex(msg: string): string {
  return createSha1().update(msg).digestHex();
}
